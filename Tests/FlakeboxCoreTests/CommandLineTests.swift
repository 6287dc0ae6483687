import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

/// Runs the built `flakebox` executable on a thread of its own (a job takes seconds, and blocking
/// one of the cooperative pool's two threads here would starve the other suites' timing);
/// returns its exit code, stdout and stderr.
func flakebox(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await withCheckedThrowingContinuation { continuation in
        DetachedThread.start {
            continuation.resume(with: Result { try runFlakebox(arguments) })
        }
    }
}

private func runFlakebox(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = HelperLocator.executableDirectory().appendingPathComponent("flakebox")
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting: a full pipe would otherwise block the child forever.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

@Suite(
    "flakebox run and replay",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct CommandLineTests {
    @Test("--json prints exactly the worker's summary; the exit code says flaky")
    func runJSON() async throws {
        let repo = try TestRepository(files: ["t.sh": "[ $((TEST_SEED % 3)) -ne 0 ]\n"])
        let run = try await flakebox([
            "run", "--repo", repo.path, "--runs", "6", "--parallelism", "3", "--json", "--", "sh", "t.sh",
        ])
        #expect(run.status == 1, "\(run.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        for key in ["total_runs", "parallelism", "failures", "repro_rate", "results"] {
            #expect(object?[key] != nil, "missing \(key)")
        }
        #expect(object?["failures"] as? Int == 2)
    }

    @Test("bad input exits 64 and names each problem")
    func badInput() async throws {
        let run = try await flakebox(["run", "--repo=--upload-pack=x", "--runs", "0", "--", "true"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("repo:") && run.stderr.contains("runs:"), "\(run.stderr)")
    }

    @Test("replay reruns one seed and shows its output")
    func replay() async throws {
        let repo = try TestRepository(files: [
            "t.sh": "echo \"seed=$TEST_SEED attempt=$ATTEMPT\"; [ $TEST_SEED -ne 7 ]\n"
        ])
        let run = try await flakebox([
            "replay", "--repo", repo.path, "--seed", "7", "--attempt", "3", "--", "sh", "t.sh",
        ])
        #expect(run.status == 1)
        #expect(run.stdout.contains("seed=7 attempt=3"), "\(run.stdout) \(run.stderr)")
    }
}
