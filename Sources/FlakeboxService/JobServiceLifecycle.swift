import FlakeboxJobs
import Logging
import ServiceLifecycle

/// The job service as a swift-service-lifecycle `Service`: recovery and claiming at start; at
/// graceful shutdown, draining (new jobs refused, `/readyz` 503), then `JobService.shutdown`:
/// running jobs finish within the grace or are handed back to the queue.
struct JobServiceLifecycle: Service {
    let jobs: JobService
    let state: ServiceState
    let grace: Duration
    let logger: Logger
    /// Runs before the first claim (reads what claiming needs from the database).
    var prepare: @Sendable () async -> Void = {}

    func run() async throws {
        await prepare()
        let recovery = try await jobs.start()
        if !recovery.requeued.isEmpty || !recovery.failed.isEmpty {
            logger.notice(
                "recovered jobs left running by a stopped process",
                metadata: ["requeued": "\(recovery.requeued)", "failed": "\(recovery.failed)"])
        }
        // Returns at graceful shutdown (and throws at cancellation, when the same cleanup runs).
        try? await gracefulShutdown()
        state.draining = true
        logger.notice("shutting down: running jobs get \(grace) to finish, then go back to the queue")
        await jobs.shutdown(grace: grace)
    }
}
