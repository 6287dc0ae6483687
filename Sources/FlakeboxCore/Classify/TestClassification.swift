/// What the classification phase found about one test, in the terms of the flaky-test literature
/// (iDFlakies, iPFlakies).
public struct TestClassification: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, Codable {
        /// Non-order-dependent: it fails when run alone too.
        case nod = "NOD"
        /// Passes alone every time, fails after some other test (the polluter).
        case victim = "OD-victim"
        /// Fails alone, passes when some other test (the state-setter) runs before it.
        case brittle = "OD-brittle"
        /// The runs did not say; `reason` tells why.
        case unknown
    }

    public var kind: Kind
    /// One sentence: the runs that decided the kind, or why none could be decided.
    public var reason: String
    /// The test whose state makes a victim fail, when the search found one.
    public var polluter: String?
    /// The test whose state makes a brittle test pass, when the search found one.
    public var stateSetter: String?
    /// Runs alone with fresh seeds (the failing attempt's seed not among them).
    public var aloneRuns: Int
    public var aloneFailures: Int
    /// A command that reproduces the test's failure: alone, or polluter then victim.
    public var replay: String?
    /// Runs this test's classification made.
    public var runs: Int
    /// The first run could not select the test (the command did not load the pytest plugin):
    /// the phase stops rather than spend a whole-suite run on every other test.
    var selectionUnavailable = false

    public init(
        kind: Kind, reason: String, polluter: String? = nil, stateSetter: String? = nil, aloneRuns: Int = 0,
        aloneFailures: Int = 0, replay: String? = nil, runs: Int = 0
    ) {
        self.kind = kind
        self.reason = reason
        self.polluter = polluter
        self.stateSetter = stateSetter
        self.aloneRuns = aloneRuns
        self.aloneFailures = aloneFailures
        self.replay = replay
        self.runs = runs
    }
}

/// The classification phase of a job: each classified test, and what the phase cost.
public struct ClassificationReport: Sendable, Equatable {
    /// By test id (`classname::name`).
    public var tests: [String: TestClassification]
    /// Sandboxed runs the phase made.
    public var runs: Int
    /// Failing tests left out by the phase's bounds.
    public var skippedTests: Int
    /// The bounds, and anything that stopped the phase early, in words.
    public var note: String
    /// Wall-clock time of the phase (not part of the summary's `runs_s`).
    public var seconds: Double

    public init(
        tests: [String: TestClassification], runs: Int, skippedTests: Int, note: String, seconds: Double = 0
    ) {
        self.tests = tests
        self.runs = runs
        self.skippedTests = skippedTests
        self.note = note
        self.seconds = seconds
    }
}
