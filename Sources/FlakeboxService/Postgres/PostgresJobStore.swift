import FlakeboxJobs
import Foundation
import PostgresNIO

/// Jobs in PostgreSQL, shared by every node on the database. Each transition is one statement
/// (PostgreSQL runs it as a transaction) that names the state it starts from in its `WHERE`, which
/// PostgreSQL checks again on the row's newest version after waiting for another writer's lock, so
/// that what it returns says whether it happened: two nodes, or a runner and a client, cannot both
/// win. The semantics are `MemoryJobStore`'s and `SQLiteJobStore`'s (one conformance suite).
public final class PostgresJobStore: JobStore {
    let pool: PostgresPool

    init(_ pool: PostgresPool) {
        self.pool = pool
    }

    private static let finalStates = "('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT')"

    public func insert(_ job: StoredJob) async throws(JobStoreError) {
        _ = try await pool.query(Self.insertion(job))
        if job.state == .inQueue { await announceWork() }
    }

    static func insertion(_ job: StoredJob) -> PostgresQuery {
        """
        INSERT INTO jobs (id, owner, input, execution_timeout_ms, ttl_ms, low_priority, webhook, state,
            created_at, expires_at, started_at, finished_at, output, error, starts, retries, keep_until,
            attempt_seconds, parent_id)
        VALUES (\(job.id), \(job.owner), \(bytes(job.input)), \(job.policy.executionTimeoutMs), \(job.policy.ttlMs),
            \(job.policy.lowPriority), \(job.webhook), \(job.state.rawValue), \(seconds(job.createdAt)),
            \(seconds(job.expiresAt)), \(seconds(job.startedAt)), \(seconds(job.finishedAt)), \(bytes(job.output)),
            \(job.error), \(job.starts), \(job.retries), \(seconds(job.keepUntil)), \(job.attemptSeconds),
            \(job.parentID))
        """
    }

    public func job(id: String) async throws(JobStoreError) -> StoredJob? {
        try await pool.query("SELECT * FROM jobs WHERE id = \(id)").first.map(Self.job)
    }

    public func jobs(owner: String, limit: Int, before: Date?) async throws(JobStoreError) -> [StoredJob] {
        let limit = max(0, limit)
        guard let before else {
            return try await pool.query(
                """
                SELECT * FROM jobs WHERE owner = \(owner) AND parent_id IS NULL
                ORDER BY created_at DESC, id DESC LIMIT \(limit)
                """
            ).map(Self.job)
        }
        return try await pool.query(
            """
            SELECT * FROM jobs WHERE owner = \(owner) AND created_at < \(seconds(before)) AND parent_id IS NULL
            ORDER BY created_at DESC, id DESC LIMIT \(limit)
            """
        ).map(Self.job)
    }

    public func claimNext(now: Date, skipping: Set<String>) async throws(JobStoreError) -> StoredJob? {
        try await claim(now: now, skipping: skipping, holder: nil, leaseSeconds: nil).map(Self.job)
    }

