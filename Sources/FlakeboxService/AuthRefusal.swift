import Foundation
import Hummingbird

/// A request refused before any route runs: a key in the query string (400), no key or an
/// unknown or revoked one (401), a missing scope (403). The body is `{"error": "…"}`.
public struct AuthRefusal: Error, Sendable, Equatable, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// Exactly RunPod's text, for every kind of bad key: which one it was is not told.
    public static let unauthorized = AuthRefusal(.unauthorized, "401 Unauthorized")

    public var description: String { "\(status.code) \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        errorResponse(status: status, message: message)
    }
}

/// `{"error": message}` with `status` (and `Retry-After` when given).
func errorResponse(status: HTTPResponse.Status, message: String, retryAfter: Int? = nil) -> Response {
    let body = (try? JSONSerialization.data(withJSONObject: ["error": message], options: [.sortedKeys])) ?? Data()
    var headers: HTTPFields = [.contentType: "application/json"]
    if let retryAfter { headers[.retryAfter] = String(retryAfter) }
    return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
}
