import FlakeboxSandbox

/// What one attempt runs: decided by `AttemptPlanner` before it is scheduled.
public struct AttemptPlan: Sendable, Equatable {
    public var attempt: Int
    public var seed: UInt64
    /// argv: the test command's words (`ShellCommand`), or `/bin/sh -c <command>`.
    public var command: [String]
    /// `command` is the words of a shell command: a failed exec runs them under `/bin/sh -c`.
    public var shellFallback: Bool = false
    public var environment: [String: String]
    /// Files to bring back: JUnit reports and the runner plugin's report.
    public var artifacts: [String]
    public var shuffle: Bool
    public var reseed: Bool
    /// Stress mode's noise beside the command; nil: none.
    public var noise: BackgroundNoise? = nil
}
