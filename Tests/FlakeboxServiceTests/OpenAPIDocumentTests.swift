import FlakeboxCore
import FlakeboxJobs
import FlakeboxSandbox
import FlakeboxService
import Foundation
import Testing

/// The OpenAPI document against the service's contract (API.md, the routes below): valid JSON,
/// every route with its methods, every reference resolvable, and the status codes and headers
/// outside clients rely on.
@Suite struct OpenAPIDocumentTests {
    /// Every route of the contract, with its methods.
    static let routes: [(path: String, methods: [String])] = [
        ("/v2/{endpoint_id}/run", ["post"]),
        ("/v2/{endpoint_id}/runsync", ["post"]),
        ("/v2/{endpoint_id}/status/{id}", ["get", "post"]),
        ("/v2/{endpoint_id}/stream/{id}", ["get", "post"]),
        ("/v2/{endpoint_id}/cancel/{id}", ["post"]),
        ("/v2/{endpoint_id}/retry/{id}", ["post"]),
        ("/v2/{endpoint_id}/purge-queue", ["post"]),
        ("/v2/{endpoint_id}/health", ["get"]),
        ("/v2/{endpoint_id}/jobs", ["get"]),
        ("/v2/{endpoint_id}/report/{id}", ["get"]),
        ("/livez", ["get"]),
        ("/readyz", ["get"]),
        ("/metrics", ["get"]),
        ("/openapi.json", ["get"]),
    ]

