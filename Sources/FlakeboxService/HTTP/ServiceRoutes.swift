import FlakeboxJobs
import Hummingbird

/// Every route of docs API.md on one router: RunPod's endpoint API under `/v2/{endpoint_id}/`,
/// flakebox's own job list and report page, and the operations routes outside `/v2`.
enum ServiceRoutes {
    static func register(_ api: ServiceAPI, on router: Router<ServiceRequestContext>) {
        router.add(middleware: ServiceFrontMiddleware(metrics: api.metrics))
        // Sets the request's key (or refuses a bad one, or one in the query string); each route
        // then requires the scope it needs.
        router.add(middleware: APIKeyAuthenticator<ServiceRequestContext>(keys: api.keys))
        let v2 = router.group("v2/:endpoint")
        v2.post("run") { request, context in
            try endpoint(context, api)
            return try await api.submit(request, context: context, sync: false)
        }
        v2.post("runsync") { request, context in
            try endpoint(context, api)
            return try await api.submit(request, context: context, sync: true)
        }
        for method in [HTTPRequest.Method.get, .post] {
            v2.on("status/:id", method: method) { request, context in
                try endpoint(context, api)
                return try await api.status(request, context: context, id: context.parameters.get("id") ?? "")
            }
            v2.on("stream/:id", method: method) { request, context in
                try endpoint(context, api)
                return try await api.stream(request, context: context, id: context.parameters.get("id") ?? "")
            }
        }
        v2.post("cancel/:id") { request, context in
            try endpoint(context, api)
            return try await api.cancel(request, context: context, id: context.parameters.get("id") ?? "")
        }
        v2.post("retry/:id") { request, context in
            try endpoint(context, api)
            return try await api.retry(request, context: context, id: context.parameters.get("id") ?? "")
        }
        v2.post("purge-queue") { request, context in
            try endpoint(context, api)
            return try await api.purgeQueue(request, context: context)
        }
        v2.get("health") { request, context in
            try endpoint(context, api)
            return try await api.health(request, context: context)
        }
        v2.get("jobs") { request, context in
            try endpoint(context, api)
            return try await api.list(request, context: context)
        }
        v2.get("report/:id") { request, context in
            try endpoint(context, api)
            return try await api.report(request, context: context, id: context.parameters.get("id") ?? "")
        }
        router.get("livez") { _, _ in api.live() }
        router.get("readyz") { _, _ in await api.ready() }
        router.get("metrics") { request, context in try await api.metricsPage(request, context: context) }
        router.get("openapi.json") { _, _ in api.openAPI() }
    }

    /// Another endpoint id is a 404, as RunPod answers for an endpoint that does not exist.
    private static func endpoint(_ context: ServiceRequestContext, _ api: ServiceAPI) throws(ServiceError) {
        guard context.parameters.get("endpoint") == api.endpointID else {
            throw .notFound("no endpoint \(context.parameters.get("endpoint") ?? "") here")
        }
    }
}
