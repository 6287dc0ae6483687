import Foundation

/// One request exactly as the stand-in RunPod received it: the raw request line split at the
/// first `?`, every header in order with its original spelling, the body bytes, and when its
/// head arrived.
struct RecordedRequest: Sendable, CustomStringConvertible {
    struct Header: Sendable, Equatable {
        var name: String
        var value: String
    }

    /// Which of the worker-facing URLs of docs/RUNPOD_PROTOCOL.md §3 the path names.
    enum Kind: String, Sendable {
        case jobTake = "job-take"
        case jobDone = "job-done"
        case jobStream = "job-stream"
        case jobStop = "job-stop"
        case ping
        case other
    }

    var method: String
    /// The path as sent, before any `?` (not percent-decoded).
    var path: String
    /// The raw query string after the first `?`; nil when the URI had no `?`.
    var query: String?
    var headers: [Header]
    var body: [UInt8]
    var arrival: ContinuousClock.Instant
    /// Its place in the stand-in's record (the key of its reply in `Traffic.replies`).
    var index = -1

    init(method: String, uri: String, headers: [Header], body: [UInt8], arrival: ContinuousClock.Instant) {
        self.method = method
        if let mark = uri.firstIndex(of: "?") {
            path = String(uri[..<mark])
            query = String(uri[uri.index(after: mark)...])
        } else {
            path = uri
            query = nil
        }
        self.headers = headers
        self.body = body
        self.arrival = arrival
    }

    var kind: Kind {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        // "/v2/EP/<kind>/…": the stand-in's URL templates put the kind third.
        guard parts.count >= 4, parts[1] == "v2", parts[2] == "EP" else { return .other }
        return Kind(rawValue: String(parts[3])) ?? .other
    }

    /// Every value of the header, its name compared without case (HTTP field names are case-insensitive).
    func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object, or nil when it is not one.
    var jsonObject: [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
    }

    /// A job-done post carrying a progress update rather than the job's result (§8).
    var isProgress: Bool {
        kind == .jobDone && jsonObject?["status"] as? String == "IN_PROGRESS"
    }

    /// The job id a job-done or job-stream path ends with.
    var jobID: String? {
        guard kind == .jobDone || kind == .jobStream else { return nil }
        return path.split(separator: "/").last.map(String.init)
    }

    /// The query's `name=value` pairs in order, not decoded.
    var queryItems: [(name: String, value: String)] {
        (query ?? "").split(separator: "&", omittingEmptySubsequences: false).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
        }
    }

    var description: String {
        let shown = body.count > 300 ? String(bodyText.prefix(300)) + "… (\(body.count) bytes)" : bodyText
        return "\(method) \(path)\(query.map { "?" + $0 } ?? "") \(shown)"
    }
}
