import FlakeboxCore
import FlakeboxJobs

extension FlakeboxJobHandler {
    /// Runs a job the platform handed over (its `input`; the id names it in logs only).
    public func handle(
        _ job: RunPodJob, progress: (@Sendable (JobProgress) -> Void)? = nil,
        incompleteReason: (@Sendable () -> String?)? = nil
    ) async -> HandlerResult {
        await handle(input: job.input, progress: progress, incompleteReason: incompleteReason)
    }
}
