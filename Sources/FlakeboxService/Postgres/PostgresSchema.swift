import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL schema, as numbered migrations. `flakebox_schema` holds one row per applied
/// version; `open` applies the missing ones in one transaction that first takes an advisory lock
/// (per schema), so that nodes starting together migrate once: the others wait, then find the
/// work done. A database whose version is higher than the code knows is refused.
///
/// Times are `double precision` seconds since 2001-01-01, as in SQLite: exact for a `Date`.
/// `seq` is the insertion order (SQLite's rowid): the last tie-break when claiming.
enum PostgresSchema {
    static let migrations: [[String]] = [
        // 1: jobs, API keys, and settings every node shares (the report links' secret).
        [
            """
            CREATE TABLE jobs (
                id text PRIMARY KEY,
                seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                owner text NOT NULL,
                input bytea NOT NULL,
                execution_timeout_ms bigint NOT NULL,
                ttl_ms bigint NOT NULL,
                low_priority boolean NOT NULL,
                webhook text,
                state text NOT NULL
                    CHECK (state IN ('IN_QUEUE', 'IN_PROGRESS', 'COMPLETED', 'FAILED', 'CANCELLED', 'TIMED_OUT')),
                created_at double precision NOT NULL,
                expires_at double precision NOT NULL,
                started_at double precision,
                finished_at double precision,
                output bytea,
                error text,
                starts bigint NOT NULL DEFAULT 0,
                retries bigint NOT NULL DEFAULT 0,
                keep_until double precision,
                attempt_seconds bigint NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX jobs_claim ON jobs (state, owner, low_priority, created_at, seq)",
            "CREATE INDEX jobs_owner ON jobs (owner, created_at)",
            "CREATE INDEX jobs_prune ON jobs (keep_until) WHERE keep_until IS NOT NULL",
            "CREATE INDEX jobs_expiry ON jobs (expires_at) WHERE state = 'IN_QUEUE'",
            """
            CREATE TABLE api_keys (
                id text PRIMARY KEY,
                name text NOT NULL,
                secret_hash text NOT NULL UNIQUE,
                scopes text NOT NULL,
                quotas text NOT NULL,
                webhook_secret text NOT NULL,
                created_at double precision NOT NULL,
                revoked_at double precision
            )
            """,
            "CREATE TABLE flakebox_settings (name text PRIMARY KEY, value bytea NOT NULL)",
        ],
        // 2: leases for nodes sharing the database: who holds a running job until when, and a
        // fence bumped by every claim.
        [
            """
            ALTER TABLE jobs ADD COLUMN lease_owner text, ADD COLUMN lease_expires double precision,
                ADD COLUMN fence bigint NOT NULL DEFAULT 0
            """,
            "CREATE INDEX jobs_lease ON jobs (lease_expires) WHERE state = 'IN_PROGRESS'",
        ],
        // 3: shards: a job split over the nodes (`shard_count` > 0) and its shards, jobs of their
        // own that name it; they go with it when it is pruned.
        [
            """
            ALTER TABLE jobs ADD COLUMN parent_id text REFERENCES jobs (id) ON DELETE CASCADE,
                ADD COLUMN shard_count integer NOT NULL DEFAULT 0
            """,
            "CREATE INDEX jobs_parent ON jobs (parent_id, seq) WHERE parent_id IS NOT NULL",
        ],
        // 4: a running job's progress, recorded by its node for the others' `/status`.
        ["ALTER TABLE jobs ADD COLUMN progress bytea"],
    ]

    static var version: Int { migrations.count }

    /// The advisory lock's first key ("fbox"); the second is the schema's name hashed.
    static let lockKey = 0x6662_6f78

    /// Brings the schema to `version` inside one transaction under the advisory lock, and returns
    /// the version found (so the caller knows whether it migrated) and the report links' secret
    /// (made by the first node to start).
    static func migrate(_ connection: PostgresConnection, url: PostgresURL, logger: Logger) async throws
        -> (found: Int, reportSecret: [UInt8])
    {
        try await connection.query("BEGIN", logger: logger)
        do {
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: "SELECT pg_advisory_xact_lock(\(lockKey), hashtext(current_schema()))::text"),
                logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS flakebox_schema (
                    version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                """, logger: logger)
            let rows = try await connection.query(
                "SELECT coalesce(max(version), 0)::bigint AS found FROM flakebox_schema", logger: logger
            ).collect()
            let found = try rows.first?.store().value("found", Int.self) ?? 0
            guard found <= version else {
                throw ServiceDatabaseError(
                    .newerSchema,
                    "\(url) has schema version \(found), newer than this flakebox knows (\(version)): "
                        + "a newer flakebox wrote it; use that one (this one will not downgrade it)")
            }
            for (index, migration) in migrations.enumerated().dropFirst(found) {
                for statement in migration {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO flakebox_schema (version) VALUES (\(index + 1))", logger: logger)
            }
            var secret = [UInt8](repeating: 0, count: 32)
            var generator = SystemRandomNumberGenerator()
            for index in secret.indices { secret[index] = generator.next() }
            try await connection.query(
                """
                INSERT INTO flakebox_settings (name, value) VALUES ('report_key', \(Data(secret)))
                ON CONFLICT (name) DO NOTHING
                """, logger: logger)
            let stored = try await connection.query(
                "SELECT value FROM flakebox_settings WHERE name = 'report_key'", logger: logger
            ).collect()
            guard let key = try stored.first?.store().value("value", Data.self), key.count == 32 else {
                throw ServiceDatabaseError(.cannotOpen, "\(url): the stored report secret is not 32 bytes")
            }
            try await connection.query("COMMIT", logger: logger)
            return (found, Array(key))
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