    func document() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8))
        return try #require(object as? [String: Any])
    }

    func operation(_ document: [String: Any], _ path: String, _ method: String) -> [String: Any]? {
        let paths = document["paths"] as? [String: Any]
        return (paths?[path] as? [String: Any])?[method] as? [String: Any]
    }

    /// The response codes of an operation.
    func codes(_ document: [String: Any], _ path: String, _ method: String) -> Set<String> {
        Set((operation(document, path, method)?["responses"] as? [String: Any] ?? [:]).keys)
    }

    @Test("valid JSON, OpenAPI 3.1, every route of the contract and no other")
    func everyRoute() throws {
        let document = try document()
        #expect((document["openapi"] as? String)?.hasPrefix("3.1") == true)
        let paths = try #require(document["paths"] as? [String: Any])
        for route in Self.routes {
            for method in route.methods {
                #expect(operation(document, route.path, method) != nil, "\(method.uppercased()) \(route.path) missing")
            }
        }
        #expect(Set(paths.keys) == Set(Self.routes.map(\.path)), "\(paths.keys.sorted())")
        let operationIDs = Self.routes.flatMap { route in
            route.methods.compactMap { operation(document, route.path, $0)?["operationId"] as? String }
        }
        #expect(Set(operationIDs).count == operationIDs.count, "operation ids are unique: \(operationIDs)")
    }

    @Test("every $ref resolves inside the document")
    func references() throws {
        let document = try document()
        var references: [String] = []
        func collect(_ value: Any) {
            if let object = value as? [String: Any] {
                if let reference = object["$ref"] as? String { references.append(reference) }
                object.values.forEach(collect)
            } else if let array = value as? [Any] {
                array.forEach(collect)
            }
        }
        collect(document)
        #expect(references.count > 50)
        for reference in Set(references) {
            #expect(reference.hasPrefix("#/"), "\(reference)")
            var node: Any? = document
            for part in reference.dropFirst(2).split(separator: "/") {
                node = (node as? [String: Any])?[String(part)]
            }
            #expect(node is [String: Any], "\(reference) does not resolve")
        }
    }

    @Test("the /v2 routes need a key and answer 400, 401, 403, 404, 503 and 429 with Retry-After")
    func keyedRoutes() throws {
        let document = try document()
        let schemes = try #require(
            (document["components"] as? [String: Any])?["securitySchemes"] as? [String: [String: Any]])
        #expect(schemes["bearerAuth"]?["scheme"] as? String == "bearer")
        #expect(schemes["rawKey"]?["name"] as? String == "Authorization")
        #expect((document["security"] as? [Any])?.isEmpty == false)
        for route in Self.routes where route.path.hasPrefix("/v2/") {
            for method in route.methods {
                let codes = codes(document, route.path, method)
                #expect(
                    codes.isSuperset(of: ["200", "400", "401", "403", "404", "429", "503"]), "\(route.path): \(codes)")
                let security = operation(document, route.path, method)?["security"] as? [[String: Any]]
                if route.path.hasSuffix("/report/{id}") {
                    // A browser opens the report through its signed link (report_url), without a key.
                    #expect(security?.count == 3 && security?.last?.isEmpty == true)
                } else {
                    #expect(security == nil, "\(route.path) needs the document's key")
                }
            }
        }
        for open in ["/livez", "/readyz", "/openapi.json"] {
            #expect((operation(document, open, "get")?["security"] as? [Any])?.isEmpty == true, "\(open) needs no key")
        }
        #expect(codes(document, "/readyz", "get") == ["200", "503"])
        #expect(codes(document, "/metrics", "get").isSuperset(of: ["200", "401", "403"]))
        let tooMany = try #require(
            ((document["components"] as? [String: Any])?["responses"] as? [String: Any])?["TooManyRequests"]
                as? [String: Any])
        #expect((tooMany["headers"] as? [String: Any])?["Retry-After"] != nil)
    }

    @Test("submitting: 413 and 422, and a body that refuses unknown fields")
    func submitting() throws {
        let document = try document()
        for path in ["/v2/{endpoint_id}/run", "/v2/{endpoint_id}/runsync"] {
            #expect(codes(document, path, "post").isSuperset(of: ["413", "422"]), "\(path)")
        }
        #expect(codes(document, "/v2/{endpoint_id}/retry/{id}", "post").contains("409"))
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        for name in ["RunRequest", "Policy", "JobInput"] {
            #expect(schemas[name]?["additionalProperties"] as? Bool == false, "\(name) refuses unknown fields")
        }
        let request = try #require(schemas["RunRequest"]?["properties"] as? [String: Any])
        #expect(Set(request.keys) == ["input", "webhook", "policy"], "s3Config is refused")
    }

    @Test("the summary's RunPod keys are required, under the names JobSummary encodes")
    func summary() throws {
        let document = try document()
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        let summary = try #require(schemas["Summary"])
        let required = Set(summary["required"] as? [String] ?? [])
        #expect(required == ["total_runs", "parallelism", "failures", "repro_rate", "results"])
        // The names the summary really carries: every property the document names is one of them.
        let encoded = try JSONSerialization.jsonObject(with: try Self.sampleSummary) as? [String: Any] ?? [:]
        let properties = Set((summary["properties"] as? [String: Any] ?? [:]).keys)
        #expect(required.isSubset(of: Set(encoded.keys)))
        #expect(properties.subtracting(encoded.keys).isEmpty, "\(properties.subtracting(encoded.keys).sorted())")
        let states = Set((schemas["JobState"]?["enum"] as? [String]) ?? [])
        #expect(states == Set(JobState.allCases.map(\.rawValue)))
    }

    /// A real summary (one passed, one failed attempt), as the service's `output` carries it.
    static var sampleSummary: Data {
        get throws {
            let isolation = try JSONDecoder().decode(
                IsolationReport.self,
                from: Data(
                    #"{"tier": "reduced", "kernel": "6.1.0", "rootless": false, "cgroupsUsable": false, "layers": []}"#
                        .utf8))
            let records = [AttemptStatus.passed, .failed].enumerated().map { index, status in
                let result = AttemptResult(
                    status: status, exitCode: status == .passed ? 0 : 1, signal: nil, setupFailure: nil, wallSeconds: 1,
                    cpuSeconds: 0.5, peakMemoryBytes: 1 << 20,
                    stdout: CapturedOutput(head: [], tail: [], totalBytes: 0),
                    stderr: CapturedOutput(head: [], tail: [], totalBytes: 0), tier: .reduced)
                return AttemptRecord(attempt: index + 1, seed: UInt64(index + 1), result: result)
            }
            let job = JobInput(repo: "https://example.com/repo.git", testCommand: "true", runs: 2, parallelism: 1)
            let input = SummaryInput(job: job, records: records, complete: true, isolation: isolation)
            return Summarizer.summarize(input).encodedJSON()
        }
    }
}
