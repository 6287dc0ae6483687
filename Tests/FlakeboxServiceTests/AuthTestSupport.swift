import FlakeboxCore
import FlakeboxJobs
import FlakeboxService
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// A key store that counts lookups by hash, to show what was (and was not) looked up.
actor CountingKeyStore: APIKeyStore {
    let inner: MemoryAPIKeyStore
    private(set) var lookups = 0

    init(_ keys: [APIKey] = []) { inner = MemoryAPIKeyStore(keys) }

    func insert(_ key: APIKey) async throws(JobStoreError) { try await inner.insert(key) }
    func key(secretHash: String) async throws(JobStoreError) -> APIKey? {
        lookups += 1
        return await inner.key(secretHash: secretHash)
    }
    func key(id: String) async throws(JobStoreError) -> APIKey? { await inner.key(id: id) }
    func keys() async throws(JobStoreError) -> [APIKey] { await inner.keys() }
    func revoke(id: String, at: Date) async throws(JobStoreError) -> Bool { await inner.revoke(id: id, at: at) }
}

/// Opens when the test says so: holds `/runsync` requests of the test app waiting.
actor Latch {
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if open { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func release() {
        open = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}

/// A small app over the authenticator and the quota gate, as the service's routes use them:
/// `GET /open` (no key), `GET /v2/flakebox/health` (read), `POST /v2/flakebox/run` (submit: the
/// input parsed as a flakebox job, checked against the key's quotas, queued), `POST
/// /v2/flakebox/runsync` (submit: one sync wait held until `latch` opens).
func makeAuthApp(
    keys: any APIKeyStore, jobs: any JobStore = MemoryJobStore(limits: .init(maxQueued: 1_000)),
    cacheTTL: Duration = .seconds(5), latch: Latch = Latch()
) -> (app: some ApplicationProtocol, gate: QuotaGate) {
    let gate = QuotaGate(jobs: jobs)
    let router = Router(context: ServiceRequestContext.self)
    router.add(middleware: APIKeyAuthenticator(keys: keys, cacheTTL: cacheTTL))
    router.get("open") { _, _ in "ok" }
    router.get("v2/flakebox/health") { _, context in
        let key = try context.require(.read)
        return key.id
    }
    router.post("v2/flakebox/run") { request, context -> Response in
        let key = try context.require(.submit)
        let body = try await request.body.collect(upTo: 1 << 20)
        let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] ?? [:]
        let inputData = try JSONSerialization.data(withJSONObject: object["input"] ?? [:])
        let input = try JobInput.parse(json: inputData, origin: .remote)
        let id = UUID().uuidString.lowercased()
        try await gate.submit(key: key, attemptSeconds: QuotaGate.attemptSeconds(of: input)) {
            try await jobs.insert(
                StoredJob(
                    id: id, owner: key.id, input: inputData, attemptSeconds: QuotaGate.attemptSeconds(of: input)))
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: #"{"id":"\#(id)","status":"IN_QUEUE"}"#)))
    }
    router.post("v2/flakebox/runsync") { _, context -> String in
        let key = try context.require(.submit)
        try await gate.acquireSyncWait(key: key)
        await latch.wait()
        await gate.releaseSyncWait(keyID: key.id)
        return "done"
    }
    let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    return (app, gate)
}

/// A job input costing `runs` × `timeout` attempt-seconds.
func runBody(runs: Int, timeout: Int) -> ByteBuffer {
    ByteBuffer(
        string: #"{"input": {"repo": "https://example.com/r.git", "test_command": "true", "runs": \#(runs), "#
            + #""timeout_s": \#(timeout)}}"#)
}

func bearer(_ secret: String) -> HTTPFields { [.authorization: "Bearer \(secret)"] }

/// The `{"error": …}` text of a reply.
func errorText(_ body: ByteBuffer) -> String? {
    (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any])?["error"] as? String
}
