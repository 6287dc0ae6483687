/// Decides each attempt's command, seed, environment and order, apart from the scheduler that
/// runs them: attempt i gets seed `seed_start + i`, `TEST_SEED`, `ATTEMPT` and `PYTHONHASHSEED`,
/// and whatever the test runner's adapter adds (the seed made effective, the order shuffled, a
/// JUnit report path).
public struct AttemptPlanner: Sendable {
    public var input: JobInput
    public var adapter: any TestRunnerAdapter
    /// The workspace path inside the sandbox.
    public var workspace: String
    /// The checkout's virtualenv inside the sandbox, when setup made one.
    public var venv: String?
    public var pytestRandomly: Bool
    /// The number of the first attempt (a replay keeps the number it replays).
    public var firstAttempt: Int
    /// Every attempt repeats the first one's seed and attempt number (`flakebox replay --runs N`
    /// measures how often one seed fails).
    public var pinned: Bool

    public init(
        input: JobInput, workspace: String, venv: String? = nil, pytestRandomly: Bool = false, firstAttempt: Int = 0,
        adapter: (any TestRunnerAdapter)? = nil, pinned: Bool = false
    ) {
        self.input = input
        self.adapter = adapter ?? TestRunnerDetector.adapter(for: input.testCommand)
        self.workspace = workspace
        self.venv = venv
        self.pytestRandomly = pytestRandomly
        self.firstAttempt = firstAttempt
        self.pinned = pinned
    }

    /// The plan of the `index`th attempt of the job (0-based).
    /// - Parameter reportPrefix: attempts share one workspace (interference mode): the path
    ///   prefix of this attempt's own reports.
    public func plan(index: Int, reportPrefix: String? = nil) -> AttemptPlan {
        let offset = pinned ? 0 : index
        let seed = input.seedStart + UInt64(offset)
        let attempt = firstAttempt + offset
        var env = input.environment
        env["ATTEMPT"] = "\(attempt)"
        env["TEST_SEED"] = "\(seed)"
        // Python's hash seed must be 0...4294967295.
        env["PYTHONHASHSEED"] = env["PYTHONHASHSEED"] ?? "\(seed % 4_294_967_296)"
        let share = adapter.contribution(
            for: AttemptPlanContext(
                testCommand: input.testCommand, seed: seed, attempt: attempt, workspace: workspace,
                jobJUnitPath: input.junitXML, reseed: input.reseed, shuffle: input.shuffle, environment: env,
                pytestRandomly: pytestRandomly, reportPrefix: reportPrefix))
        env.merge(share.environment) { _, new in new }
        if let venv {
            env["VIRTUAL_ENV"] = venv
            env["PATH"] = "\(venv)/bin:" + (env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        }
        let words = ShellCommand.words(share.command)
        return AttemptPlan(
            attempt: attempt, seed: seed, command: words ?? ["/bin/sh", "-c", share.command],
            shellFallback: words != nil, environment: env, artifacts: share.artifacts, shuffle: input.shuffle,
            reseed: input.reseed, noise: input.stress)
    }
}
