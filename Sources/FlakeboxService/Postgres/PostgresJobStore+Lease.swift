import FlakeboxCore
import FlakeboxJobs
import Foundation
import PostgresNIO

/// Leases: what several nodes need on one database (see `LeasedJobStore`). A claim with a lease
/// names its holder and expiry; the job's `fence` (bumped by every claim, leased or not) is what
/// renewing and finishing must present.
extension PostgresJobStore: LeasedJobStore {
    /// `claimNext`, with the job leased to `holder` for `duration` by the database's clock; the
    /// job and its lease.
    public func claimNext(now: Date, skipping: Set<String>, holder: String, duration: Duration)
        async throws(JobStoreError) -> (job: StoredJob, lease: JobLease)?
    {
        guard let row = try await claim(now: now, skipping: skipping, holder: holder, leaseSeconds: duration.seconds)
        else {
            return nil
        }
        let job = try Self.job(row)
        return (job, try Self.lease(row))
    }

    /// Extends a lease still held (same fence, still running) to `duration` from now by the
    /// database's clock; false when it was lost.
    public func renewLease(id: String, fence: Int, duration: Duration) async throws(JobStoreError) -> Bool {
        try await !pool.query(
            """
            UPDATE jobs SET lease_expires = \(duration.seconds)::float8 + \(unescaped: Self.databaseNow)
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
        try await takeBack(now: now, maxStarts: maxStarts, reason: reason, keepUntil: keepUntil, expiredOnly: true)
    }

    public func split(id: String, fence: Int, shards: [StoredJob]) async throws(JobStoreError) -> Bool {
        // One transaction: the shards exist exactly when the job says it was split.
        let split = try await pool.transaction { connection, logger in
            let held = try await connection.query(
                """
                UPDATE jobs SET shard_count = \(shards.count), lease_owner = NULL, lease_expires = NULL
                WHERE id = \(id) AND fence = \(fence) AND state = 'IN_PROGRESS' RETURNING id
                """, logger: logger
            ).collect()
            guard !held.isEmpty else { return false }
            try await connection.query("DELETE FROM jobs WHERE parent_id = \(id)", logger: logger)
            for shard in shards { try await connection.query(Self.insertion(shard), logger: logger) }
            return true
        }
        if split { await announceWork() }
        return split
    }

    public func shards(of id: String, withOutputs: Bool) async throws(JobStoreError) -> [StoredJob] {
        try await pool.query(
            """
            SELECT id, owner, input, execution_timeout_ms, ttl_ms, low_priority, webhook, state, created_at,
                started_at, finished_at, CASE WHEN \(withOutputs) THEN output END AS output, error, starts, retries,
                keep_until, attempt_seconds, parent_id
            FROM jobs WHERE parent_id = \(id) ORDER BY seq
            """
        ).map(Self.job)
    }

    public func unsettledSplits() async throws(JobStoreError) -> [String] {
        try await pool.query(
            """
            SELECT id FROM jobs AS job WHERE state = 'IN_PROGRESS' AND shard_count > 0 AND (
                EXISTS (SELECT 1 FROM jobs WHERE parent_id = job.id AND state IN ('FAILED', 'TIMED_OUT', 'CANCELLED'))
                OR NOT EXISTS (SELECT 1 FROM jobs WHERE parent_id = job.id AND state IN ('IN_QUEUE', 'IN_PROGRESS')))
            ORDER BY seq
            """
        ).map { row throws(JobStoreError) in try row.store().value("id", String.self) }
    }

    public func recordProgress(id: String, fence: Int, progress: Data) async throws(JobStoreError) -> Bool {
        try await !pool.query(
            """
            UPDATE jobs SET progress = \(bytes(progress))
            WHERE id = \(id) AND fence = \(fence) AND state = 'IN_PROGRESS' RETURNING id
            """
        ).isEmpty
    }

    public func recordedProgress(of ids: [String]) async throws(JobStoreError) -> [String: Data] {
        var found: [String: Data] = [:]
        for row in try await pool.query(
            "SELECT id, progress FROM jobs WHERE id = ANY(\(ids)) AND progress IS NOT NULL")
        {
            let row = row.store()
            found[try row.value("id", String.self)] = try row.value("progress", Data.self)
        }
        return found
    }

    public func cancelShards(of id: String, at: Date, keepUntil: Date) async throws(JobStoreError) -> Int {
        let cancelled = try await pool.query(
            """
            UPDATE jobs SET state = 'CANCELLED', finished_at = \(seconds(at)), keep_until = \(seconds(keepUntil)),
                lease_owner = NULL, lease_expires = NULL
            WHERE parent_id = \(id) AND state IN ('IN_QUEUE', 'IN_PROGRESS') RETURNING id
            """
        ).count
        if cancelled > 0 { await announceCancel(id) }
        return cancelled
    }

    /// The channel nodes wake each other on (`LISTEN`/`NOTIFY`): a job queued or queued again.
    static let workChannel = "flakebox_jobs"

    public func watch(_ onNotice: @escaping @Sendable (StoreNotice) async -> Void) async throws(JobStoreError) {
        do {
            try await pool.client.withConnection { connection in
                try await connection.listen(on: Self.workChannel) { notifications in
                    for try await notification in notifications {
                        let payload = notification.payload
                        if payload.hasPrefix(Self.cancelPrefix) {
                            await onNotice(.cancelled(String(payload.dropFirst(Self.cancelPrefix.count))))
                        } else {
                            await onNotice(.work)
                        }
                    }
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

    /// A notification's payload for a cancelled job (the id follows); an empty one is work.
    static let cancelPrefix = "cancel "

    /// Tells the nodes running `id` (or its shards) to stop it now.
    func announceCancel(_ id: String) async {
        _ = try? await pool.query("SELECT pg_notify(\(Self.workChannel), \(Self.cancelPrefix + id))")
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
