/// pytest: seeded and shuffled by flakebox's own plugin (`PytestPlugin`), loaded with
/// `-p flakebox_pytest` from a directory flakebox writes into the checkout and puts on
/// `PYTHONPATH`; pytest-randomly, when the checkout has it, is seeded too. The JUnit report goes
/// into the copy-on-write workspace, never into the checkout.
public struct PytestAdapter: TestRunnerAdapter {
    /// The command names pytest; otherwise pytest is assumed (its variables reach nothing else).
    public var detected: Bool

    public init(named detected: Bool = true) {
        self.detected = detected
    }

    public var name: String { detected ? "pytest" : "pytest (assumed)" }

    /// Where the plugin lives inside the checkout (a dot directory: pytest does not collect it).
    public static let pluginDirectory = ".flakebox-pytest"
    /// The plugin's report, beside the default JUnit report.
    public static let reportName = ".flakebox-pytest.json"

    public static func reportPath(workspace: String) -> String { "\(workspace)/\(reportName)" }

    public func junitPath(workspace: String) -> String? { "\(workspace)/.flakebox-junit.xml" }

    public var supportFiles: [(path: String, contents: String)] {
        [("\(Self.pluginDirectory)/\(PytestPlugin.moduleName).py", PytestPlugin.source)]
    }

    public func contribution(for attempt: AttemptPlanContext) -> AttemptContribution {
        let env = attempt.environment
        let workspace = attempt.workspace
        var options = ["-p \(PytestPlugin.moduleName)"]
        var artifacts: [String] = []
        // Attempts sharing a workspace each write their own reports; a path the job names is
        // one for all of them, so none is read then.
        let report = attempt.sharedReportPath(Self.reportName) ?? Self.reportPath(workspace: workspace)
        if let junit = attempt.jobJUnitPath {
            if attempt.reportPrefix == nil { artifacts.append("\(workspace)/\(junit)") }
        } else if let junit = attempt.sharedReportPath("junit.xml") ?? junitPath(workspace: workspace) {
            options.append("--junitxml=\(junit)")
            artifacts.append(junit)
        }
        if attempt.pytestRandomly { options.append("-p randomly --randomly-seed=\(attempt.seed % 4_294_967_296)") }
        artifacts.append(report)
        let pluginPath = "\(workspace)/\(Self.pluginDirectory)"
        return AttemptContribution(
            command: attempt.testCommand,
            environment: [
                "PYTEST_ADDOPTS": ([env["PYTEST_ADDOPTS"]].compactMap { $0 } + options).joined(separator: " "),
                "PYTHONPATH": [pluginPath, env["PYTHONPATH"]].compactMap { $0 }.joined(separator: ":"),
                "PYTEST_FLAKEBOX_RESEED": attempt.reseed ? "1" : "0",
                "PYTEST_FLAKEBOX_SHUFFLE": attempt.shuffle ? "1" : "0",
                "PYTEST_FLAKEBOX_REPORT": report,
            ],
            artifacts: artifacts)
    }

    public func listCommand(testCommand: String) -> String? {
        "python3 -m pytest --collect-only -q -p no:cacheprovider"
    }

    public func selectCommand(testCommand: String, test: String) -> String? {
        "python3 -m pytest -q " + JobRunner.shellQuote(test)
    }
}
