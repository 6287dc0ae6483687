import FlakeboxCore
import FlakeboxJobs
import Foundation

/// RunPod's `/status` shape: `{"id", "status", "delayTime"?, "executionTime"?, "output"?, "error"?,
/// "retries"?}`, plus flakebox's `report_url` for a final job with a summary. A completed job's
/// `output` is the stored summary's bytes as they are.
struct JobStatusReply {
    var job: StoredJob
    /// The live progress of a job in progress (`JobProgress.json`).
    var progress: JobProgress?
    /// A signed link to the job's report page, for a final job with a summary.
    var reportURL: String?

    var bytes: [UInt8] {
        var reply = JSONText()
        reply.add("id", string: job.id)
        reply.add("status", string: job.state.rawValue)
        if let delay = job.delayTimeMs { reply.add("delayTime", number: max(0, delay)) }
        if let execution = job.executionTimeMs { reply.add("executionTime", number: max(0, execution)) }
        switch job.state {
        case .inProgress:
            if let progress { reply.add("output", json: progress.json) }
        case .completed, .failed, .timedOut, .cancelled:
            if let output = job.output { reply.add("output", json: output) }
        case .inQueue:
            break
        }
        if let error = job.error { reply.add("error", string: error) }
        if job.retries > 0 { reply.add("retries", number: job.retries) }
        if let reportURL { reply.add("report_url", string: reportURL) }
        return reply.bytes
    }

    /// The shape RunPod's `/runsync` gives for a job not final in time: `{"id", "status"}`.
    static func pending(_ job: StoredJob) -> [UInt8] { ServiceReply.idAndStatus(job.id, job.state) }
}
