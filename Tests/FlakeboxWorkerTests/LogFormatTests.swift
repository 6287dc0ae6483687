import FlakeboxTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension WorkerTests {
    /// The log format on RunPod (docs/RUNPOD_PROTOCOL.md §15).
    @Suite(
        "logs",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox and flakebox-sandbox"),
        .timeLimit(.minutes(2)))
    struct LogFormatTests {
        @Test("with RUNPOD_ENDPOINT_ID set, every stdout line is {\"requestId\", \"message\", \"level\"}")
        func jsonLines() async throws {
            try await WorkerHarness.run { harness in
                await harness.server.queueJobTakes([
                    .job(id: "job-logs", input: ["test_command": "true", "runs": 0])
                ])
                let worker = try harness.startProductionWorker(extraEnvironment: [
                    "RUNPOD_ENDPOINT_ID": "ep-\(harness.podID)"
                ])
                try await harness.waitFor("the job's result") { !$0.results(for: "job-logs").isEmpty }
                worker.send(SIGTERM)
                #expect(try await harness.waitForExit(worker) == .exited(0))

                let lines = worker.stdout.split(separator: "\n", omittingEmptySubsequences: true)
                #expect(!lines.isEmpty)
                var jobLines = 0
                for line in lines {
                    guard let object = JSON.object(String(line)) else {
                        Issue.record("not a JSON object: \(line)")
                        continue
                    }
                    #expect(Set(object.keys) == ["requestId", "message", "level"], "\(line)")
                    #expect(object["requestId"] is String || object["requestId"] is NSNull, "\(line)")
                    #expect(object["message"] is String, "\(line)")
                    let level = object["level"] as? String ?? ""
                    #expect(["TRACE", "DEBUG", "INFO", "WARN", "ERROR"].contains(level), "\(line)")
                    if object["requestId"] as? String == "job-logs" { jobLines += 1 }
                }
                #expect(jobLines > 0, "no line names the job:\n\(worker.stdout)")
            }
        }
    }
}
