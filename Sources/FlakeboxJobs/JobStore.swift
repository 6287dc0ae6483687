import Foundation

/// Where jobs live: the service's only state. `MemoryJobStore` serves the worker's local API and
/// tests; the service's SQLite store (one file, WAL) is the default for `flakebox serve`, and a
/// PostgreSQL store can implement the same calls for many nodes.
///
/// Every transition is one call, checked against the state it starts from, so that two callers
/// (a runner finishing, a client cancelling) cannot both win: `finish` writes only over a job
/// still `IN_PROGRESS`, `cancel` only over one not yet final.
public protocol JobStore: Sendable {
    /// Saves a new job (`IN_QUEUE`).
    func insert(_ job: StoredJob) async throws(JobStoreError)

    func job(id: String) async throws(JobStoreError) -> StoredJob?

    /// One key's jobs, newest first, at most `limit`, created before `before` when given (paging).
    func jobs(owner: String, limit: Int, before: Date?) async throws(JobStoreError) -> [StoredJob]

    /// Takes the next queued job and marks it `IN_PROGRESS` (`startedAt` = `now`, `starts` + 1).
    /// Fair across owners: the owner with the fewest jobs in progress goes first, then the one
    /// whose oldest queued job is oldest; within an owner, not `lowPriority` first, then oldest.
    /// Jobs of `skipping` owners are left (they are at their running limit).
    func claimNext(now: Date, skipping: Set<String>) async throws(JobStoreError) -> StoredJob?

    /// Records the end of a job still `IN_PROGRESS`; false (and nothing written) otherwise.
    func finish(
        id: String, state: JobState, output: Data?, error: String?, at: Date, keepUntil: Date
    ) async throws(JobStoreError) -> Bool

    /// Marks a queued or running job `CANCELLED`; the job as it was before, or nil when it is
    /// unknown or already final (then nothing changes).
    func cancel(id: String, at: Date, keepUntil: Date) async throws(JobStoreError) -> StoredJob?

    /// `/retry`: a `FAILED` or `TIMED_OUT` job back to `IN_QUEUE` with its output and error
    /// removed, `retries` + 1; false for any other state.
    func requeue(id: String, now: Date) async throws(JobStoreError) -> Bool

    /// Cancels an owner's queued jobs (jobs in progress are left); how many.
    func purgeQueue(owner: String, at: Date, keepUntil: Date) async throws(JobStoreError) -> Int

    /// Queued jobs past their ttl become `TIMED_OUT`; their ids.
    func expireQueued(now: Date, keepUntil: Date) async throws(JobStoreError) -> [String]

    /// At start: jobs left `IN_PROGRESS` by a process that died. Those started fewer than
    /// `maxStarts` times go back to `IN_QUEUE`; the others become `FAILED` with `reason`.
    func recoverInterrupted(now: Date, maxStarts: Int, reason: String, keepUntil: Date) async throws(JobStoreError)
        -> (requeued: [String], failed: [String])

    /// A running job handed back at shutdown: `IN_QUEUE` again, its start not counted.
    func handBack(id: String) async throws(JobStoreError) -> Bool

    /// Shortens or extends how long a finished job is kept (`/status?ttl=`).
    func keep(id: String, until: Date) async throws(JobStoreError)

    /// Forgets finished jobs whose `keepUntil` has passed; how many.
    func prune(now: Date) async throws(JobStoreError) -> Int

    /// Jobs per state, for one owner or (nil) all.
    func counts(owner: String?) async throws(JobStoreError) -> [JobState: Int]

    /// The `attemptSeconds` of an owner's jobs created at or after `since` (the daily quota).
    func attemptSeconds(owner: String, since: Date) async throws(JobStoreError) -> Int
}

/// A store that could not do what was asked (the database failed, or is full).
public struct JobStoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case unavailable
        case corrupt
        case full
        case duplicate
    }
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
