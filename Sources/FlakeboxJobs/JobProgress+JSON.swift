import FlakeboxCore
import Foundation

extension JobProgress {
    /// `{"phase", "completed", "failures", "running", "total", "elapsed_s"[, "eta_s"]}`: the
    /// progress a running job's `/status` shows as its `output`, and the worker posts.
    public var json: [UInt8] {
        var object: [String: Any] = [
            "phase": phase.rawValue, "completed": completed, "failures": failures, "running": running,
            "total": total, "elapsed_s": (elapsedSeconds * 10).rounded() / 10,
        ]
        if let eta = etaSeconds { object["eta_s"] = (eta * 10).rounded() / 10 }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Array(data)
    }
}
