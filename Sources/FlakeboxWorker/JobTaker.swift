import FlakeboxJobs
import Foundation

/// The job-take long-poll (docs/RUNPOD_PROTOCOL.md §5), with the SDK's answers to each reply, except
/// that failures back off (1 s doubling to 30 s) instead of re-polling at once, and an empty reply
/// that comes back at once is not re-asked for 100 ms: a broken server never gets a hot loop.
struct JobTaker: Sendable {
    let http: RunPodHTTP
    let urls: RunPodURLs
    let log: WorkerLog
    let state: WorkerState
    /// Jobs arrive as JSON; a body over this is refused (RunPod's own input limit is 10–20 MB).
    static let maxJobBytes = 32 << 20
    static let emptyReplyFloor = Duration.milliseconds(100)
    static let maxBackoff = Duration.seconds(30)

    /// Polls until a job (or a batch) arrives; empty when the task is cancelled or shutdown has
    /// begun (a poll already in flight is still answered: a job it brings is not dropped).
    func next() async -> [RunPodJob] {
        var backoff = Duration.seconds(1)
        while !Task.isCancelled && !state.isShuttingDown {
            let started = ContinuousClock.now
            let reply: HTTPReply
            do {
                reply = try await http.get(
                    urls.jobTake(jobInProgress: false), timeout: .seconds(WorkerProtocol.longPollSeconds),
                    bodyLimit: Self.maxJobBytes)
            } catch {
                if Task.isCancelled { break }
                log.error("Failed to get job. | Error Type: \(error)")
                await sleep(&backoff)
                continue
            }
            switch reply.status {
            case 204, 400:
                log.trace("No job available (\(reply.status)).")
                backoff = .seconds(1)
                await sleep(until: started + Self.emptyReplyFloor)
                continue
            case 429:
                log.debug("Too many requests; waiting \(WorkerProtocol.tooManyRequestsSeconds) s.")
                try? await Task.sleep(for: .seconds(WorkerProtocol.tooManyRequestsSeconds))
                continue
            case 200..<300:
                break
            default:
                log.error("Failed to get job. | Error Type: HTTP \(reply.status)")
                await sleep(&backoff)
                continue
            }
            let mime = reply.contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard mime == "application/json", !reply.body.isEmpty else {
                log.debug("No job available (an empty or non-JSON reply).")
                await sleep(until: started + Self.emptyReplyFloor)
                continue
            }
            do {
                let jobs = try RunPodJob.parse(reply.body)
                if jobs.isEmpty { continue }
                log.info("Jobs in queue: \(jobs.count)")
                return jobs
            } catch {
                log.error(error.message)
                if error.isDroppedJob {
                    backoff = .seconds(1)
                    await sleep(until: started + Self.emptyReplyFloor)
                } else {
                    await sleep(&backoff)
                }
            }
        }
        return []
    }

    private func sleep(_ backoff: inout Duration) async {
        try? await Task.sleep(for: backoff)
        backoff = min(backoff * 2, Self.maxBackoff)
    }

    private func sleep(until instant: ContinuousClock.Instant) async {
        if instant > .now { try? await Task.sleep(until: instant, clock: .continuous) }
    }
}
