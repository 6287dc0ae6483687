/// A job's state, with RunPod's names (docs/RUNPOD_PROTOCOL.md §18).
public enum JobState: String, Sendable, Codable, CaseIterable {
    case inQueue = "IN_QUEUE"
    case inProgress = "IN_PROGRESS"
    case completed = "COMPLETED"
    case failed = "FAILED"
    case cancelled = "CANCELLED"
    /// Expired in the queue (its `ttl`), or ran past its `executionTimeout`.
    case timedOut = "TIMED_OUT"

    /// No further change comes (but `/retry` of a failed or timed-out job).
    public var isFinal: Bool {
        switch self {
        case .inQueue, .inProgress: false
        case .completed, .failed, .cancelled, .timedOut: true
        }
    }
}