    /// The claim, with a lease of `leaseSeconds` when `holder` is given; every claim bumps the fence.
    ///
    /// A key's running limit (`maxRunning` in its quotas) counts the jobs and shards in progress
    /// on every node. Claims take a transaction-scoped advisory lock first, so that the count a
    /// claim reads includes every claim committed before it: two nodes cannot both take a key's
    /// last running slot. (Claims are a few milliseconds; serializing them costs little.)
    func claim(now: Date, skipping: Set<String>, holder: String?, leaseSeconds: Double?) async throws(JobStoreError)
        -> PostgresRow?
    {
        // Every queued job in fair order: owners with fewer jobs running first, then by the owner's
        // first job (not low priority first, then oldest), then the owner's jobs in that order.
        // `FOR UPDATE SKIP LOCKED` takes the first row no other claim holds; a row claimed since
        // this statement's snapshot fails the `state` test on its newest version and is passed over.
        let statement: PostgresQuery = """
            WITH running AS (
                SELECT owner, count(*) AS n FROM jobs WHERE state = 'IN_PROGRESS' AND shard_count = 0 GROUP BY owner
            ), full_keys AS (
                SELECT running.owner FROM running JOIN api_keys ON api_keys.id = running.owner
                WHERE running.n >= (api_keys.quotas::jsonb ->> 'maxRunning')::bigint
            ), ranked AS (
                SELECT id, owner, row_number() OVER owner_order AS rank,
                    first_value(created_at) OVER owner_order AS owner_created,
                    first_value(seq) OVER owner_order AS owner_seq
                FROM jobs
                WHERE state = 'IN_QUEUE' AND owner <> ALL(\(skipping.sorted()))
                    AND owner NOT IN (SELECT owner FROM full_keys)
                WINDOW owner_order AS (PARTITION BY owner ORDER BY low_priority, created_at, seq)
            ), pick AS (
                SELECT jobs.id FROM jobs
                JOIN ranked ON ranked.id = jobs.id
                LEFT JOIN running ON running.owner = ranked.owner
                WHERE jobs.state = 'IN_QUEUE'
                ORDER BY coalesce(running.n, 0), ranked.owner_created, ranked.owner_seq, ranked.rank
                LIMIT 1
                FOR UPDATE OF jobs SKIP LOCKED
            )
            UPDATE jobs SET state = 'IN_PROGRESS', started_at = \(seconds(now)), starts = jobs.starts + 1,
                fence = jobs.fence + 1, lease_owner = \(holder),
                lease_expires = \(leaseSeconds)::float8 + \(unescaped: Self.databaseNow)
            FROM pick WHERE jobs.id = pick.id AND jobs.state = 'IN_QUEUE'
            RETURNING jobs.*
            """
        return try await pool.transaction { connection, logger in
            // Per schema (nodes of other databases in other schemas do not wait for these).
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtextextended('flakebox claims ' || current_schema(), 0))::text",
                logger: logger)
            return try await connection.query(statement, logger: logger).collect().first
        }
    }

    public func finish(
        id: String, state: JobState, output: Data?, error: String?, at: Date, keepUntil: Date
    ) async throws(JobStoreError) -> Bool {
        try await !pool.query(
            """
            UPDATE jobs SET state = \(state.rawValue), output = \(bytes(output)), error = \(error),
                finished_at = \(seconds(at)), keep_until = \(seconds(keepUntil)), lease_owner = NULL,
                lease_expires = NULL
            WHERE id = \(id) AND state = 'IN_PROGRESS' RETURNING id
            """
        ).isEmpty
    }

    public func cancel(id: String, at: Date, keepUntil: Date) async throws(JobStoreError) -> StoredJob? {
        // One statement: `before` locks the row (its newest version) and is what is returned; the
        // update happens only from a state not yet final.
        let before = try await pool.query(
            """
            WITH before AS (SELECT * FROM jobs WHERE id = \(id) FOR UPDATE),
            shards AS (
                UPDATE jobs SET state = 'CANCELLED', finished_at = \(seconds(at)), keep_until = \(seconds(keepUntil))
                WHERE parent_id = \(id) AND state IN ('IN_QUEUE', 'IN_PROGRESS')
            )
            UPDATE jobs SET state = 'CANCELLED', finished_at = \(seconds(at)), keep_until = \(seconds(keepUntil))
            FROM before WHERE jobs.id = before.id AND jobs.state IN ('IN_QUEUE', 'IN_PROGRESS')
            RETURNING before.*
            """
        ).first.map(Self.job)
        if before?.state == .inProgress { await announceCancel(id) }
        return before
    }

    public func requeue(id: String, now: Date) async throws(JobStoreError) -> Bool {
        let queued = try await !pool.query(
            """
            UPDATE jobs SET state = 'IN_QUEUE', output = NULL, error = NULL, started_at = NULL,
                finished_at = NULL, keep_until = NULL, retries = retries + 1, shard_count = 0
            WHERE id = \(id) AND state IN ('FAILED', 'TIMED_OUT') RETURNING id
            """
        ).isEmpty
        if queued { await announceWork() }
        return queued
    }

    public func purgeQueue(owner: String, at: Date, keepUntil: Date) async throws(JobStoreError) -> Int {
        try await pool.query(
            """
            UPDATE jobs SET state = 'CANCELLED', finished_at = \(seconds(at)), keep_until = \(seconds(keepUntil))
            WHERE owner = \(owner) AND state = 'IN_QUEUE' RETURNING id
            """
        ).count
    }

    public func expireQueued(now: Date, keepUntil: Date) async throws(JobStoreError) -> [String] {
        try await pool.query(
            """
            UPDATE jobs SET state = 'TIMED_OUT', error = \(SQLiteJobStore.expiredReason),
                finished_at = \(seconds(now)), keep_until = \(seconds(keepUntil))
            WHERE state = 'IN_QUEUE' AND expires_at <= \(seconds(now)) RETURNING id
            """
        ).map { row throws(JobStoreError) in try row.store().value("id", String.self) }
    }

    public func recoverInterrupted(now: Date, maxStarts: Int, reason: String, keepUntil: Date)
        async throws(JobStoreError) -> (requeued: [String], failed: [String])
    {
        try await takeBack(now: now, maxStarts: maxStarts, reason: reason, keepUntil: keepUntil, expiredOnly: false)
    }

    /// Running jobs back to the queue (started fewer than `maxStarts` times) or failed with
    /// `reason`: every one (a single node's start), or only those whose lease ran out by the
    /// database's clock (nodes sharing the database). Both updates in one statement (one
    /// snapshot, disjoint rows).
    func takeBack(now: Date, maxStarts: Int, reason: String, keepUntil: Date, expiredOnly: Bool)
        async throws(JobStoreError) -> (requeued: [String], failed: [String])
    {
        let expired = "(NOT \(expiredOnly) OR lease_expires < \(Self.databaseNow))"
        let rows = try await pool.query(
            """
            WITH requeued AS (
                UPDATE jobs SET state = 'IN_QUEUE', lease_owner = NULL, lease_expires = NULL
                WHERE state = 'IN_PROGRESS' AND starts < \(maxStarts) AND shard_count = 0
                    AND \(unescaped: expired)
                RETURNING id, seq
            ), failed AS (
                UPDATE jobs SET state = 'FAILED', output = NULL, error = \(reason), finished_at = \(seconds(now)),
                    keep_until = \(seconds(keepUntil)), lease_owner = NULL, lease_expires = NULL
                WHERE state = 'IN_PROGRESS' AND starts >= \(maxStarts) AND shard_count = 0
                    AND \(unescaped: expired)
                RETURNING id, seq
            )
            SELECT 'requeued' AS kind, id, seq FROM requeued UNION ALL SELECT 'failed', id, seq FROM failed
            ORDER BY seq
            """)
        var result: (requeued: [String], failed: [String]) = ([], [])
        for row in rows {
            let row = row.store()
            if try row.value("kind", String.self) == "requeued" {
                result.requeued.append(try row.value("id"))
            } else {
                result.failed.append(try row.value("id"))
            }
        }
        if !result.requeued.isEmpty { await announceWork() }
        return result
    }

    public func handBack(id: String) async throws(JobStoreError) -> Bool {
        let queued = try await !pool.query(
            """
            UPDATE jobs SET state = 'IN_QUEUE', started_at = NULL, starts = greatest(0, starts - 1),
                lease_owner = NULL, lease_expires = NULL
            WHERE id = \(id) AND state = 'IN_PROGRESS' AND shard_count = 0 RETURNING id
            """
        ).isEmpty
        if queued { await announceWork() }
        return queued
    }

    public func keep(id: String, until: Date) async throws(JobStoreError) {
        _ = try await pool.query(
            """
            UPDATE jobs SET keep_until = \(seconds(until))
            WHERE id = \(id) AND state IN \(unescaped: Self.finalStates)
            """)
    }

    public func prune(now: Date) async throws(JobStoreError) -> Int {
        try await pool.query(
            """
            DELETE FROM jobs WHERE keep_until <= \(seconds(now)) AND state IN \(unescaped: Self.finalStates)
                AND parent_id IS NULL
            RETURNING id
            """
        ).count
    }

    public func counts(owner: String?) async throws(JobStoreError) -> [JobState: Int] {
        let rows =
            if let owner {
                try await pool.query(
                    "SELECT state, count(*) AS n FROM jobs WHERE owner = \(owner) AND parent_id IS NULL GROUP BY state")
            } else {
                try await pool.query("SELECT state, count(*) AS n FROM jobs WHERE parent_id IS NULL GROUP BY state")
            }
        var counts: [JobState: Int] = [:]
        for row in rows {
            let row = row.store()
            let name = try row.value("state", String.self)
            guard let state = JobState(rawValue: name) else {
                throw JobStoreError(.corrupt, "unknown job state \(name)")
            }
            counts[state] = try row.value("n", Int.self)
        }
        return counts
    }

    public func attemptSeconds(owner: String, since: Date) async throws(JobStoreError) -> Int {
        try await pool.query(
            """
            SELECT coalesce(sum(attempt_seconds), 0)::bigint AS total FROM jobs
            WHERE owner = \(owner) AND created_at >= \(seconds(since))
            """
        ).first?.store().value("total", Int.self) ?? 0
    }

    static func job(_ row: PostgresRow) throws(JobStoreError) -> StoredJob {
        let row = row.store()
        let stateName = try row.value("state", String.self)
        guard let state = JobState(rawValue: stateName) else {
            throw JobStoreError(.corrupt, "unknown job state \(stateName)")
        }
        return StoredJob(
            id: try row.value("id"), owner: try row.value("owner"), input: try row.value("input"),
            policy: JobPolicy(
                executionTimeoutMs: try row.value("execution_timeout_ms"), ttlMs: try row.value("ttl_ms"),
                lowPriority: try row.value("low_priority")),
            webhook: try row.value("webhook"), state: state, createdAt: try row.date("created_at"),
            startedAt: try row.optionalDate("started_at"), finishedAt: try row.optionalDate("finished_at"),
            output: try row.value("output"), error: try row.value("error"), starts: try row.value("starts"),
            retries: try row.value("retries"), keepUntil: try row.optionalDate("keep_until"),
            attemptSeconds: try row.value("attempt_seconds"), parentID: try row.value("parent_id"))
    }
}

extension PostgresJobStore {
    /// The database's clock in the schema's seconds: leases are set and judged by it alone, so that
    /// nodes whose clocks disagree cannot take each other's jobs early (nor hold them too long).
    static let databaseNow = "(extract(epoch FROM clock_timestamp()) - 978307200)"
}

/// A time as the schema keeps it: seconds since 2001-01-01 (exact for a `Date`).
func seconds(_ date: Date) -> Double { date.timeIntervalSinceReferenceDate }
func seconds(_ date: Date?) -> Double? { date?.timeIntervalSinceReferenceDate }

/// Bytes as `bytea` (`Data`'s own encoding is declared throwing; a `ByteBuffer`'s is not).
func bytes(_ data: Data) -> ByteBuffer { ByteBuffer(bytes: data) }
func bytes(_ data: Data?) -> ByteBuffer? { data.map { ByteBuffer(bytes: $0) } }
