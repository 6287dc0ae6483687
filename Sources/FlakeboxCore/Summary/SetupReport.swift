/// How the one-time preparation of the checkout went (a `setup_command`, or installing
/// `requirements.txt`); the summary carries it so a failing setup is visible next to the runs.
public struct SetupReport: Sendable, Equatable, Codable {
    /// What was run, as the user would type it.
    public var command: String
    public var durationSeconds: Double
    /// The end of its combined output (the summary keeps at most a few KiB of it, from the end).
    public var logTail: String
    /// Where setup's writes were bounded, or why they were not (below the full tier the checkout
    /// is written in place: no overlay to hold them).
    public var writeLimit: String?

    public init(command: String, durationSeconds: Double, logTail: String, writeLimit: String? = nil) {
        self.command = command
        self.durationSeconds = durationSeconds
        self.logTail = logTail
        self.writeLimit = writeLimit
    }
}
