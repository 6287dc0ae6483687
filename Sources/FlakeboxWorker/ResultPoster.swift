import FlakeboxJobs

/// Posts to job-done (docs/RUNPOD_PROTOCOL.md §6): final results with the SDK's retry rule (3 tries,
/// waiting 2 s then 3 s, on a 5xx), and progress updates, which are sent once and never retried.
///
/// Unlike the SDK, a connection failure is retried like a 5xx: a result lost to a dropped
/// connection leaves the job hanging until the platform times it out.
struct ResultPoster: Sendable {
    let http: RunPodHTTP
    let urls: RunPodURLs
    let log: WorkerLog
    static let timeout = Duration.seconds(60)

    /// True once the platform accepted the result.
    @discardableResult
    func postResult(_ body: [UInt8], jobID: String) async -> Bool {
        let url = urls.jobDone(jobID: jobID)
        var waits = WorkerProtocol.resultRetryWaits[...]
        while true {
            var failure: String
            do {
                let reply = try await http.postResult(url, jobID: jobID, body: body, timeout: Self.timeout)
                if reply.isSuccess { return true }
                failure = "HTTP \(reply.status)"
                if reply.status < 500 { break }
            } catch {
                failure = error.description
            }
            guard let wait = waits.popFirst(), !Task.isCancelled else {
                log.error("Failed to return job results. | \(failure)", job: jobID)
                return false
            }
            log.warn("Returning job results failed (\(failure)); retrying in \(wait) s.", job: jobID)
            try? await Task.sleep(for: .seconds(wait))
        }
        log.error("Failed to return job results. | The platform refused them.", job: jobID)
        return false
    }

    /// `{"status": "IN_PROGRESS", "output": progress}`, as `runpod.serverless.progress_update` posts.
    func postProgress(_ progress: [UInt8], jobID: String) async {
        var body = JSONText()
        body.add("status", string: "IN_PROGRESS")
        body.add("output", json: progress)
        do {
            let reply = try await http.postResult(
                urls.jobDone(jobID: jobID), jobID: jobID, body: body.bytes, timeout: .seconds(10))
            if !reply.isSuccess { log.debug("Progress update refused: HTTP \(reply.status)", job: jobID) }
        } catch {
            log.debug("Progress update failed: \(error)", job: jobID)
        }
    }
}
