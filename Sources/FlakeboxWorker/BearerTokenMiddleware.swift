import Hummingbird

/// Refuses every request that does not carry `Authorization: Bearer <token>` with 401. The
/// comparison takes the same time wherever the first difference is.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    init(token: String) {
        self.token = Array(token.utf8)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let given = Array((request.headers[.authorization] ?? "").utf8)
        let prefix = Array("Bearer ".utf8)
        guard given.count == prefix.count + token.count, Array(given.prefix(prefix.count)) == prefix else {
            return Self.unauthorized
        }
        var difference: UInt8 = 0
        for (a, b) in zip(given.dropFirst(prefix.count), token) { difference |= a ^ b }
        return difference == 0 ? try await next(request, context) : Self.unauthorized
    }

    static var unauthorized: Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.wwwAuthenticate] = "Bearer"
        return Response(
            status: .unauthorized, headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: #"{"error":"missing or wrong bearer token"}"#)))
    }
}
