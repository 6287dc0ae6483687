import Foundation

/// The job-stop long-poll (docs/RUNPOD_PROTOCOL.md §9): a reply `{"jobsToStop": [ids]}` naming the
/// running job stops it; the worker then posts nothing for that job.
struct StopChannel: Sendable {
    let http: RunPodHTTP
    let url: String
    let state: WorkerState
    let log: WorkerLog

    func run() async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            var wait = Duration.seconds(1)
            do {
                let reply = try await http.get(url, timeout: .seconds(WorkerProtocol.longPollSeconds))
                switch reply.status {
                case 204: break
                case 429: wait = .seconds(WorkerProtocol.tooManyRequestsSeconds)
                case 200..<300: handle(reply.body)
                default: log.error("Failed to get stop signals. | HTTP \(reply.status)")
                }
            } catch {
                if Task.isCancelled { return }
                log.error("Failed to get stop signals. | \(error)")
            }
            // At most one poll a second, however fast the server answers.
            try? await Task.sleep(until: started + wait, clock: .continuous)
        }
    }

    private func handle(_ body: [UInt8]) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            log.warn("Stop channel reply is not a JSON object; ignored.")
            return
        }
        guard let ids = object["jobsToStop"] as? [Any] else { return }
        for id in ids {
            guard let id = id as? String else {
                log.warn("Stop channel named a job id that is not a string; ignored.")
                continue
            }
            if state.requestStop(of: id) { log.info("Stopping job.", job: id) }
        }
    }
}
