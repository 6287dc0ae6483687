import Hummingbird
import Logging

/// In front of every route: turns every error into `{"error": …}` with its status (no input
/// makes an empty or HTML reply), and counts requests by route and status.
struct ServiceFrontMiddleware: RouterMiddleware {
    typealias Context = ServiceRequestContext

    let metrics: ServiceMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let route = Self.route(of: request.uri.path)
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as ServiceError {
            response = error.response
        } catch let error as HTTPError {
            response = ServiceError(error.status, error.body ?? Self.sentence(for: error.status)).response
        } catch let error as any HTTPResponseError {
            // AuthRefusal, QuotaRefusal: their own `{"error": …}` (and Retry-After).
            response =
                (try? error.response(from: request, context: context))
                ?? ServiceError(error.status, Self.sentence(for: error.status)).response
        } catch {
            context.logger.error("request failed: \(error)")
            response = ServiceError(.internalServerError, "internal error").response
        }
        metrics.request(route: route, status: response.status.code)
        return response
    }

    /// A route's name for metrics: the action under `/v2/{endpoint}/`, or the operations path;
    /// never a raw path (ids would grow the label set without end).
    static func route(of path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        let actions: Set<Substring> = [
            "run", "runsync", "status", "stream", "cancel", "retry", "purge-queue", "health", "jobs", "report",
        ]
        if parts.count >= 3, parts[0] == "v2", actions.contains(parts[2]) { return String(parts[2]) }
        if parts.count == 1, ["livez", "readyz", "metrics", "openapi.json"].contains(parts[0]) {
            return String(parts[0])
        }
        return "other"
    }

    private static func sentence(for status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "not found"
        case .methodNotAllowed: "method not allowed"
        default: status.reasonPhrase
        }
    }
}
