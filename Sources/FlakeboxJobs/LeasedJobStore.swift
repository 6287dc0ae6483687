import Foundation

/// A store that several processes share (PostgreSQL): a claimed job is leased to the node that
/// claimed it, renewed while it runs, and fenced, so that a node that stalled or died loses the
/// job to another and can never write over that node's result. `JobService` uses it when it has
/// a node id (`Configuration.nodeID`): then nothing is recovered at start (other nodes' running
/// jobs are alive), and jobs whose lease ran out are swept back instead.
public protocol LeasedJobStore: JobStore {
    /// `claimNext`, with the job leased to `holder` for `duration` (by the store's clock: nodes'
    /// clocks may disagree).
    func claimNext(now: Date, skipping: Set<String>, holder: String, duration: Duration)
        async throws(JobStoreError) -> (job: StoredJob, lease: JobLease)?

    /// Extends a lease still held (same fence, still running) to `duration` from now, by the
    /// store's clock; false when it was lost (the job was cancelled, or claimed again after the
    /// lease ran out).
    func renewLease(id: String, fence: Int, duration: Duration) async throws(JobStoreError) -> Bool

    /// `finish`, only with the current fence; false (nothing written) otherwise.
    func finish(id: String, fence: Int, state: JobState, output: Data?, error: String?, at: Date, keepUntil: Date)
        async throws(JobStoreError) -> Bool

    /// Jobs whose lease ran out by the store's clock (their node died or stalled): queued again if
    /// they were started fewer than `maxStarts` times, else failed with `reason` at `now`.
    func requeueExpired(now: Date, maxStarts: Int, reason: String, keepUntil: Date)
        async throws(JobStoreError) -> (requeued: [String], failed: [String])

    /// Calls `onNotice` whenever a node queued a job (or one went back to the queue) and whenever
    /// one cancelled a job or a job's shards, until the calling task is cancelled; returns or
    /// throws when the store's channel failed (the caller polls meanwhile and tries again, and
    /// learns of cancels when renewing its leases).
    func watch(_ onNotice: @escaping @Sendable (StoreNotice) async -> Void) async throws(JobStoreError)

    /// Replaces a job this node holds (its fence, still running) by `shards`, queued: the job
    /// stays `IN_PROGRESS` with no lease until its shards are settled; shards of an earlier split
    /// (a job retried) are removed. False (nothing written) when the lease was lost.
    func split(id: String, fence: Int, shards: [StoredJob]) async throws(JobStoreError) -> Bool

    /// A split job's shards, in their order; without their outputs (summaries, up to megabytes
    /// each) unless `withOutputs`.
    func shards(of id: String, withOutputs: Bool) async throws(JobStoreError) -> [StoredJob]

    /// Split jobs still running whose shards say how they end: all final, or one failed, timed
    /// out or cancelled (a node died between a shard's end and settling the job).
    func unsettledSplits() async throws(JobStoreError) -> [String]

    /// Records a running job's progress (`JobProgress.json`) for the other nodes' `/status`, with
    /// the claim's fence; false when the lease was lost.
    func recordProgress(id: String, fence: Int, progress: Data) async throws(JobStoreError) -> Bool

    /// The progress last recorded for each of `ids` that has one.
    func recordedProgress(of ids: [String]) async throws(JobStoreError) -> [String: Data]

    /// Cancels a split job's shards not yet final (its end was decided by one of them); how many.
    func cancelShards(of id: String, at: Date, keepUntil: Date) async throws(JobStoreError) -> Int
}
