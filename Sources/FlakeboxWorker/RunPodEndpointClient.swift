import AsyncHTTPClient
import FlakeboxCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOHTTPCompression

/// RunPod's client API of one serverless endpoint (docs/RUNPOD_PROTOCOL.md §18): submit a job
/// (`POST /run`), follow it (`GET /status/{id}`), cancel it (`POST /cancel/{id}`). The key goes
/// as `Authorization: Bearer <key>`, as RunPod's SDK sends it; it never appears in an error.
public final class RunPodEndpointClient: Sendable {
    /// A job as `/status` reports it.
    public struct JobStatus: Sendable {
        /// `IN_QUEUE`, `IN_PROGRESS`, `COMPLETED`, `FAILED`, `CANCELLED`, `TIMED_OUT`.
        public var status: String
        /// `output` as JSON text, when there is one (a summary, or an in-progress job's progress).
        public var output: Data?
        public var error: String?

        /// The worker's progress object (`JobProgress.json`) of a job in progress.
        public var progress: JobProgress? {
            guard status == "IN_PROGRESS", let output,
                let object = try? JSONSerialization.jsonObject(with: output) as? [String: Any],
                let total = object["total"] as? Int, let completed = object["completed"] as? Int
            else { return nil }
            return JobProgress(
                phase: (object["phase"] as? String).flatMap(JobProgress.Phase.init(rawValue:)) ?? .running,
                total: total, completed: completed, failures: object["failures"] as? Int ?? 0,
                running: object["running"] as? Int ?? 0, elapsedSeconds: object["elapsed_s"] as? Double ?? 0)
        }
    }

    /// Replies are read up to this (a summary is at most its budget, 4 MiB by default, and
    /// `summary_budget_bytes` is capped well below this).
    public static let maximumReplyBytes = 64 << 20

    private let client: HTTPClient
    private let base: String
    private let apiKey: String

    /// - Parameters:
    ///   - baseURL: `https://api.runpod.ai/v2` (a test's stand-in on loopback otherwise).
    ///   - endpoint: the endpoint id.
    public init(baseURL: String, endpoint: String, apiKey: String) {
        var trimmed = baseURL
        while trimmed.hasSuffix("/") { trimmed.removeLast() }
        base = trimmed + "/" + (endpoint.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? endpoint)
        self.apiKey = apiKey
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10)),
            decompression: .enabled(limit: .size(Self.maximumReplyBytes)))
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func shutdown() async {
        try? await client.shutdown()
    }

    /// Submits `{"input": input}`; the job's id.
    /// - Parameter input: the job's input, a JSON object's text.
    public func submit(input: Data) async throws(RunPodEndpointError) -> String {
        var body = Data("{\"input\":".utf8)
        body.append(input)
        body.append(Data("}".utf8))
        let object = try await call(.POST, "/run", body: body)
        guard let id = object["id"] as? String, !id.isEmpty else {
            throw RunPodEndpointError(.badReply, "RunPod's /run reply has no job id")
        }
        return id
    }

    public func status(of id: String) async throws(RunPodEndpointError) -> JobStatus {
        let object = try await call(.GET, "/status/" + Self.escaped(id), body: nil)
        guard let status = object["status"] as? String else {
            throw RunPodEndpointError(.badReply, "RunPod's /status reply for job \(id) has no status")
        }
        var output: Data?
        if let value = object["output"], !(value is NSNull) {
            output =
                JSONSerialization.isValidJSONObject(value)
                ? try? JSONSerialization.data(withJSONObject: value)
                : try? JSONSerialization.data(
                    withJSONObject: value, options: .fragmentsAllowed)
        }
        // RunPod's `error` is a string (the SDK's error_info is JSON text inside it); anything
        // else is kept as JSON text.
        var error: String?
        if let value = object["error"], !(value is NSNull) {
            error =
                value as? String
                ?? (try? JSONSerialization.data(withJSONObject: value, options: .fragmentsAllowed)).map {
                    String(decoding: $0, as: UTF8.self)
                }
        }
        return JobStatus(status: status, output: output, error: error)
    }

    public func cancel(_ id: String) async throws(RunPodEndpointError) {
        _ = try await call(.POST, "/cancel/" + Self.escaped(id), body: nil)
    }

    private static func escaped(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? id
    }

    private func call(_ method: HTTPMethod, _ path: String, body: Data?) async throws(RunPodEndpointError)
        -> [String: Any]
    {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer " + apiKey)
        request.headers.add(name: "Accept", value: "application/json")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let status: Int
        let bytes: ByteBuffer
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            status = Int(response.status.code)
            bytes = try await response.body.collect(upTo: Self.maximumReplyBytes)
        } catch {
            // The error names neither the URL's query nor the key.
            throw RunPodEndpointError(.transport, "no reply from RunPod (\(method.rawValue) \(path)): \(error)")
        }
        let text = String(buffer: bytes)
        if status == 401 || status == 403 {
            throw RunPodEndpointError(
                .unauthorized,
                "RunPod refused the API key (HTTP \(status)): check RUNPOD_API_KEY and that the key may use this endpoint",
                status: status)
        }
        guard (200..<300).contains(status) else {
            throw RunPodEndpointError(
                .http, "RunPod answered \(method.rawValue) \(path) with HTTP \(status): \(text.prefix(300))",
                status: status)
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(Array(buffer: bytes))) as? [String: Any] else {
            throw RunPodEndpointError(.badReply, "RunPod's reply to \(method.rawValue) \(path) is not a JSON object")
        }
        return object
    }
}
