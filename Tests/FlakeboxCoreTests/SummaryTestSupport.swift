import FlakeboxCore
import FlakeboxSandbox
import Foundation
import Testing

/// Builders for summary tests: attempts are plain values, no process runs.
enum SummaryFixtures {
    static let isolation: IsolationReport = {
        let json = """
            {"tier": "reduced", "kernel": "6.1.0", "rootless": false, "cgroupsUsable": false,
             "layers": [{"name": "namespaces", "available": true, "detail": "user, mount, pid"},
                        {"name": "cgroups", "available": false, "detail": "no writable hierarchy"}]}
            """
        return try! JSONDecoder().decode(IsolationReport.self, from: Data(json.utf8))
    }()

    static func output(_ text: String) -> CapturedOutput {
        output(Array(text.utf8))
    }

    static func output(_ bytes: [UInt8]) -> CapturedOutput {
        CapturedOutput(head: bytes, tail: [], totalBytes: UInt64(bytes.count))
    }

    static func result(
        _ status: AttemptStatus, exitCode: Int32? = nil, signal: Int32? = nil, stdout: CapturedOutput? = nil,
        stderr: CapturedOutput? = nil, seconds: Double = 1, setupFailure: AttemptResult.SetupFailure? = nil
    ) -> AttemptResult {
        AttemptResult(
            status: status, exitCode: exitCode ?? (status == .passed ? 0 : status == .failed ? 1 : nil), signal: signal,
            setupFailure: setupFailure, wallSeconds: seconds, cpuSeconds: seconds / 2, peakMemoryBytes: 1 << 20,
            stdout: stdout ?? output(""), stderr: stderr ?? output(""), tier: .reduced)
    }

    static func record(
        _ attempt: Int, _ status: AttemptStatus, exitCode: Int32? = nil, signal: Int32? = nil, stdout: String = "",
        stderr: String = "", seconds: Double = 1, junit: [String] = []
    ) -> AttemptRecord {
        AttemptRecord(
            attempt: attempt, seed: 1000 + UInt64(attempt),
            result: result(
                status, exitCode: exitCode, signal: signal, stdout: output(stdout), stderr: output(stderr),
                seconds: seconds,
                setupFailure: status == .sandboxError ? .init(stage: "execve", errno: 2) : nil),
            junitReports: junit.map { Array($0.utf8) })
    }

    static func job(runs: Int = 10, parallelism: Int = 2, budget: Int = 4 << 20) -> JobInput {
        JobInput(
            repo: "https://example.com/repo.git", testCommand: "python3 -m pytest -q", runs: runs,
            parallelism: parallelism, seedStart: 1000, summaryBudgetBytes: budget)
    }

    static func input(
        _ records: [AttemptRecord], runs: Int? = nil, budget: Int = 4 << 20, complete: Bool = true,
        incompleteReason: String? = nil, replayTemplate: String? = nil
    ) -> SummaryInput {
        SummaryInput(
            job: job(runs: runs ?? records.count, budget: budget), records: records, complete: complete,
            incompleteReason: incompleteReason, isolation: isolation,
            timings: JobTimings(cloneSeconds: 1.5, setupSeconds: 2, runSeconds: 10, totalSeconds: 13.5),
            commit: "0123456789abcdef", flakeboxVersion: "9.9.9", replayTemplate: replayTemplate)
    }

    static func summarize(_ records: [AttemptRecord], budget: Int = 4 << 20) -> JobSummary {
        Summarizer.summarize(input(records, budget: budget))
    }

    /// The summary's JSON as Foundation objects.
    static func object(_ summary: JobSummary) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: summary.encodedJSON())
        return try #require(object as? [String: Any])
    }

    static func results(_ object: [String: Any]) throws -> [[String: Any]] {
        try #require(object["results"] as? [[String: Any]])
    }

    /// The keys every `results` entry has.
    static let resultKeys: Set<String> = [
        "attempt", "seed", "exit_code", "status", "duration_s", "stdout", "stderr", "stdout_dropped_bytes",
        "stderr_dropped_bytes", "cpu_s", "peak_memory_bytes",
    ]
}
