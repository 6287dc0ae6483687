/// The variables that make an attempt reproducible: its number and seed, and the seed made
/// effective where the test runner allows it.
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
        var env = input.environment
        env["ATTEMPT"] = "\(attempt)"
        env["TEST_SEED"] = "\(seed)"
        // Python's hash seed must be 0...4294967295.
        env["PYTHONHASHSEED"] = env["PYTHONHASHSEED"] ?? "\(seed % 4_294_967_296)"
        var pytest: [String] = []
        if input.junitXML == nil { pytest.append("--junitxml=\(pytestJUnitPath(workspace: workspace))") }
        if pytestRandomly { pytest.append("-p randomly --randomly-seed=\(seed % 4_294_967_296)") }
        if !pytest.isEmpty {
            env["PYTEST_ADDOPTS"] = ([env["PYTEST_ADDOPTS"]].compactMap { $0 } + pytest).joined(separator: " ")
        }
        if let venv {
            env["VIRTUAL_ENV"] = venv
            env["PATH"] = "\(venv)/bin:" + (env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
        }
        return env
    }

    /// The artifact patterns of an attempt: the job's JUnit path or pytest's default.
    public static func junitPatterns(for input: JobInput, workspace: String) -> [String] {
        if let junit = input.junitXML { return ["\(workspace)/\(junit)"] }
        return [pytestJUnitPath(workspace: workspace)]
    }
}
