import FlakeboxSandbox
import Foundation
import Synchronization

/// Runs a job end to end: fetch once, prepare once, run N attempts at most P at a time, each in
/// its own sandbox, and summarize.
public struct JobRunner: Sendable {
    public struct Options: Sendable {
        public var policies: PolicyStore
        /// Where checkouts are made (one directory per job, removed at the end).
        public var workRoot: String
        public var sandbox: Sandbox.Options
        /// Called after every attempt and at each phase; from any task.
        public var progress: (@Sendable (JobProgress) -> Void)?
        /// Called with every finished attempt, in completion order.
        public var attemptFinished: (@Sendable (AttemptRecord) -> Void)?
        /// Replaces the `flakebox replay …` line in summaries (the worker and service know their own).
        public var replayTemplate: String?
        /// The number of the first attempt (a replay shows the attempt number it replays).
        public var firstAttempt: Int
        /// Sees every attempt's output as it arrives (attempt number, stream, bytes).
        public var outputObserver: (@Sendable (Int, StandardStream, [UInt8]) -> Void)?
        /// The attempts' policy when the job names none.
        public var defaultPolicy: String
        /// The policy the setup step (dependency installation) runs under.
        public var setupPolicy: String
        /// For a local repository from the command line: test the working tree as it is
        /// (uncommitted and untracked changes included), not only `HEAD`.
        public var includeWorkingTree = false
        /// Every attempt repeats the first seed and attempt number (`flakebox replay --runs N`); no
        /// seed-control check follows.
        public var pinSeed = false
        /// After a flaky job, replay its first failing seed once to say whether the seed controls the
        /// failure (the summary's `seed_control`).
        public var checkSeedControl = true
        /// Prepared checkouts kept between jobs (the CLI's replays and reruns); nil keeps none.
        /// Only jobs from the command line use it: a checkout one user prepared is never handed
        /// to another's job.
        public var preparedCache: PreparedCheckoutCache?
        /// The hosts a job's repository and submodules may be on (`flakebox serve --allow-host`).
        public var allowedHosts = HostAllowList()

        public init(
            policies: PolicyStore = .standard(), workRoot: String? = nil, sandbox: Sandbox.Options = .init(),
            progress: (@Sendable (JobProgress) -> Void)? = nil,
            attemptFinished: (@Sendable (AttemptRecord) -> Void)? = nil, replayTemplate: String? = nil,
            firstAttempt: Int = 0, outputObserver: (@Sendable (Int, StandardStream, [UInt8]) -> Void)? = nil,
            defaultPolicy: String = "default", setupPolicy: String = "setup"
        ) {
            self.policies = policies
            // One per uid: a directory another user made first would not be writable.
            self.workRoot = workRoot ?? NSTemporaryDirectory() + "flakebox-jobs-\(getuid())"
            self.sandbox = sandbox
            self.progress = progress
            self.attemptFinished = attemptFinished
            self.replayTemplate = replayTemplate
            self.firstAttempt = firstAttempt
            self.outputObserver = outputObserver
            self.defaultPolicy = defaultPolicy
            self.setupPolicy = setupPolicy
        }
    }

    public var options: Options

    public init(options: Options = .init()) {
        self.options = options
    }

    /// The prepared state every attempt of a job shares.
    struct Prepared: Sendable {
        var sandbox: Sandbox
        var checkout: String
        var commit: String?
        var venv: String?
        var pytestRandomly: Bool
        var setup: SetupReport?
        var workingTree: WorkingTreeSnapshot?
        var cloneSeconds: Double
        var setupSeconds: Double
        /// Held while the job runs when the checkout is the cache's.
        var cacheLease: PreparedCheckoutCache.Lease?
        /// When the checkout may be kept in the cache after the job: its key and what setup found.
        var cacheable: PreparedCheckoutCache.Metadata?
        /// The attempts at once the machine's memory admits, and their budget.
        var memory: MemoryAdmission?

        func admitted(_ memory: MemoryAdmission) -> Prepared {
            var prepared = self
            prepared.memory = memory
            return prepared
        }
    }

