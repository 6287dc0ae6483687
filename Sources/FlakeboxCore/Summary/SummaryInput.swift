import FlakeboxSandbox
import Foundation

/// Everything `Summarizer` needs to describe a finished (or stopped) job.
public struct SummaryInput: Sendable {
    /// Replaced by the seed in `replayTemplate`.
    public static let seedPlaceholder = "{seed}"
    /// Replaced by the attempt index (0-based) in `replayTemplate`.
    public static let attemptPlaceholder = "{attempt}"

    public var job: JobInput
    /// Every attempt that was started, in any order (the summary sorts them by `attempt`).
    public var records: [AttemptRecord]
    /// Every requested run was made (false after a deadline, an early stop or a cancel).
    public var complete: Bool
    /// Why the job is not complete, as a sentence fragment the user reads, e.g.
    /// "deadline_s reached after 37 of 200 runs", "stopped after 5 failures (stop_after_failures)",
    /// "cancelled".
    public var incompleteReason: String?
    public var isolation: IsolationReport
    public var timings: JobTimings
    public var setup: SetupReport?
    /// The commit the checkout was at.
    public var commit: String?
    /// What of a local working tree was taken.
    public var workingTree: WorkingTreeSnapshot?
    public var flakeboxVersion: String
    /// A shell command that replays one attempt, with `{seed}` (and optionally `{attempt}`) where
    /// its values go; the summary's `replay` is this with the first failing seed filled in.
    ///
    /// The caller knows best how its user reruns an attempt (the CLI: `flakebox run … --seed-start
    /// {seed} --runs 1`; the worker: a job input), so it passes its own; the default,
    /// `defaultReplayTemplate(testCommand:)`, runs the test command directly with the variables
    /// every attempt gets.
    public var replayTemplate: String
    /// The attempts' memory limit, so that an `oom` is explained by the limit it hit.
    public var memoryLimitBytes: UInt64? = nil
    /// The memory admission of the job's attempts (parallelism and budget).
    public var memoryAdmission: MemoryAdmission? = nil
    /// The classification phase's findings; nil when it did not run.
    public var classification: ClassificationReport?
    /// A flaky job's first failing seed replayed (`JobRunner.replayFirstFailure`); nil when not checked.
    public var seedReplay: SeedReplay? = nil
    /// Interference mode's runs in one shared checkout; nil when the job did not ask.
    public var sharedRuns: SharedRuns? = nil
    /// The attempts' CPU quota (cores), which stress noise shares with the test.
    public var cpuLimit: Double? = nil

    /// - Parameters:
    ///   - replayTemplate: see `replayTemplate`; nil: `defaultReplayTemplate(testCommand: job.testCommand)`.
    public init(
        job: JobInput, records: [AttemptRecord], complete: Bool, incompleteReason: String? = nil,
        isolation: IsolationReport, timings: JobTimings = JobTimings(), setup: SetupReport? = nil,
        commit: String? = nil, flakeboxVersion: String = FlakeboxVersion.current, replayTemplate: String? = nil
    ) {
        self.job = job
        self.records = records
        self.complete = complete
        self.incompleteReason = incompleteReason
        self.isolation = isolation
        self.timings = timings
        self.setup = setup
        self.commit = commit
        self.flakeboxVersion = flakeboxVersion
        self.replayTemplate = replayTemplate ?? Self.defaultReplayTemplate(testCommand: job.testCommand)
    }

    /// `TEST_SEED={seed} ATTEMPT={attempt} /bin/sh -c '<test command>'`, the test command quoted
    /// for a POSIX shell: what an attempt runs, outside the sandbox, in the checkout.
    public static func defaultReplayTemplate(testCommand: String) -> String {
        "TEST_SEED=\(seedPlaceholder) ATTEMPT=\(attemptPlaceholder) /bin/sh -c \(SummaryFormat.shellQuoted(testCommand))"
    }

    /// `replayTemplate` with `seed` and `attempt` filled in.
    public func replayCommand(seed: UInt64, attempt: Int) -> String {
        replayTemplate
            .replacingOccurrences(of: Self.seedPlaceholder, with: String(seed))
            .replacingOccurrences(of: Self.attemptPlaceholder, with: String(attempt))
    }
}
