import FlakeboxCore
import FlakeboxJobs
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A stand-in for RunPod's client API of one endpoint (docs/RUNPOD_PROTOCOL.md §18) on 127.0.0.1:
/// `POST /v2/EP/run`, `GET /v2/EP/status/{id}`, `POST /v2/EP/cancel/{id}`, answered only with
/// `Authorization: Bearer <key>` (401 otherwise). Each submitted job runs for real, in process,
/// through the worker's `FlakeboxJobHandler` (the repository URL mapped to a local path, as a
/// worker would clone it), its summary the `output` of a `COMPLETED` job and its error the `error`
/// of a `FAILED` one, as RunPod reports a worker's job-done; unless the stand-in holds jobs
/// (`IN_PROGRESS` with a progress object until cancelled) or is told to fail a shard's first jobs
/// for a platform reason (`FAILED`, no output).
actor EndpointStandIn {
    enum Mode: Sendable {
        case run
        case hold
    }

    struct Job {
        var input: [String: Any]
        var status: String
        var output: [UInt8]?
        var error: String?
        var task: Task<Void, Never>?
    }

    nonisolated let port: Int
    nonisolated let key: String
    private let channel: any Channel
    private let inbox: AsyncStream<StandInRunPod.Incoming>.Continuation
    private let mode: Mode
    /// Repository URL → local path the jobs run on.
    private let repositories: [String: String]
    /// Seed start → how many of its jobs still fail for a platform reason.
    private var failures: [UInt64: Int]
    /// Run when the first job arrives, before it starts (a push between the submissions' clones).
    private let onFirstJob: (@Sendable () -> Void)?
    /// The handler takes local paths (the mapped repositories); false: it refuses them, as a
    /// production worker refuses a job's local path.
    private let allowLocal: Bool
    private var jobs: [String: Job] = [:]
    private(set) var submitted: [String] = []
    private(set) var cancelled: [String] = []
    private(set) var unauthorized = 0

    private init(
        port: Int, key: String, channel: any Channel, inbox: AsyncStream<StandInRunPod.Incoming>.Continuation,
        mode: Mode, repositories: [String: String], failures: [UInt64: Int], onFirstJob: (@Sendable () -> Void)?,
        allowLocal: Bool
    ) {
        self.port = port
        self.key = key
        self.channel = channel
        self.inbox = inbox
        self.mode = mode
        self.repositories = repositories
        self.failures = failures
        self.onFirstJob = onFirstJob
        self.allowLocal = allowLocal
    }

    static func start(
        mode: Mode = .run, key: String = "test-key", repositories: [String: String] = [:],
        failures: [UInt64: Int] = [:], onFirstJob: (@Sendable () -> Void)? = nil, allowLocal: Bool = true
    ) async throws -> EndpointStandIn {
        let (stream, inbox) = AsyncStream.makeStream(of: StandInRunPod.Incoming.self)
        let (channel, port) = try await StandInHTTPHandler.listen(inbox: inbox)
        let server = EndpointStandIn(
            port: port, key: key, channel: channel, inbox: inbox, mode: mode, repositories: repositories,
            failures: failures, onFirstJob: onFirstJob, allowLocal: allowLocal)
        Task {
            for await incoming in stream {
                let reply = await server.answer(incoming.request)
                incoming.reply.succeed(reply)
            }
        }
        return server
    }

    /// The base URL a client is given (`--runpod-api-url`).
    nonisolated var baseURL: String { "http://127.0.0.1:\(port)/v2" }

    func shutdown() async {
        for job in jobs.values { job.task?.cancel() }
        inbox.finish()
        try? await channel.close()
    }

    /// What decides a shard, of each submitted job's input.
    struct Submission: Sendable, Equatable {
        var seedStart: Int?
        var runs: Int?
        var repo: String?
        var ref: String?
    }

    /// Every submitted job, in order.
    func submissions() -> [Submission] {
        submitted.compactMap { jobs[$0]?.input }.map {
            Submission(
                seedStart: $0["seed_start"] as? Int, runs: $0["runs"] as? Int, repo: $0["repo"] as? String,
                ref: $0["ref"] as? String)
        }
    }

    private func answer(_ request: RecordedRequest) -> StandInReply {
        let authorization = request.headers.first { $0.name.lowercased() == "authorization" }?.value
        guard authorization == "Bearer " + key else {
            unauthorized += 1
            return .raw(status: 401, contentType: "application/json", body: JSON.encode(["error": "Unauthorized"]))
        }
        let parts = request.path.split(separator: "/").map(String.init)
        guard parts.count >= 3, parts[0] == "v2", parts[1] == "EP" else { return .status(404) }
        switch (request.method, parts[2]) {
        case ("POST", "run"):
            guard let body = JSON.object(request.body), let input = body["input"] as? [String: Any] else {
                return .raw(status: 400, contentType: "application/json", body: JSON.encode(["error": "no input"]))
            }
            if submitted.isEmpty { onFirstJob?() }
            let id = "job-\(submitted.count + 1)-u1"
            submitted.append(id)
            jobs[id] = Job(input: input, status: "IN_QUEUE")
            start(id, input: input)
            return reply(["id": id, "status": "IN_QUEUE"])
        case ("GET", "status") where parts.count == 4:
            guard let job = jobs[parts[3]] else { return .status(404) }
            var object: [String: Any] = ["id": parts[3], "status": job.status]
            if let output = job.output, let value = try? JSONSerialization.jsonObject(with: Data(output)) {
                object["output"] = value
            }
            if let error = job.error { object["error"] = error }
            return reply(object)
        case ("POST", "cancel") where parts.count == 4:
            guard var job = jobs[parts[3]] else { return .status(404) }
            cancelled.append(parts[3])
            job.task?.cancel()
            job.status = "CANCELLED"
            jobs[parts[3]] = job
            return reply(["id": parts[3], "status": "CANCELLED"])
        default:
            return .status(404)
        }
    }

    private func reply(_ object: [String: Any]) -> StandInReply {
        .raw(status: 200, contentType: "application/json", body: JSON.encode(object))
    }

    private func start(_ id: String, input: [String: Any]) {
        let seedStart = (input["seed_start"] as? Int).map(UInt64.init) ?? 0
        if let left = failures[seedStart], left > 0 {
            failures[seedStart] = left - 1
            jobs[id]?.status = "FAILED"
            jobs[id]?.error = "worker exited unexpectedly (stand-in: a platform failure)"
            return
        }
        let runs = input["runs"] as? Int ?? 10
        jobs[id]?.status = "IN_PROGRESS"
        jobs[id]?.output =
            JobProgress(phase: .running, total: runs, completed: 0, failures: 0, running: 1, elapsedSeconds: 0).json
        guard mode == .run else { return }
        var local = input
        if let repo = input["repo"] as? String, let path = repositories[repo] { local["repo"] = path }
        let json = (try? JSONSerialization.data(withJSONObject: local)) ?? Data()
        let handler = FlakeboxJobHandler(options: .init(allowLocalRepositories: allowLocal))
        jobs[id]?.task = Task {
            let outcome: (status: String, output: [UInt8]?, error: String?)
            switch await handler.handle(input: json) {
            case .output(let summary):
                outcome = ("COMPLETED", Array(summary), nil)
            case let failed:
                outcome = ("FAILED", nil, failed.errorValue(hostname: "stand-in", workerID: "stand-in"))
            }
            self.finish(id, outcome)
        }
    }

    private func finish(_ id: String, _ outcome: (status: String, output: [UInt8]?, error: String?)) {
        guard jobs[id]?.status == "IN_PROGRESS" else { return }
        jobs[id]?.status = outcome.status
        jobs[id]?.output = outcome.output
        jobs[id]?.error = outcome.error
    }
}
