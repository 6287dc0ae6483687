import Foundation

/// A store that several processes share (PostgreSQL): a claimed job is leased to the node that
/// claimed it, renewed while it runs, and fenced, so that a node that stalled or died loses the
/// job to another and can never write over that node's result. `JobService` uses it when it has
/// a node id (`Configuration.nodeID`): then nothing is recovered at start (other nodes' running
/// jobs are alive), and jobs whose lease ran out are swept back instead.
public protocol LeasedJobStore: JobStore {
    /// `claimNext`, with the job leased to `holder` until `now + duration`.
    func claimNext(now: Date, skipping: Set<String>, holder: String, duration: Duration)
        async throws(JobStoreError) -> (job: StoredJob, lease: JobLease)?

    /// Extends a lease still held (same fence, still running) to `until`; false when it was lost
    /// (the job was cancelled, or claimed again after the lease ran out).
    func renewLease(id: String, fence: Int, until: Date) async throws(JobStoreError) -> Bool

    /// `finish`, only with the current fence; false (nothing written) otherwise.
    func finish(id: String, fence: Int, state: JobState, output: Data?, error: String?, at: Date, keepUntil: Date)
        async throws(JobStoreError) -> Bool

    /// Jobs whose lease ran out before `now` (their node died or stalled): queued again if they
    /// were started fewer than `maxStarts` times, else failed with `reason`.
    func requeueExpired(now: Date, maxStarts: Int, reason: String, keepUntil: Date)
        async throws(JobStoreError) -> (requeued: [String], failed: [String])

    /// Calls `onWork` whenever a node queued a job (or one went back to the queue), until the
    /// calling task is cancelled; returns or throws when the store's channel failed (the caller
    /// polls meanwhile and tries again).
    func watchForWork(_ onWork: @escaping @Sendable () async -> Void) async throws(JobStoreError)
}
