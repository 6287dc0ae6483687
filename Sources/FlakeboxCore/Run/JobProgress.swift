/// Where a job is, reported after every attempt (and when each phase starts).
public struct JobProgress: Sendable, Equatable {
    public enum Phase: String, Sendable {
        /// `completed` counts the classification phase's runs (after the attempts; see `Classifier`).
        /// `sharing`: interference mode's runs in one shared checkout; `completed` counts them.
        case fetching, setup, running, classifying, sharing, summarizing
    }

    public var phase: Phase
    public var total: Int
    public var completed: Int
    public var failures: Int
    public var running: Int
    /// Seconds since the runs started.
    public var elapsedSeconds: Double

    public init(phase: Phase, total: Int, completed: Int, failures: Int, running: Int, elapsedSeconds: Double) {
        self.phase = phase
        self.total = total
        self.completed = completed
        self.failures = failures
        self.running = running
        self.elapsedSeconds = elapsedSeconds
    }

    /// Seconds left at the pace so far, once there is a pace.
    public var etaSeconds: Double? {
        guard completed > 0, phase == .running else { return nil }
        return elapsedSeconds / Double(completed) * Double(total - completed)
    }
}
