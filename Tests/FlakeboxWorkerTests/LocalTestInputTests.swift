import FlakeboxTestSupport
import Foundation
import Testing

extension WorkerTests {
    /// The SDK's local test modes (docs/RUNPOD_PROTOCOL.md §16.1–16.2): one job from
    /// `./test_input.json` or `--test_input`, its result in the log, the exit code saying how it went.
    @Suite(
        "local test input: a job",
        .enabled(
            if: WorkerTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
        .timeLimit(.minutes(3)))
    struct LocalTestInputTests {
        @Test("./test_input.json without RUNPOD_WEBHOOK_GET_JOB: runs as local_test, the result in the log, exit 0")
        func testInputFile() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "[ $((TEST_SEED % 2)) -eq 0 ]\n"])
                let input = WorkerHarness.jobInput(repo: repo.path)
                try Data(JSON.encode(["input": input])).write(
                    to: URL(fileURLWithPath: harness.directory + "/test_input.json"))
                let worker = try harness.startWorker(["--allow-local-repos"], environment: harness.baseEnvironment)
                let termination = try await harness.waitForExit(worker, timeout: 120)

                #expect(termination == .exited(0), "\(worker.logTail)")
                let summary = try #require(
                    JSON.firstObject(withKey: "total_runs", inLog: worker.stdout), "no result in\n\(worker.logTail)")
                #expect(summary["total_runs"] as? Int == 2)
                #expect(summary["failures"] as? Int == 1)
                #expect(worker.stdout.contains("local_test"), "\(worker.logTail)")
            }
        }

        @Test("--test_input wins even with RUNPOD_WEBHOOK_GET_JOB set: its id honoured, no request to the platform")
        func testInputFlag() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "true\n"])
                let json = String(
                    decoding: JSON.encode(["id": "my-local-id", "input": WorkerHarness.jobInput(repo: repo.path)]),
                    as: UTF8.self)
                let worker = try harness.startWorker(
                    ["--allow-local-repos", "--test_input", json], environment: harness.productionEnvironment())
                let termination = try await harness.waitForExit(worker, timeout: 120)
                let traffic = await harness.server.traffic

                #expect(termination == .exited(0), "\(worker.logTail)")
                let summary = try #require(
                    JSON.firstObject(withKey: "total_runs", inLog: worker.stdout), "no result in\n\(worker.logTail)")
                #expect(summary["total_runs"] as? Int == 2)
                #expect(summary["failures"] as? Int == 0)
                #expect(worker.stdout.contains("my-local-id"), "\(worker.logTail)")
                #expect(traffic.requests.isEmpty, "local test mode talked to the platform\n\(traffic)")
            }
        }
    }

    /// The local test modes' refusals: no job to run, or a job whose result is an error.
    @Suite(
        "local test input: exit 1",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox and flakebox-sandbox"),
        .timeLimit(.minutes(2)))
    struct LocalTestInputFailureTests {
        struct Case: Sendable, CustomTestStringConvertible {
            var name: String
            /// The contents of ./test_input.json; nil: no such file.
            var file: String?
            /// A `--test_input` value.
            var flag: String?
            var testDescription: String { name }
        }

        static let cases = [
            Case(name: "no test_input.json"),
            Case(name: "input null", file: #"{"input": null}"#),
            Case(name: "no input", file: #"{"id": "x"}"#),
            Case(name: "bad input in the file", file: #"{"input": {"test_command": "true", "runs": 0}}"#),
            Case(name: "bad input in --test_input", flag: #"{"input": {"test_command": "true", "runs": 0}}"#),
            Case(
                name: "a repository that does not exist",
                file: #"{"input": {"repo": "/nonexistent/flakebox-local", "test_command": "true", "runs": 2}}"#),
        ]

        @Test("exit 1", arguments: cases)
        func exitsOne(_ testCase: Case) async throws {
            try await WorkerHarness.run { harness in
                if let file = testCase.file {
                    try Data(file.utf8).write(to: URL(fileURLWithPath: harness.directory + "/test_input.json"))
                }
                let flag = testCase.flag.map { ["--test_input", $0] } ?? []
                let worker = try harness.startWorker(
                    ["--allow-local-repos"] + flag, environment: harness.baseEnvironment)
                let termination = try await harness.waitForExit(worker, timeout: 60)
                #expect(termination == .exited(1), "\(worker.logTail)")
            }
        }
    }
}
