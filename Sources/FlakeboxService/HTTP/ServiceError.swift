import Hummingbird

/// A request the service refuses: the status, the sentence the client reads in
/// `{"error": "…"}`, and for a quota its `Retry-After`.
public struct ServiceError: Error, Sendable, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// Seconds, sent as `Retry-After` (429, 503).
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response { response }

    var response: Response {
        var reply = ServiceReply.json(ServiceReply.error(message), status: status)
        if let retryAfter { reply.headers[.retryAfter] = String(retryAfter) }
        return reply
    }

    static func badRequest(_ message: String) -> Self { Self(.badRequest, message) }
    static let unauthorized = Self(.unauthorized, "401 Unauthorized")
    static func forbidden(_ message: String) -> Self { Self(.forbidden, message) }
    /// An unknown job and another key's job get the same reply, so ids cannot be probed.
    static func jobNotFound(_ id: String) -> Self {
        // Not echoed when it cannot be a job id (no reply grows with what the client sent).
        Self(.notFound, id.utf8.count <= 64 ? "job \(id) not found" : "job not found")
    }
    static func notFound(_ message: String) -> Self { Self(.notFound, message) }
    static func conflict(_ message: String) -> Self { Self(.conflict, message) }
    static func tooLarge(_ limit: Int) -> Self {
        Self(.contentTooLarge, "the request body is over \(limit >> 20) MB")
    }
    static func invalid(_ message: String) -> Self { Self(.unprocessableContent, message) }
    static func unavailable(_ message: String, retryAfter: Int? = nil) -> Self {
        Self(.serviceUnavailable, message, retryAfter: retryAfter)
    }
}
