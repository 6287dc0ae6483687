import FlakeboxJobs
import Hummingbird
import NIOCore

extension ServiceAPI {
    /// `GET /livez`: the process answers.
    func live() -> Response { ServiceReply.json(Array(#"{"status": "ok"}"#.utf8)) }

    /// `GET /readyz`: 503 while draining or when the database does not answer.
    func ready() async -> Response {
        if state.draining {
            return ServiceReply.json(
                ServiceReply.error("draining: the service is shutting down"), status: .serviceUnavailable)
        }
        guard await databaseReachable() else {
            return ServiceReply.json(
                ServiceReply.error("the job database does not answer"), status: .serviceUnavailable)
        }
        return ServiceReply.json(Array(#"{"status": "ready"}"#.utf8))
    }

    /// `GET /metrics`: Prometheus text, to an admin key.
    func metricsPage(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        _ = try context.require(.admin)
        if let counts = try? await store.counts(owner: nil) {
            metrics.setQueue(queued: counts[.inQueue] ?? 0, running: counts[.inProgress] ?? 0)
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.text)))
    }

    /// `GET /openapi.json`: the service's OpenAPI document (no auth).
    func openAPI() -> Response {
        ServiceReply.json(Array(OpenAPIDocument.json.utf8))
    }
}
