import FlakeboxCore
import Foundation

/// What runs a job for the service: the engine (`FlakeboxJobHandler`) in production, a stand-in
/// in the service's own unit tests. Cancelling the calling task must end the job promptly.
public protocol JobExecutor: Sendable {
    func execute(_ job: StoredJob, progress: @escaping @Sendable (JobProgress) -> Void) async -> HandlerResult
}

extension FlakeboxJobHandler: JobExecutor {
    public func execute(_ job: StoredJob, progress: @escaping @Sendable (JobProgress) -> Void) async -> HandlerResult {
        await handle(input: job.input, progress: progress)
    }
}
