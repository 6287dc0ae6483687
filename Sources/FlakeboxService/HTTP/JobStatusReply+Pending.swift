import FlakeboxJobs

extension JobStatusReply {
    /// The shape RunPod's `/runsync` gives for a job not final in time: `{"id", "status"}`.
    static func pending(_ job: StoredJob) -> [UInt8] { ServiceReply.idAndStatus(job.id, job.state) }
}
