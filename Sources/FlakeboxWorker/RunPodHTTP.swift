import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPCompression

/// A reply from the platform, its body read up to a limit.
struct HTTPReply: Sendable {
    var status: Int
    var contentType: String?
    var body: [UInt8]

    var isSuccess: Bool { (200..<300).contains(status) }
}

/// An HTTP failure below the status line: refused, reset, timed out, a body over its limit.
struct TransportError: Error, Sendable, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// The worker's one HTTP client (AsyncHTTPClient: TLS to the platform, pooled connections), with
/// the headers the SDK sends (docs/RUNPOD_PROTOCOL.md §4): the API key raw in `Authorization`, never
/// with `Bearer`, and `Accept`/`Accept-Encoding` as aiohttp and requests send them. Unlike the SDK,
/// a job id set for one job-done post does not leak onto later requests.
final class RunPodHTTP: Sendable {
    private let client: HTTPClient
    private let apiKey: String

    init(apiKey: String, log: WorkerLog? = nil) {
        self.apiKey = apiKey
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10)),
            // The SDK asks for gzip and deflate; a job that arrives compressed may not inflate past
            // the job size limit.
            decompression: .enabled(limit: .size(JobTaker.maxJobBytes)))
        configuration.httpVersion = .http1Only
        client = HTTPClient(
            eventLoopGroupProvider: .singleton, configuration: configuration,
            backgroundActivityLogger: log.map { WorkerLogHandler.libraryLogger("async-http-client", log: $0) }
                ?? Logger(label: "async-http-client") { _ in SwiftLogNoOpLogHandler() })
    }

    func shutdown() async {
        try? await client.shutdown()
    }

    /// A GET with the SDK's session headers (job-take, job-stop) or only the key (ping).
    func get(_ url: String, timeout: Duration, sessionHeaders: Bool = true, bodyLimit: Int = 64 << 10)
        async throws(TransportError) -> HTTPReply
    {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        addCommonHeaders(&request)
        if sessionHeaders { request.headers.add(name: "Content-Type", value: "application/json") }
        return try await execute(request, timeout: timeout, bodyLimit: bodyLimit)
    }

    /// A job-done or stream post, byte for byte as the SDK sends it: a JSON body under a form
    /// Content-Type, a header literally named `charset`, and the job id in `X-Request-ID`.
    func postResult(_ url: String, jobID: String, body: [UInt8], timeout: Duration) async throws(TransportError)
        -> HTTPReply
    {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        addCommonHeaders(&request)
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "charset", value: "utf-8")
        request.headers.add(name: "X-Request-ID", value: jobID)
        request.body = .bytes(ByteBuffer(bytes: body))
        return try await execute(request, timeout: timeout, bodyLimit: 64 << 10)
    }

    private func addCommonHeaders(_ request: inout HTTPClientRequest) {
        request.headers.add(name: "Authorization", value: apiKey)
        request.headers.add(name: "User-Agent", value: WorkerProtocol.userAgent)
        request.headers.add(name: "Accept", value: "*/*")
        request.headers.add(name: "Accept-Encoding", value: "gzip, deflate")
    }

    private func execute(_ request: HTTPClientRequest, timeout: Duration, bodyLimit: Int) async throws(TransportError)
        -> HTTPReply
    {
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(timeout.nanoseconds))
            let body = try await response.body.collect(upTo: bodyLimit)
            return HTTPReply(
                status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type"),
                body: Array(buffer: body))
        } catch let error as NIOTooManyBytesError {
            throw TransportError(message: "reply larger than \(bodyLimit) bytes (\(error))")
        } catch is CancellationError {
            throw TransportError(message: "cancelled")
        } catch {
            throw TransportError(message: "\(Self.name(of: error))")
        }
    }

    /// A short name for a client error (its type and description), without the URL, which may carry a token.
    private static func name(of error: any Error) -> String {
        if let client = error as? HTTPClientError { return "HTTPClientError: \(client)" }
        return "\(type(of: error)): \(error)"
    }
}

extension Duration {
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
