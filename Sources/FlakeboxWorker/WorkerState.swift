import Synchronization

/// What the worker's concurrent loops share: the running job, stop requests for it, and whether
/// shutdown has begun. Guarded by one lock; every access is a few field reads or writes.
final class WorkerState: Sendable {
    private struct Fields {
        var runningJobID: String?
        var stopRequested = false
        var shutdownDeadline: ContinuousClock.Instant?
    }

    private let fields = Mutex(Fields())

    /// Ids of the jobs being worked on (heartbeats name them).
    var jobIDs: [String] { fields.withLock { $0.runningJobID.map { [$0] } ?? [] } }

    func begin(_ jobID: String) {
        fields.withLock {
            $0.runningJobID = jobID
            $0.stopRequested = false
        }
    }

    func end() {
        fields.withLock {
            $0.runningJobID = nil
            $0.stopRequested = false
        }
    }

    /// Marks the job stopped if it is the running one; false if it is not.
    func requestStop(of jobID: String) -> Bool {
        fields.withLock {
            guard $0.runningJobID == jobID else { return false }
            $0.stopRequested = true
            return true
        }
    }

    var isStopRequested: Bool { fields.withLock { $0.stopRequested } }

    /// Starts shutdown once: the running job may go on until `deadline`. Returns false if it had begun.
    func beginShutdown(deadline: ContinuousClock.Instant) -> Bool {
        fields.withLock {
            guard $0.shutdownDeadline == nil else { return false }
            $0.shutdownDeadline = deadline
            return true
        }
    }

    var shutdownDeadline: ContinuousClock.Instant? { fields.withLock { $0.shutdownDeadline } }
    var isShuttingDown: Bool { shutdownDeadline != nil }
}