    /// Runs `input`; a job-level failure (fetch, setup, policy, isolation) throws, a failing test
    /// never does. Cancelling the task kills running attempts and still returns a summary marked
    /// incomplete.
    public func run(_ input: JobInput, origin: JobInput.Origin) async throws(JobError) -> JobSummary {
        let started = ContinuousClock.now
        JobDirectory.removeStale(in: options.workRoot)
        let jobDirectory = JobDirectory.make(in: options.workRoot)
        defer { WorkspaceFiles.removeTree(jobDirectory) }
        let prepared = try await prepare(input, origin: origin, in: jobDirectory)
        defer { prepared.cacheLease?.release() }
        var input = input
        if let memory = prepared.memory { input.parallelism = memory.parallelism }
        let runsStarted = ContinuousClock.now
        let outcome = await runAttempts(input, prepared: prepared)
        let runsEnded = ContinuousClock.now
        let deadline = input.deadlineSeconds.map { runsStarted + .milliseconds(Int64($0 * 1000)) }
        let seedReplay = await replayFirstFailure(
            input, prepared: prepared, records: outcome.records, deadline: deadline)
        let shared = await runShared(input, prepared: prepared, records: outcome.records, deadline: deadline)
        let classification = await classify(
            input, prepared: prepared, records: outcome.records, deadline: deadline)
        options.progress?(
            JobProgress(
                phase: .summarizing, total: input.runs, completed: outcome.records.count,
                failures: outcome.records.filter { $0.result.status.isTestFailure }.count, running: 0,
                elapsedSeconds: (ContinuousClock.now - runsStarted).seconds))
        var summaryInput = SummaryInput(
            job: input, records: outcome.records, complete: outcome.incompleteReason == nil,
            incompleteReason: outcome.incompleteReason, isolation: prepared.sandbox.isolation,
            timings: JobTimings(
                cloneSeconds: prepared.cloneSeconds, setupSeconds: prepared.setupSeconds,
                runSeconds: (runsEnded - runsStarted).seconds,
                totalSeconds: (ContinuousClock.now - started).seconds, checkoutCached: prepared.cacheLease != nil),
            setup: prepared.setup, commit: prepared.commit, flakeboxVersion: FlakeboxVersion.current,
            // A snapshot commit exists only in the job's clone: its replay takes the working tree again.
            replayTemplate: options.replayTemplate
                ?? Self.replayTemplate(
                    for: input, commit: prepared.workingTree?.isEmpty == false ? nil : prepared.commit))
        summaryInput.workingTree = prepared.workingTree
        summaryInput.memoryLimitBytes = prepared.sandbox.policy.limits.memory
        summaryInput.classification = classification
        summaryInput.seedReplay = seedReplay
        summaryInput.sharedRuns = shared
        summaryInput.cpuLimit = prepared.sandbox.policy.limits.cpus
        summaryInput.memoryAdmission = prepared.memory
        let summary = Summarizer.summarize(summaryInput)
        // Attempts never write to the checkout (each has its own copy or overlay): kept as prepared.
        if let cache = options.preparedCache, var metadata = prepared.cacheable {
            metadata.bytes = Int64(
                clamping: DirectorySize.measure(prepared.checkout, stopAbove: UInt64(clamping: cache.maxBytes)))
            cache.store(checkout: prepared.checkout, metadata: metadata)
        }
        return summary
    }

    /// `flakebox replay` with everything that pins the attempt: repo, commit, seed, command.
    static func replayTemplate(for input: JobInput, commit: String?) -> String {
        var words = ["flakebox", "replay", "--repo", shellQuote(input.repo)]
        if let ref = commit ?? input.ref { words += ["--ref", shellQuote(ref)] }
        if let setup = input.setupCommand { words += ["--setup-command", shellQuote(setup)] }
        if let policy = input.policy { words += ["--policy", shellQuote(policy)] }
        // What changes the run: a replay without it would not be the same attempt.
        if !input.reseed { words.append("--no-reseed") }
        if input.shuffle { words.append("--shuffle") }
        if let noise = input.stress {
            words.append("--stress")
            if noise != .standard {
                words += ["--stress-cpu", "\(noise.cpuWorkers)", "--stress-io", "\(noise.ioWorkers)"]
            }
        }
        for package in input.packages { words += ["--package", shellQuote(package)] }
        if let memory = input.memoryBytes { words += ["--memory", "\(memory)"] }
        words += ["--seed", "{seed}", "--attempt", "{attempt}", "--", shellQuote(input.testCommand)]
        return words.joined(separator: " ")
    }

    static func shellQuote(_ text: String) -> String {
        if !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "@%+=:,./-_".contains($0)) }) {
            return text
        }
        return "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

extension Duration {
    /// Seconds as a fraction, for reports and logs.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

extension AttemptStatus {
    /// The attempt says something about the test (it did not pass, and the harness did not fail).
    public var isTestFailure: Bool {
        switch self {
        case .failed, .signaled, .timeout, .oom, .outputLimit: true
        case .passed, .sandboxError, .cancelled: false
        }
    }
}
