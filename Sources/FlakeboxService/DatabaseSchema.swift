import SQLiteNIO

/// The database's schema, as numbered migrations. `PRAGMA user_version` holds how many were
/// applied; `open` applies the missing ones in one transaction, and refuses a file whose version
/// is higher than the code knows (a newer flakebox wrote it) rather than running over it.
///
/// Times are REAL seconds since 2001-01-01 (Foundation's reference date, exact for a `Date`).
/// There is no foreign key from `jobs.owner` to `api_keys`: the job store also serves owners that
/// are not keys (the worker's local API, tests), and keys are revoked, never deleted.
enum DatabaseSchema {
    static let migrations: [[String]] = [
        // 1: jobs and API keys.
        [
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY NOT NULL,
                owner TEXT NOT NULL,
                input BLOB NOT NULL,
                execution_timeout_ms INTEGER NOT NULL,
                ttl_ms INTEGER NOT NULL,
                low_priority INTEGER NOT NULL CHECK (low_priority IN (0, 1)),
                webhook TEXT,
                state TEXT NOT NULL
                    CHECK (state IN ('IN_QUEUE', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT')),
                created_at REAL NOT NULL,
                expires_at REAL NOT NULL,
                started_at REAL,
                finished_at REAL,
                output BLOB,
                error TEXT,
                starts INTEGER NOT NULL DEFAULT 0,
                retries INTEGER NOT NULL DEFAULT 0,
                keep_until REAL,
                attempt_seconds INTEGER NOT NULL DEFAULT 0
            ) STRICT
            """,
            // Claiming: per state and owner, in claim order; also counts per state.
            "CREATE INDEX jobs_claim ON jobs (state, owner, low_priority, created_at)",
            // A key's job list (newest first), its counts and its daily attempt-seconds.
            "CREATE INDEX jobs_owner ON jobs (owner, created_at)",
            // Pruning finished jobs and expiring queued ones.
            "CREATE INDEX jobs_prune ON jobs (keep_until) WHERE keep_until IS NOT NULL",
            "CREATE INDEX jobs_expiry ON jobs (expires_at) WHERE state = 'IN_QUEUE'",
            """
            CREATE TABLE api_keys (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                secret_hash TEXT NOT NULL UNIQUE,
                scopes TEXT NOT NULL,
                quotas TEXT NOT NULL,
                webhook_secret TEXT NOT NULL,
                created_at REAL NOT NULL,
                revoked_at REAL
            ) STRICT
            """,
        ]
    ]

    static var version: Int { migrations.count }

    /// Brings the schema to `version` inside one transaction.
    static func migrate(_ connection: SQLiteConnection, path: String) async throws -> Int {
        _ = try await connection.query("BEGIN IMMEDIATE")
        do {
            let found = try await connection.query("PRAGMA user_version").first?.column("user_version")?.integer ?? 0
            guard found <= version else {
                throw ServiceDatabaseError(
                    .newerSchema,
                    "\(path) has schema version \(found), newer than this flakebox knows (\(version)): "
                        + "a newer flakebox wrote it; use that one (this one will not downgrade it)")
            }
            for migration in migrations.dropFirst(Int(found)) {
                for statement in migration { _ = try await connection.query(statement) }
            }
            if found < version { _ = try await connection.query("PRAGMA user_version = \(version)") }
            _ = try await connection.query("COMMIT")
            return Int(found)
        } catch {
            _ = try? await connection.query("ROLLBACK")
            throw error
        }
    }
}
