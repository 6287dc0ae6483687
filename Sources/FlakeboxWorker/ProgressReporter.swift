import FlakeboxCore
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
            await poster.postProgress(Self.json(progress), jobID: jobID)
        }
    }

    /// `{"phase", "completed", "failures", "running", "total", "elapsed_s"[, "eta_s"]}`.
    static func json(_ progress: JobProgress) -> [UInt8] {
        var object: [String: Any] = [
            "phase": progress.phase.rawValue, "completed": progress.completed, "failures": progress.failures,
            "running": progress.running, "total": progress.total,
            "elapsed_s": (progress.elapsedSeconds * 10).rounded() / 10,
        ]
        if let eta = progress.etaSeconds { object["eta_s"] = (eta * 10).rounded() / 10 }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }
}
