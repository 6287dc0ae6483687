import FlakeboxCore
import Foundation

/// RunPod's `/status` shape: `{"id", "status", "delayTime"?, "executionTime"?, "output"?, "error"?,
/// "retries"?}`, plus flakebox's `report_url` for a final job with a summary. A completed job's
/// `output` is the stored summary's bytes as they are. The worker's local API and `flakebox serve`
/// answer with it alike.
public struct JobStatusReply: Sendable {
    public var job: StoredJob
    /// The live progress of a job in progress (`JobProgress.json`).
    public var progress: JobProgress?
    /// A signed link to the job's report page, for a final job with a summary.
    public var reportURL: String?

    public init(job: StoredJob, progress: JobProgress? = nil, reportURL: String? = nil) {
        self.job = job
        self.progress = progress
        self.reportURL = reportURL
    }

    public var bytes: [UInt8] {
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
}
