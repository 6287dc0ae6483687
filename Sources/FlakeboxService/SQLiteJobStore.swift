import FlakeboxJobs
import Foundation
import SQLiteNIO

/// Jobs in the service's SQLite file (`ServiceDatabase.open`). Every transition is one statement
/// (SQLite runs a writing statement as a transaction holding the write lock from its start) or
/// one `BEGIN IMMEDIATE` transaction, and names the state it starts from in its `WHERE`, so that
/// what it returns says whether it happened: two processes, or a runner and a client, cannot both
/// win. The semantics are `MemoryJobStore`'s (the same conformance tests run over both).
public final class SQLiteJobStore: JobStore {
    private let database: DatabaseConnection

    init(_ database: DatabaseConnection) {
        self.database = database
    }

    private static let finalStates = "('COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT')"
    static let expiredReason = "the job's ttl passed before it started"

    public func insert(_ job: StoredJob) async throws(JobStoreError) {
        _ = try await database.query(
            """
            INSERT INTO jobs (id, owner, input, execution_timeout_ms, ttl_ms, low_priority, webhook, state,
                created_at, expires_at, started_at, finished_at, output, error, starts, retries, keep_until,
                attempt_seconds)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(job.id), .text(job.owner), SQLiteData(job.input), .integer(job.policy.executionTimeoutMs),
                .integer(job.policy.ttlMs), .integer(job.policy.lowPriority ? 1 : 0), SQLiteData(job.webhook),
                .text(job.state.rawValue), SQLiteData(job.createdAt), SQLiteData(job.expiresAt),
                SQLiteData(job.startedAt), SQLiteData(job.finishedAt), job.output.map(SQLiteData.init) ?? .null,
                SQLiteData(job.error), .integer(job.starts), .integer(job.retries), SQLiteData(job.keepUntil),
                .integer(job.attemptSeconds),
            ])
    }

    public func job(id: String) async throws(JobStoreError) -> StoredJob? {
        try await database.query("SELECT * FROM jobs WHERE id = ?", [.text(id)]).first.map(Self.job)
    }

    public func jobs(owner: String, limit: Int, before: Date?) async throws(JobStoreError) -> [StoredJob] {
        try await database.query(
            """
            SELECT * FROM jobs WHERE owner = ?1 AND (?2 IS NULL OR created_at < ?2)
            ORDER BY created_at DESC, id DESC LIMIT ?3
            """,
            [.text(owner), SQLiteData(before), .integer(max(0, limit))]
        ).map(Self.job)
    }

    public func claimNext(now: Date, skipping: Set<String>) async throws(JobStoreError) -> StoredJob? {
        let skipped = String(decoding: (try? JSONEncoder().encode(skipping.sorted())) ?? Data("[]".utf8), as: UTF8.self)
        // Pick and update in one statement: each owner's first job (not low priority first, then
        // oldest), then the owner with the fewest jobs running, then the oldest such first job.
        return try await database.query(
            """
            UPDATE jobs SET state = 'IN_PROGRESS', started_at = ?1, starts = starts + 1
            WHERE state = 'IN_QUEUE' AND id = (
                WITH running AS (
                    SELECT owner, count(*) AS n FROM jobs WHERE state = 'IN_PROGRESS' GROUP BY owner
                ), firsts AS (
                    SELECT id, owner, created_at, rowid AS position,
                        row_number() OVER (PARTITION BY owner ORDER BY low_priority, created_at, rowid) AS rank
                    FROM jobs
                    WHERE state = 'IN_QUEUE' AND owner NOT IN (SELECT value FROM json_each(?2))
                )
                SELECT firsts.id FROM firsts LEFT JOIN running ON running.owner = firsts.owner
                WHERE firsts.rank = 1
                ORDER BY coalesce(running.n, 0), firsts.created_at, firsts.position
                LIMIT 1
            )
            RETURNING *
            """,
            [SQLiteData(now), .text(skipped)]
        ).first.map(Self.job)
    }

    public func finish(
        id: String, state: JobState, output: Data?, error: String?, at: Date, keepUntil: Date
    ) async throws(JobStoreError) -> Bool {
        try await !database.query(
            """
            UPDATE jobs SET state = ?, output = ?, error = ?, finished_at = ?, keep_until = ?
            WHERE id = ? AND state = 'IN_PROGRESS' RETURNING id
            """,
            [
                .text(state.rawValue), output.map(SQLiteData.init) ?? .null, SQLiteData(error), SQLiteData(at),
                SQLiteData(keepUntil), .text(id),
            ]
        ).isEmpty
    }

    public func cancel(id: String, at: Date, keepUntil: Date) async throws(JobStoreError) -> StoredJob? {
        try await database.transaction { connection in
            guard let row = try await connection.query("SELECT * FROM jobs WHERE id = ?", [.text(id)]).first else {
                return nil
            }
            let before = try Self.job(row)
            let changed = try await connection.query(
                """
                UPDATE jobs SET state = 'CANCELLED', finished_at = ?, keep_until = ?
                WHERE id = ? AND state IN ('IN_QUEUE', 'IN_PROGRESS') RETURNING id
                """,
                [SQLiteData(at), SQLiteData(keepUntil), .text(id)])
            return changed.isEmpty ? nil : before
        }
    }

    public func requeue(id: String, now: Date) async throws(JobStoreError) -> Bool {
        try await !database.query(
            """
            UPDATE jobs SET state = 'IN_QUEUE', output = NULL, error = NULL, started_at = NULL,
                finished_at = NULL, keep_until = NULL, retries = retries + 1
            WHERE id = ? AND state IN ('FAILED', 'TIMED_OUT') RETURNING id
            """,
            [.text(id)]
        ).isEmpty
    }

    public func purgeQueue(owner: String, at: Date, keepUntil: Date) async throws(JobStoreError) -> Int {
        try await database.query(
            """
            UPDATE jobs SET state = 'CANCELLED', finished_at = ?, keep_until = ?
            WHERE owner = ? AND state = 'IN_QUEUE' RETURNING id
            """,
            [SQLiteData(at), SQLiteData(keepUntil), .text(owner)]
        ).count
    }

    public func expireQueued(now: Date, keepUntil: Date) async throws(JobStoreError) -> [String] {
        try await database.query(
            """
            UPDATE jobs SET state = 'TIMED_OUT', error = ?, finished_at = ?, keep_until = ?
            WHERE state = 'IN_QUEUE' AND expires_at <= ? RETURNING id
            """,
            [.text(Self.expiredReason), SQLiteData(now), SQLiteData(keepUntil), SQLiteData(now)]
        ).compactMap { $0.column("id")?.string }
    }

    public func recoverInterrupted(now: Date, maxStarts: Int, reason: String, keepUntil: Date)
        async throws(JobStoreError) -> (requeued: [String], failed: [String])
    {
        try await database.transaction { connection in
            let requeued = try await connection.query(
                "UPDATE jobs SET state = 'IN_QUEUE' WHERE state = 'IN_PROGRESS' AND starts < ? RETURNING id",
                [.integer(maxStarts)])
            let failed = try await connection.query(
                """
                UPDATE jobs SET state = 'FAILED', output = NULL, error = ?, finished_at = ?, keep_until = ?
                WHERE state = 'IN_PROGRESS' RETURNING id
                """,
                [.text(reason), SQLiteData(now), SQLiteData(keepUntil)])
            return (
                requeued.compactMap { $0.column("id")?.string }, failed.compactMap { $0.column("id")?.string }
            )
        }
    }

    public func handBack(id: String) async throws(JobStoreError) -> Bool {
        try await !database.query(
            """
            UPDATE jobs SET state = 'IN_QUEUE', started_at = NULL, starts = max(0, starts - 1)
            WHERE id = ? AND state = 'IN_PROGRESS' RETURNING id
            """,
            [.text(id)]
        ).isEmpty
    }

    public func keep(id: String, until: Date) async throws(JobStoreError) {
        _ = try await database.query(
            "UPDATE jobs SET keep_until = ? WHERE id = ? AND state IN \(Self.finalStates)",
            [SQLiteData(until), .text(id)])
    }

    public func prune(now: Date) async throws(JobStoreError) -> Int {
        try await database.query(
            "DELETE FROM jobs WHERE keep_until <= ? AND state IN \(Self.finalStates) RETURNING id",
            [SQLiteData(now)]
        ).count
    }

    public func counts(owner: String?) async throws(JobStoreError) -> [JobState: Int] {
        let rows = try await database.query(
            "SELECT state, count(*) AS n FROM jobs WHERE ?1 IS NULL OR owner = ?1 GROUP BY state",
            [SQLiteData(owner)])
        var counts: [JobState: Int] = [:]
        for row in rows {
            guard let state = JobState(rawValue: try row.string("state")) else {
                throw JobStoreError(.corrupt, "unknown job state \(try row.string("state"))")
            }
            counts[state] = try row.int("n")
        }
        return counts
    }

    public func attemptSeconds(owner: String, since: Date) async throws(JobStoreError) -> Int {
        let rows = try await database.query(
            "SELECT coalesce(sum(attempt_seconds), 0) AS total FROM jobs WHERE owner = ? AND created_at >= ?",
            [.text(owner), SQLiteData(since)])
        return try rows.first?.int("total") ?? 0
    }

    private static func job(_ row: SQLiteRow) throws(JobStoreError) -> StoredJob {
        let stateName = try row.string("state")
        guard let state = JobState(rawValue: stateName) else {
            throw JobStoreError(.corrupt, "unknown job state \(stateName)")
        }
        return StoredJob(
            id: try row.string("id"), owner: try row.string("owner"), input: try row.data("input"),
            policy: JobPolicy(
                executionTimeoutMs: try row.int("execution_timeout_ms"), ttlMs: try row.int("ttl_ms"),
                lowPriority: try row.int("low_priority") != 0),
            webhook: row.optionalString("webhook"), state: state, createdAt: try row.date("created_at"),
            startedAt: row.optionalDate("started_at"), finishedAt: row.optionalDate("finished_at"),
            output: try row.optionalData("output"), error: row.optionalString("error"), starts: try row.int("starts"),
            retries: try row.int("retries"), keepUntil: row.optionalDate("keep_until"),
            attemptSeconds: try row.int("attempt_seconds"))
    }
}
