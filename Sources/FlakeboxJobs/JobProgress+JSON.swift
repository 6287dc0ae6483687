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

    /// Reads back `json` (as another node recorded it in a shared store); nil for anything else.
    public init?(json data: Data) {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let phase = (object["phase"] as? String).flatMap(Phase.init(rawValue:)),
            let total = object["total"] as? Int, let completed = object["completed"] as? Int,
            let failures = object["failures"] as? Int, let running = object["running"] as? Int,
            let elapsed = object["elapsed_s"] as? Double
        else { return nil }
        self.init(
            phase: phase, total: total, completed: completed, failures: failures, running: running,
            elapsedSeconds: elapsed)
    }
}
