import FlakeboxSandbox

/// A failing attempt run again with the same seed and attempt number (see
/// `JobRunner.replayFirstFailure`): the statuses of its replays, each a test outcome.
public struct SeedReplay: Sendable, Equatable {
    public var seed: UInt64
    public var attempt: Int
    /// One per replay: `passed` or a test failure.
    public var statuses: [AttemptStatus]

    public init(seed: UInt64, attempt: Int, statuses: [AttemptStatus]) {
        self.seed = seed
        self.attempt = attempt
        self.statuses = statuses
    }

    /// Replays that failed again.
    public var failures: Int { statuses.filter(\.isTestFailure).count }
}
