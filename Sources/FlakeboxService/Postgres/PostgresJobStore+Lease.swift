import FlakeboxJobs
import Foundation
import PostgresNIO

/// Leases: what several nodes need on one database (see `LeasedJobStore`). A claim with a lease
/// names its holder and expiry; the job's `fence` (bumped by every claim, leased or not) is what
/// renewing and finishing must present.
extension PostgresJobStore: LeasedJobStore {
    /// `claimNext`, with the job leased to `holder` until `now + duration`; the job and its lease.
    public func claimNext(now: Date, skipping: Set<String>, holder: String, duration: Duration)
        async throws(JobStoreError) -> (job: StoredJob, lease: JobLease)?
    {
        let expires = now.addingTimeInterval(Double(duration.components.seconds))
        guard let row = try await claim(now: now, skipping: skipping, holder: holder, expires: expires) else {
            return nil
        }
        let job = try Self.job(row)
        return (job, try Self.lease(row))
    }

    /// Extends a lease still held (same fence, still running) to `until`; false when it was lost.
    public func renewLease(id: String, fence: Int, until: Date) async throws(JobStoreError) -> Bool {
        try await !pool.query(
            """
            UPDATE jobs SET lease_expires = \(seconds(until))
            WHERE id = \(id) AND fence = \(fence) AND state = 'IN_PROGRESS' RETURNING id
            """
        ).isEmpty
    }

    /// `finish`, only for the lease's holder: a stale fence (the job was claimed again since)
    /// writes nothing and returns false.
    public func finish(
        id: String, fence: Int, state: JobState, output: Data?, error: String?, at: Date, keepUntil: Date
    ) async throws(JobStoreError) -> Bool {
        try await !pool.query(
            """
            UPDATE jobs SET state = \(state.rawValue), output = \(bytes(output)), error = \(error),
                finished_at = \(seconds(at)), keep_until = \(seconds(keepUntil)), lease_owner = NULL,
                lease_expires = NULL
            WHERE id = \(id) AND fence = \(fence) AND state = 'IN_PROGRESS' RETURNING id
            """
        ).isEmpty
    }

    public func requeueExpired(now: Date, maxStarts: Int, reason: String, keepUntil: Date)
        async throws(JobStoreError) -> (requeued: [String], failed: [String])
    {
        try await takeBack(now: now, maxStarts: maxStarts, reason: reason, keepUntil: keepUntil, leaseExpiredBy: now)
    }

    /// The channel nodes wake each other on (`LISTEN`/`NOTIFY`): a job queued or queued again.
    static let workChannel = "flakebox_jobs"

    public func watchForWork(_ onWork: @escaping @Sendable () async -> Void) async throws(JobStoreError) {
        do {
            try await pool.client.withConnection { connection in
                try await connection.listen(on: Self.workChannel) { notifications in
                    for try await _ in notifications { await onWork() }
                }
            }
        } catch is CancellationError {
            return
        } catch {
            if Task.isCancelled { return }
            throw PostgresPool.storeError(error, url: pool.url)
        }
    }

    /// Wakes the other nodes' claim loops (delivered when the statement before it committed).
    func announceWork() async {
        _ = try? await pool.query("SELECT pg_notify(\(Self.workChannel), '')")
    }

    /// The job's current lease, if it is running under one.
    public func lease(id: String) async throws(JobStoreError) -> JobLease? {
        guard
            let row = try await pool.query(
                "SELECT * FROM jobs WHERE id = \(id) AND state = 'IN_PROGRESS' AND lease_owner IS NOT NULL"
            ).first
        else { return nil }
        return try Self.lease(row)
    }

    static func lease(_ row: PostgresRow) throws(JobStoreError) -> JobLease {
        let row = row.store()
        return JobLease(
            holder: try row.value("lease_owner"), expires: try row.date("lease_expires"), fence: try row.value("fence"))
    }
}
