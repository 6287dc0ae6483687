/// The variables that make an attempt reproducible: its number and seed, and the seed made
/// effective where the test runner allows it. Kept for callers of the old interface; the
/// decisions are `AttemptPlanner`'s.
public enum AttemptEnvironment {
    /// Where pytest writes its JUnit report when the job names none: inside the copy-on-write
    /// workspace, so it never reaches the checkout (and a per-attempt copy below the full tier).
    public static func pytestJUnitPath(workspace: String) -> String { "\(workspace)/.flakebox-junit.xml" }

    /// - Parameters:
    ///   - pytestRandomly: pytest-randomly is installed: seed it too.
    ///   - venv: the checkout has a virtualenv made by the setup step.
    public static func variables(
        for input: JobInput, attempt: Int, seed: UInt64, workspace: String, pytestRandomly: Bool, venv: String?
    ) -> [String: String] {
        var job = input
        job.seedStart = seed
        return AttemptPlanner(
            input: job, workspace: workspace, venv: venv, pytestRandomly: pytestRandomly, firstAttempt: attempt
        ).plan(index: 0).environment
    }

    /// The artifact patterns of an attempt: the job's JUnit path or pytest's default, and the
    /// runner plugin's report.
    public static func junitPatterns(for input: JobInput, workspace: String) -> [String] {
        AttemptPlanner(input: input, workspace: workspace).plan(index: 0).artifacts
    }
}
