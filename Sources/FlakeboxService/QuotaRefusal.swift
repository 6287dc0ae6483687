import Hummingbird

/// A request over one of its key's quotas: 429 with `Retry-After` and `{"error": message}`.
public struct QuotaRefusal: Error, Sendable, Equatable, HTTPResponseError, CustomStringConvertible {
    /// Which quota (`maxQueued`, `maxAttemptSecondsPerJob`, `maxAttemptSecondsPerDay`, `maxSyncWaits`).
    public var quota: String
    public var limit: Int
    /// Seconds after which the same request may pass.
    public var retryAfter: Int
    public var message: String

    public init(quota: String, limit: Int, retryAfter: Int, message: String) {
        self.quota = quota
        self.limit = limit
        self.retryAfter = retryAfter
        self.message = message
    }

    public var status: HTTPResponse.Status { .tooManyRequests }
    public var description: String { message }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        errorResponse(status: status, message: message, retryAfter: retryAfter)
    }
}
