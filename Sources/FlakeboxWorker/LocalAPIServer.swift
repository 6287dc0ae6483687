import FlakeboxCore
import FlakeboxJobs
import FlakeboxSandbox
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The SDK's local API (`--rp_serve_api`, docs/RUNPOD_PROTOCOL.md §16.3) with its reply shapes, for
/// trying the worker with curl or the RunPod client SDK before deploying.
///
/// Where the SDK's simulator is a toy, this one does what the real endpoint does: `/run` starts
/// the job (the SDK runs it only when `/status` is asked), `/status` answers GET and POST and can
/// be asked twice, `/status` of a running job shows its progress, and `/cancel` and `/health`
/// exist. `/stream` answers as the SDK does for a handler that is not a generator.
public struct LocalAPIServer: Sendable {
    public var host: String
    public var port: Int
    let handler: FlakeboxJobHandler
    let environment: RunPodEnvironment
    let log: WorkerLog
    /// RunPod's own limit on a `/runsync` request.
    static let maxRequestBytes = 20 << 20
    /// A connection that sends nothing for this long is closed (idle keep-alive and stalled ones).
    static let idleTimeout = TimeAmount.seconds(30)
    /// When set in the worker's environment, every request must carry `Authorization: Bearer`
    /// with this value (the variable never reaches a sandbox: policies pass only what they name).
    static let tokenVariable = "FLAKEBOX_LOCAL_API_TOKEN"

    public init(host: String, port: Int, handler: FlakeboxJobHandler, environment: RunPodEnvironment, log: WorkerLog) {
        self.host = host
        self.port = port
        self.handler = handler
        self.environment = environment
        self.log = log
    }

    /// Serves until SIGTERM or SIGINT; the exit code.
    public func run() async -> Int32 {
        let store = LocalJobStore(handler: handler)
        let router = Router()
        if let token = ProcessInfo.processInfo.environment[Self.tokenVariable], !token.isEmpty {
            router.add(middleware: BearerTokenMiddleware(token: token))
        }
        let replies = Replies(store: store, environment: environment)
        router.post("/run") { request, _ in
            try await replies.submit(request, wait: false)
        }
        router.post("/runsync") { request, _ in
            try await replies.submit(request, wait: true)
        }
        for method in [HTTPRequest.Method.get, .post] {
            router.on("/status/:id", method: method) { _, context in
                await replies.status(context.parameters.get("id") ?? "")
            }
            router.on("/stream/:id", method: method) { _, context in
                Replies.json(
                    Replies.finalShape(
                        id: context.parameters.get("id") ?? "", status: "FAILED",
                        error: "Stream not supported, handler must be a generator."))
            }
        }
        router.post("/cancel/:id") { _, context in
            await replies.cancel(context.parameters.get("id") ?? "")
        }
        router.get("/health") { _, _ in
            await replies.health()
        }
        let log = self.log
        let address = "\(host):\(port)"
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: Self.idleTimeout)),
            configuration: .init(address: .hostname(host, port: port), serverName: "flakebox"),
            onServerRunning: { _ in
                log.info("Local API listening on http://\(address) (/run /runsync /status /cancel /health)")
            },
            // Hummingbird's lines go through the worker's log (one format on stdout); from warnings
            // up, as its request lines would drown ours.
            logger: WorkerLogHandler.libraryLogger("hummingbird", log: log))
        do {
            try await app.runService()
            return 0
        } catch {
            log.error("Local API server failed: \(error)")
            return 1
        }
    }
}

/// The local API's replies, built as JSON text around the summary.
struct Replies: Sendable {
    let store: LocalJobStore
    let environment: RunPodEnvironment

