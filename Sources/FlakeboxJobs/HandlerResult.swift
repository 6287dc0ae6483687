import Foundation

/// What the handler made of one job, and the job-done body the SDK would send for it
/// (docs/RUNPOD_PROTOCOL.md §6 and §13).
public enum HandlerResult: Sendable, Equatable {
    /// A summary (JSON object text): `{"output": summary}`.
    case output(Data)
    /// A job the handler refused (bad input), as a handler returning `{"error": message}` does.
    case failure(String)
    /// A job that could not run (clone, setup, isolation), as a handler raising an exception:
    /// `error` is the SDK's error_info object, encoded once more as a JSON string.
    case exception(type: String, message: String, traceback: String)

    public var isError: Bool {
        if case .output = self { return false }
        return true
    }

    /// The `error` value, when there is one (decoded, for local modes and logs).
    public func errorValue(hostname: String, workerID: String) -> String? {
        switch self {
        case .output: nil
        case .failure(let message): message
        case .exception(let type, let message, let traceback):
            Self.errorInfo(type: type, message: message, traceback: traceback, hostname: hostname, workerID: workerID)
        }
    }

    /// The job-done body.
    public func body(hostname: String, workerID: String) -> [UInt8] {
        switch self {
        case .output(let summary):
            var reply = JSONText()
            reply.add("output", json: summary)
            return reply.bytes
        case .failure, .exception:
            var reply = JSONText()
            reply.add("error", string: errorValue(hostname: hostname, workerID: workerID) ?? "")
            return reply.bytes
        }
    }

    /// The SDK's error_info: `json.dumps` of these six keys, in this order.
    public static func errorInfo(type: String, message: String, traceback: String, hostname: String, workerID: String)
        -> String
    {
        var info = JSONText()
        info.add("error_type", string: type)
        info.add("error_message", string: message)
        info.add("error_traceback", string: traceback)
        info.add("hostname", string: hostname)
        info.add("worker_id", string: workerID)
        info.add("runpod_version", string: RunPodSDK.version)
        return String(decoding: info.bytes, as: UTF8.self)
    }
}
