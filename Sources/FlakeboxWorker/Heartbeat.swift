/// The heartbeat (docs/RUNPOD_PROTOCOL.md §10): a GET naming the running jobs, first at once, then
/// every interval, on a task of its own, so it goes on whatever a job is doing. The SDK runs it in
/// a process of its own because its handlers can block the event loop; here nothing blocks the
/// cooperative pool (attempts are supervised on threads of their own).
struct Heartbeat: Sendable {
    let http: RunPodHTTP
    let urls: RunPodURLs
    let intervalSeconds: Int
    let state: WorkerState
    let log: WorkerLog

    func run() async {
        let interval = Duration.seconds(intervalSeconds)
        var next = ContinuousClock.now
        while !Task.isCancelled {
            guard let url = urls.ping(jobIDs: state.jobIDs) else { return }
            do {
                let reply = try await http.get(url, timeout: interval * 2, sessionHeaders: false)
                if !reply.isSuccess { log.debug("Ping Request Error: HTTP \(reply.status)") }
            } catch {
                if Task.isCancelled { return }
                log.error("Ping Request Error: \(error)")
            }
            // A steady cadence: the next ping is due an interval after the last was due.
            next += interval
            if next < .now { next = .now }
            try? await Task.sleep(until: next, clock: .continuous)
        }
    }
}
