/// How long the summary's lists and texts may be. The summarizer starts at `standard` and
/// steps down the `levels` only when a budget cannot hold the summary otherwise.
struct SummaryLimits: Sendable, Equatable {
    var signatures: Int
    var signatureBytes: Int
    var tests: Int
    var failedTestsPerAttempt: Int
    var failingSeeds: Int
    var setupLogBytes: Int
    /// Attempt lists inside a signature or a test entry.
    var listedAttempts: Int
    /// Test ids of a shuffled attempt's order.
    var orderPerAttempt: Int = 200

    static let standard = SummaryLimits(
        signatures: 20, signatureBytes: 2048, tests: 100, failedTestsPerAttempt: 50, failingSeeds: 100,
        setupLogBytes: 8192, listedAttempts: 20, orderPerAttempt: 200)

    /// Standard first, then ever shorter.
    static let levels: [SummaryLimits] = [
        standard,
        SummaryLimits(
            signatures: 10, signatureBytes: 1024, tests: 25, failedTestsPerAttempt: 10, failingSeeds: 100,
            setupLogBytes: 2048, listedAttempts: 20, orderPerAttempt: 50),
        SummaryLimits(
            signatures: 3, signatureBytes: 512, tests: 5, failedTestsPerAttempt: 3, failingSeeds: 20,
            setupLogBytes: 512, listedAttempts: 10, orderPerAttempt: 10),
        SummaryLimits(
            signatures: 1, signatureBytes: 256, tests: 1, failedTestsPerAttempt: 0, failingSeeds: 5,
            setupLogBytes: 0, listedAttempts: 5, orderPerAttempt: 0),
    ]
}
