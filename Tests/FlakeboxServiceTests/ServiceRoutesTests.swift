import AsyncHTTPClient
import Crypto
import FlakeboxCore
import FlakeboxJobs
import FlakeboxService
import FlakeboxTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// A stand-in engine for the HTTP layer's own tests: `test_command` "sleep N" waits N seconds
/// (until cancelled), and the output is a fixed summary-like object, so that the routes are
/// tested apart from the sandboxes.
final class SleepingExecutor: JobExecutor {
    static let output = Data(#"{"b": [1, 2], "a": "ü/\u00e9", "total_runs": 1}"#.utf8)

    func execute(_ job: StoredJob, progress: @escaping @Sendable (JobProgress) -> Void) async -> HandlerResult {
        let object = (try? JSONSerialization.jsonObject(with: job.input)) as? [String: Any] ?? [:]
        let words = (object["test_command"] as? String ?? "").split(separator: " ")
        if words.first == "sleep", let seconds = Double(words.last ?? "") {
            try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
        }
        return .output(Self.output)
    }
}

extension MemoryAPIKeyStore {
    /// Adds a key with this secret.
    func add(id: String, secret: String, scopes: Set<APIKey.Scope> = [.submit, .read]) async throws {
        let hash = SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
        try insert(APIKey(id: id, name: id, secretHash: hash, scopes: scopes, webhookSecret: "whsec_x"))
    }
}

/// The server in this process on 127.0.0.1:0 over a `MemoryJobStore`, stopped by cancellation.
struct InProcessService {
    let port: Int
    let task: Task<Void, any Error>
    let keys: MemoryAPIKeyStore

    static func start(publicURL: String? = nil) async throws -> InProcessService {
        let keys = MemoryAPIKeyStore()
        try await keys.add(id: "key_a", secret: "fbk_a")
        try await keys.add(id: "key_b", secret: "fbk_b")
        try await keys.add(id: "key_admin", secret: "fbk_admin", scopes: [.admin])
        let database = ServiceDatabase(jobs: MemoryJobStore(), keys: keys)
        let port = Mutex<Int?>(nil)
        var configuration = ServiceConfiguration(
            host: "127.0.0.1", port: 0, databasePath: "/nonexistent", allowPrivateAddresses: true)
        configuration.publicURL = publicURL
        let server = ServiceServer(
            options: .init(
                configuration: configuration,
                allowLocalRepositories: true),
            database: database, executor: SleepingExecutor(), reportSecret: Array(repeating: 1, count: 32))
        let task = Task { try await server.run { bound in port.withLock { $0 = bound } } }
        let deadline = ContinuousClock.now + .seconds(30)
        while port.withLock({ $0 }) == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        return InProcessService(port: try #require(port.withLock { $0 }), task: task, keys: keys)
    }

    func send(_ method: HTTPMethod, _ path: String, json: String? = nil, key: String? = nil) async throws
        -> ServiceReplyRecord
    {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        if let json { request.body = .bytes(ByteBuffer(string: json)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let body = try await response.body.collect(upTo: 32 << 20)
        return ServiceReplyRecord(
            status: Int(response.status.code), headers: response.headers, bytes: Array(buffer: body))
    }
}

@Suite("flakebox serve routes (in process, stand-in engine)", .serialized)
struct ServiceRoutesTests {
    let repo = NSTemporaryDirectory()

    func body(_ command: String, extra: String = "") -> String {
        #"{"input": {"repo": \#(ServiceHarness.text([repo]).dropFirst().dropLast()), "test_command": "\#(command)"}\#(extra)}"#
    }

    @Test("a completed job's output is the stored summary's bytes, spliced")
    func splicedSummary() async throws {
        let service = try await InProcessService.start()
        defer { service.task.cancel() }
        let reply = try await service.send(.POST, "/v2/flakebox/runsync", json: body("true"), key: "fbk_a")
        #expect(reply.status == 200, "\(reply)")
        #expect(reply.text.contains(#""output": "# + String(decoding: SleepingExecutor.output, as: UTF8.self)))
        #expect(reply.json?["status"] as? String == "COMPLETED")
        #expect(
            (reply.json?["report_url"] as? String)?.hasPrefix("http://127.0.0.1:\(service.port)/v2/flakebox/report/")
                == true, "\(reply)")
    }

    @Test("behind a proxy, report links carry --public-url, not the request's Host")
    func publicURL() async throws {
        let service = try await InProcessService.start(publicURL: "https://flakebox.example/ci/")
        defer { service.task.cancel() }
        let reply = try await service.send(.POST, "/v2/flakebox/runsync", json: body("true"), key: "fbk_a")
        let link = try #require(reply.json?["report_url"] as? String, "\(reply)")
        #expect(link.hasPrefix("https://flakebox.example/ci/v2/flakebox/report/"), "\(link)")
        #expect(link.contains("signature="), "\(link)")
    }

    @Test("another key's job is a 404 like an unknown one; an admin key sees it")
    func tenants() async throws {
        let service = try await InProcessService.start()
        defer { service.task.cancel() }
        let run = try await service.send(.POST, "/v2/flakebox/run", json: body("sleep 30"), key: "fbk_a")
        let id = try #require(run.json?["id"] as? String, "\(run)")
        #expect(run.json?["status"] as? String == "IN_QUEUE")
        let foreign = try await service.send(.GET, "/v2/flakebox/status/\(id)", key: "fbk_b")
        let unknown = try await service.send(.GET, "/v2/flakebox/status/nope", key: "fbk_b")
        #expect(foreign.status == 404 && unknown.status == 404)
        #expect(foreign.text == unknown.text.replacingOccurrences(of: "nope", with: id))
        let admin = try await service.send(.GET, "/v2/flakebox/status/\(id)", key: "fbk_admin")
        #expect(admin.status == 200)
        let cancelled = try await service.send(.POST, "/v2/flakebox/cancel/\(id)", key: "fbk_a")
        #expect(cancelled.text == #"{"id": "\#(id)", "status": "CANCELLED"}"#)
        let purge = try await service.send(.POST, "/v2/flakebox/purge-queue", key: "fbk_a")
        #expect(purge.text == #"{"removed": 0, "status": "completed"}"#)
    }

    @Test("errors are JSON with their status: 400 key in URL, 401, 404 route, 405, 422")
    func errors() async throws {
        let service = try await InProcessService.start()
        defer { service.task.cancel() }
        for name in ["api_key", "apikey", "key", "token", "access_token"] {
            let reply = try await service.send(.GET, "/v2/flakebox/health?\(name)=fbk_a")
            #expect(reply.status == 400 && reply.json?["error"] is String, "\(name): \(reply)")
        }
        let none = try await service.send(.GET, "/v2/flakebox/health")
        #expect(none.status == 401 && none.json?["error"] as? String == "401 Unauthorized")
        let route = try await service.send(.GET, "/v2/flakebox/nothing", key: "fbk_a")
        #expect(route.status == 404 && route.json?["error"] is String, "\(route)")
        let bad = try await service.send(
            .POST, "/v2/flakebox/run", json: body("true", extra: #", "s3Config": {}"#), key: "fbk_a")
        #expect(bad.status == 422 && (bad.json?["error"] as? String)?.contains("s3Config") == true, "\(bad)")
        let limit = try await service.send(.GET, "/v2/flakebox/jobs?limit=0", key: "fbk_a")
        #expect(limit.status == 400)
        let ttl = try await service.send(.GET, "/v2/flakebox/status/x?ttl=5", key: "fbk_a")
        #expect(ttl.status == 400)
    }
}
