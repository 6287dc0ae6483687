import FlakeboxSandbox

/// One finished attempt of a job: which one, its seed, how it ended, and the JUnit XML reports
/// it left (raw bytes, read from inside the sandbox with size caps; untrusted).
public struct AttemptRecord: Sendable, Equatable {
    /// 0-based, in the order attempts were started.
    public var attempt: Int
    public var seed: UInt64
    public var result: AttemptResult
    public var junitReports: [[UInt8]]
    /// What the test runner's plugin said it did (pytest: what the seed reached, the order run);
    /// nil when it left no report.
    public var runnerReport: RunnerReport?
    /// Set when the job's `failure_pattern`/`ignore_pattern` discounted this attempt's failure:
    /// `result.status` is then `passed` and this keeps the status it ended with.
    public var filtered: FilteredFailure?

    public init(attempt: Int, seed: UInt64, result: AttemptResult, junitReports: [[UInt8]] = []) {
        self.attempt = attempt
        self.seed = seed
        self.result = result
        self.junitReports = junitReports
    }
}
