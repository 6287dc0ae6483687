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
        let workerID = environment.workerIDIsSet ? environment.workerID : "unknown"
        // The SDK runs one job at a time and keeps results while the process lives; RunPod keeps
        // a `/run` result 30 minutes.
        let service = JobService(
            store: MemoryJobStore(), executor: handler,
            configuration: .init(
                concurrency: 1, retention: .seconds(1800), hostname: environment.hostname, workerID: workerID))
        do {
            try await service.start()
        } catch {
            log.error("Local API could not start its job service: \(error)")
            return 1
        }
        let router = Router()
        if let token = ProcessInfo.processInfo.environment[Self.tokenVariable], !token.isEmpty {
            router.add(middleware: BearerTokenMiddleware(token: token))
        }
        let replies = Replies(service: service)
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
        let code: Int32
        do {
            try await app.runService()
            code = 0
        } catch {
            log.error("Local API server failed: \(error)")
            code = 1
        }
        // A job still running is cancelled, so that its sandboxes die with the worker.
        await service.shutdown(grace: .zero)
        return code
    }
}

/// The local API's replies: RunPod's shapes over the job service, built as JSON text around the
/// summary.
struct Replies: Sendable {
    let service: JobService
    /// The SDK's simulator runs a job for as long as it takes: no execution timeout of RunPod's.
    static let policy = JobPolicy(executionTimeoutMs: JobPolicy.executionTimeoutRange.upperBound)

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
        let id = "test-" + UUID().uuidString.lowercased()
        do {
            try await service.submit(StoredJob(id: id, owner: "", input: data, policy: Self.policy))
        } catch {
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.retryAfter] = "5"
            return Response(
                status: error.code == .full ? .tooManyRequests : .serviceUnavailable, headers: headers,
                body: ResponseBody(
                    byteBuffer: ByteBuffer(
                        bytes: Self.detail("input", "\(error.message); try again later", type: "queue_full"))))
        }
        guard wait else {
            var reply = JSONText()
            reply.add("id", string: id)
            reply.add("status", string: "IN_PROGRESS")
            return Self.json(reply.bytes)
        }
        await service.waitUntilFinal(id: id, timeout: .seconds(86_400))
        return await status(id)
    }

    func status(_ id: String) async -> Response {
        guard let job = try? await service.job(id: id) else {
            return Self.json(Self.finalShape(id: id, status: "FAILED", error: "Job ID not found"))
        }
        let progress = job.state == .inProgress ? await service.progress(of: id) : nil
        return Self.json(JobStatusReply(job: job, progress: progress).bytes)
    }

    func cancel(_ id: String) async -> Response {
        guard (try? await service.cancel(id: id)) != nil else {
            return Self.json(Self.finalShape(id: id, status: "FAILED", error: "Job ID not found"))
        }
        return await status(id)
    }

    /// RunPod's `/health` shape.
    func health() async -> Response {
        let counts = (try? await service.store.counts(owner: nil)) ?? [:]
        let running = await service.runningCount
        var reply = JSONText()
        reply.add(
            "jobs",
            value: [
                "completed": counts[.completed] ?? 0, "failed": (counts[.failed] ?? 0) + (counts[.timedOut] ?? 0),
                "inProgress": counts[.inProgress] ?? 0, "inQueue": counts[.inQueue] ?? 0, "retried": 0,
            ])
        reply.add("workers", value: ["idle": running == 0 ? 1 : 0, "running": running])
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
}
