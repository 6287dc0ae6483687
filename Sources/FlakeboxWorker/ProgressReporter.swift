import FlakeboxCore
import FlakeboxJobs
import Foundation
import Synchronization

/// Keeps a job's latest progress and posts it at most once per interval, only when it changed.
/// Cancelled and awaited before the final result is posted, so no update can follow the result
/// (the SDK's fire-and-forget threads can).
final class ProgressReporter: Sendable {
    private let latest = Mutex<JobProgress?>(nil)
    let interval: Duration

    init(interval: Duration) {
        self.interval = interval
    }

    func record(_ progress: JobProgress) {
        latest.withLock { $0 = progress }
    }

    var current: JobProgress? { latest.withLock { $0 } }

    func run(poster: ResultPoster, jobID: String) async {
        var sent: JobProgress?
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled, let progress = latest.withLock({ $0 }), progress != sent else { continue }
            sent = progress
            // Not cancelled with the loop: a request cut off mid-flight may still reach the
            // platform, after the result. Finished, it has arrived before the result is sent.
            await Task { await poster.postProgress(progress.json, jobID: jobID) }.value
        }
    }
}
