import FlakeboxSandbox

/// A failing attempt that the job's output patterns say not to count: how it really ended and
/// which pattern discounted it.
public struct FilteredFailure: Sendable, Equatable, Codable {
    /// The status the attempt ended with (`failed`, `timeout`, ...).
    public var status: AttemptStatus
    /// "output does not match failure_pattern" or "output matches ignore_pattern".
    public var reason: String

    public init(status: AttemptStatus, reason: String) {
        self.status = status
        self.reason = reason
    }
}
