import Foundation

/// What the handler made of one job, and the job-done body the SDK would send for it
/// (RUNPOD_PROTOCOL.md §6 and §13).
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
            return Array("{\"output\": ".utf8) + Array(summary) + Array("}".utf8)
        case .failure, .exception:
            let error = errorValue(hostname: hostname, workerID: workerID) ?? ""
            return Self.json(["error": error])
        }
    }

    /// The SDK's error_info: `json.dumps` of these six keys, in this order.
    static func errorInfo(type: String, message: String, traceback: String, hostname: String, workerID: String)
        -> String
    {
        let pairs: KeyValuePairs<String, String> = [
            "error_type": type, "error_message": message, "error_traceback": traceback, "hostname": hostname,
            "worker_id": workerID, "runpod_version": WorkerProtocol.sdkVersion,
        ]
        let fields = pairs.map { "\(jsonString($0.key)): \(jsonString($0.value))" }
        return "{" + fields.joined(separator: ", ") + "}"
    }

    static func json(_ object: [String: String]) -> [UInt8] {
        let fields = object.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)): \(jsonString($0.value))" }
        return Array(("{" + fields.joined(separator: ", ") + "}").utf8)
    }

    /// A JSON string literal; non-ASCII kept as UTF-8 (`ensure_ascii=False`, as the SDK posts).
    static func jsonString(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data()
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }
}
