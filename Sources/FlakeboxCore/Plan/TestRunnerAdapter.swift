/// How flakebox drives one test runner: how an attempt is seeded and its order shuffled, how the
/// tests are listed and one is selected, and where the runner's JUnit report goes. The planner
/// asks the adapter; the scheduler never does.
public protocol TestRunnerAdapter: Sendable {
    /// Shown in summaries (`pytest`, `go test`).
    var name: String { get }
    /// What this adapter adds to one attempt: the command (possibly rewritten), variables and
    /// the files to bring back.
    func contribution(for attempt: AttemptPlanContext) -> AttemptContribution
    /// Files the adapter ships into the checkout before setup (path relative to the checkout,
    /// contents): the pytest plugin.
    var supportFiles: [(path: String, contents: String)] { get }
    /// A command that lists the tests one per line, nil when the runner cannot.
    func listCommand(testCommand: String) -> String?
    /// A command that runs only `test` (an id as the runner's report names it).
    func selectCommand(testCommand: String, test: String) -> String?
    /// Where the runner's JUnit report goes when the job names none, inside the sandbox.
    func junitPath(workspace: String) -> String?
}

/// What the planner knows about one attempt when it asks the adapter.
public struct AttemptPlanContext: Sendable, Equatable {
    public var testCommand: String
    public var seed: UInt64
    public var attempt: Int
    /// The workspace path inside the sandbox.
    public var workspace: String
    /// The job names its own JUnit path (then the adapter adds none).
    public var jobJUnitPath: String?
    public var reseed: Bool
    public var shuffle: Bool
    /// The job's variables (an adapter appends to `PYTEST_ADDOPTS` rather than replace it).
    public var environment: [String: String]
    /// pytest-randomly is installed in the checkout's interpreter.
    public var pytestRandomly: Bool
    /// When several attempts share one workspace (interference mode), the path prefix of this
    /// attempt's own reports (`/workspace/.flakebox-shared/3.`); nil: the adapter's usual paths.
    public var reportPrefix: String? = nil

    /// `name` after `reportPrefix` (`…/3.junit.xml`); nil when attempts do not share a workspace.
    public func sharedReportPath(_ name: String) -> String? {
        reportPrefix.map { $0 + name }
    }
}

/// One adapter's share of an attempt.
public struct AttemptContribution: Sendable, Equatable {
    public var command: String
    public var environment: [String: String]
    /// Absolute paths inside the sandbox (wildcards in the last component).
    public var artifacts: [String]

    public init(command: String, environment: [String: String] = [:], artifacts: [String] = []) {
        self.command = command
        self.environment = environment
        self.artifacts = artifacts
    }
}