    func submit(_ request: Request, wait: Bool) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: LocalAPIServer.maxRequestBytes)
        } catch {
            return Self.json(
                Self.detail("body", "request body over \(LocalAPIServer.maxRequestBytes) bytes", type: "too_large"),
                status: .contentTooLarge)
        }
        let object: [String: Any]
        do {
            object = try JSONFieldReader.parseObject(Data(body.readableBytesView))
        } catch {
            return Self.json(Self.detail("body", error.message, type: "json_invalid"), status: .unprocessableContent)
        }
        guard let input = object["input"] as? [String: Any] else {
            return Self.json(
                Self.detail("input", "Input should be a valid dictionary", type: "dict_type"),
                status: .unprocessableContent)
        }
        let data = (try? JSONSerialization.data(withJSONObject: input)) ?? Data("{}".utf8)
        guard let id = await store.submit(data) else {
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.retryAfter] = "5"
            return Response(
                status: .tooManyRequests, headers: headers,
                body: ResponseBody(
                    byteBuffer: ByteBuffer(
                        bytes: Self.detail(
                            "input",
                            "the queue is full (\(LocalJobStore.maxQueued) jobs or "
                                + "\(LocalJobStore.maxQueuedBytes >> 20) MB of input); try again later",
                            type: "queue_full"))))
        }
        guard wait else {
            var reply = JSONText()
            reply.add("id", string: id)
            reply.add("status", string: "IN_PROGRESS")
            return Self.json(reply.bytes)
        }
        await store.waitUntilDone(id)
        return await status(id)
    }

    func status(_ id: String) async -> Response {
        guard let entry = await store.entry(id) else {
            return Self.json(Self.finalShape(id: id, status: "FAILED", error: "Job ID not found"))
        }
        var reply = JSONText()
        reply.add("id", string: id)
        switch entry.phase {
        case .queued:
            reply.add("status", string: "IN_QUEUE")
        case .running:
            reply.add("status", string: "IN_PROGRESS")
            if let progress = await store.progress(of: id) {
                reply.add("output", json: progress.json)
            }
        case .cancelled:
            reply.add("status", string: "CANCELLED")
        case .finished(let result):
            let workerID = environment.workerIDIsSet ? environment.workerID : "unknown"
            if let error = result.errorValue(hostname: environment.hostname, workerID: workerID) {
                reply.add("status", string: "FAILED")
                reply.add("error", string: error)
            } else if case .output(let summary) = result {
                reply.add("status", string: "COMPLETED")
                reply.add("output", json: summary)
            }
            if let started = entry.started, let finished = entry.finished {
                reply.add("delayTime", number: Self.milliseconds(started - entry.created))
                reply.add("executionTime", number: Self.milliseconds(finished - started))
            }
        }
        return Self.json(reply.bytes)
    }

    func cancel(_ id: String) async -> Response {
        guard await store.cancel(id) else {
            if await store.entry(id) == nil {
                return Self.json(Self.finalShape(id: id, status: "FAILED", error: "Job ID not found"))
            }
            return await status(id)
        }
        var reply = JSONText()
        reply.add("id", string: id)
        reply.add("status", string: "CANCELLED")
        return Self.json(reply.bytes)
    }

    /// RunPod's `/health` shape.
    func health() async -> Response {
        let health = await store.health
        var reply = JSONText()
        reply.add(
            "jobs",
            value: [
                "completed": health.completed, "failed": health.failed, "inProgress": health.inProgress,
                "inQueue": health.inQueue, "retried": 0,
            ])
        reply.add("workers", value: ["idle": health.inProgress == 0 ? 1 : 0, "running": health.inProgress])
        return Self.json(reply.bytes)
    }

    static func finalShape(id: String, status: String, error: String) -> [UInt8] {
        var reply = JSONText()
        reply.add("id", string: id)
        reply.add("status", string: status)
        reply.add("error", string: error)
        return reply.bytes
    }

    /// FastAPI's validation error shape.
    static func detail(_ field: String, _ message: String, type: String) -> [UInt8] {
        var reply = JSONText()
        reply.add("detail", value: [["type": type, "loc": ["body", field], "msg": message]])
        return reply.bytes
    }

    static func json(_ bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}
