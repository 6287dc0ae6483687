import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A stand-in for RunPod's worker-facing API (docs/RUNPOD_PROTOCOL.md §3–10) on 127.0.0.1, serving the
/// URL templates of §3 under `/v2/EP/`. It records every request exactly and answers as each test
/// scripts it:
/// - job-take: the queued replies in order; with none queued, the poll is held for `idleTakeHold`
///   (a job queued meanwhile goes out at once), then 204;
/// - job-done: progress posts 200; results take the queued result replies in order, then 200;
/// - job-stop: the queued stop replies in order; then held up to `stopHold` and answered 204,
///   unless a stop order's condition holds first;
/// - ping and job-stream: 200; anything else: 404.
actor StandInRunPod {
    /// A request handed from the event loop to the actor, with the promise its reply completes.
    struct Incoming: Sendable {
        var request: RecordedRequest
        var reply: EventLoopPromise<StandInReply>
    }

    /// `{"jobsToStop": [jobID]}`, answered to the first job-stop poll at which `condition` holds.
    struct StopOrder: Sendable {
        var jobID: String
        var condition: @Sendable (Traffic) -> Bool
    }

    nonisolated let port: Int
    nonisolated let origin = ContinuousClock.now
    private let channel: any Channel
    private let inbox: AsyncStream<Incoming>.Continuation

    private var requests: [RecordedRequest] = []
    private var replies: [Int: StandInReply] = [:]
    private var handedOut: [Traffic.HandOut] = []
    private var takeReplies: [StandInReply] = []
    private var resultReplies: [StandInReply] = []
    private var stopReplies: [StandInReply] = []
    private var stopOrders: [StopOrder] = []
    private var idleTakeHold = Duration.seconds(1)
    private var stopHold = Duration.seconds(1)
    private var inFlight = 0
    private var closed = false

    private init(port: Int, channel: any Channel, inbox: AsyncStream<Incoming>.Continuation) {
        self.port = port
        self.channel = channel
        self.inbox = inbox
    }

    /// Listens on 127.0.0.1 at a port the kernel picks.
    static func start() async throws -> StandInRunPod {
        let (stream, inbox) = AsyncStream.makeStream(of: Incoming.self)
        let (channel, port) = try await StandInHTTPHandler.listen(inbox: inbox)
        let server = StandInRunPod(port: port, channel: channel, inbox: inbox)
        // Ends when `shutdown` finishes the inbox; every request gets a task of its own, so that a
        // held long-poll never delays another request.
        Task {
            await withDiscardingTaskGroup { group in
                for await incoming in stream {
                    // Recorded here, one at a time, so that `requests` is in arrival order.
                    let index = await server.record(incoming.request)
                    group.addTask { await server.answer(incoming, index: index) }
                }
            }
        }
        return server
    }

    /// The environment variables of §3 that point a worker here.
    nonisolated var webhookEnvironment: [String: String] {
        let base = "http://127.0.0.1:\(port)/v2/EP"
        return [
            "RUNPOD_WEBHOOK_GET_JOB": base + "/job-take/$ID?gpu=EMULATED",
            "RUNPOD_WEBHOOK_POST_OUTPUT": base + "/job-done/$RUNPOD_POD_ID/$ID?gpu=EMULATED",
            "RUNPOD_WEBHOOK_POST_STREAM": base + "/job-stream/$RUNPOD_POD_ID/$ID?gpu=EMULATED",
            "RUNPOD_WEBHOOK_PING": base + "/ping/$RUNPOD_POD_ID?gpu=EMULATED",
        ]
    }

    // MARK: Scripting

    func queueJobTakes(_ replies: [StandInReply]) { takeReplies += replies }

    /// Replies to the next result posts (not progress posts), in order; 200 after them.
    func queueResultReplies(_ replies: [StandInReply]) { resultReplies += replies }

    func queueJobStops(_ replies: [StandInReply]) { stopReplies += replies }

    func stop(_ jobID: String, when condition: @escaping @Sendable (Traffic) -> Bool) {
        stopOrders.append(StopOrder(jobID: jobID, condition: condition))
    }

    func setIdleTakeHold(_ hold: Duration) { idleTakeHold = hold }

    func setStopHold(_ hold: Duration) { stopHold = hold }

    // MARK: Observing

    var traffic: Traffic {
        Traffic(requests: requests, replies: replies, handedOut: handedOut, origin: origin)
    }

    /// The traffic once `condition` holds, checked every 50 ms; nil after `timeout` seconds.
    func waitFor(timeout: Double, _ condition: @Sendable (Traffic) -> Bool) async -> Traffic? {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while true {
            let snapshot = traffic
            if condition(snapshot) { return snapshot }
            if ContinuousClock.now >= deadline || Task.isCancelled { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Answers what is held at once, then stops listening.
    func shutdown() async {
        closed = true
        let deadline = ContinuousClock.now + .seconds(5)
        while inFlight > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        inbox.finish()
        try? await channel.close()
    }

    // MARK: Answering

    private func record(_ request: RecordedRequest) -> Int {
        var request = request
        request.index = requests.count
        requests.append(request)
        inFlight += 1
        return request.index
    }

    private func answer(_ incoming: Incoming, index: Int) async {
        var reply = StandInReply.status(503)
        if !closed { reply = await decide(incoming.request) }
        while case .after(let hold, let next) = reply {
            if !closed { await holdOpen(for: hold) }
            reply = next
        }
        if case .job(let id, _) = reply { handedOut.append(Traffic.HandOut(id: id, at: .now)) }
        replies[index] = reply
        inFlight -= 1
        incoming.reply.succeed(reply)
    }

    private func decide(_ request: RecordedRequest) async -> StandInReply {
        switch request.kind {
        case .jobTake:
            if !takeReplies.isEmpty { return takeReplies.removeFirst() }
            let deadline = ContinuousClock.now + idleTakeHold
            while !closed, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(25))
                if !takeReplies.isEmpty { return takeReplies.removeFirst() }
            }
            return .status(204)
        case .jobStop:
            if !stopReplies.isEmpty { return stopReplies.removeFirst() }
            let deadline = ContinuousClock.now + stopHold
            while true {
                let snapshot = traffic
                if let index = stopOrders.firstIndex(where: { $0.condition(snapshot) }) {
                    return .json(["jobsToStop": [stopOrders.remove(at: index).jobID]])
                }
                if closed || ContinuousClock.now >= deadline { return .status(204) }
                try? await Task.sleep(for: .milliseconds(25))
            }
        case .jobDone:
            if !request.isProgress, !resultReplies.isEmpty { return resultReplies.removeFirst() }
            return .json([:])
        case .ping, .jobStream:
            return .json([:])
        case .other:
            return .status(404)
        }
    }

    /// Sleeps, ending early when the stand-in shuts down.
    private func holdOpen(for hold: Duration) async {
        let deadline = ContinuousClock.now + hold
        while !closed, ContinuousClock.now < deadline {
            try? await Task.sleep(for: min(.milliseconds(50), deadline - ContinuousClock.now))
        }
    }
}

struct StandInError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
