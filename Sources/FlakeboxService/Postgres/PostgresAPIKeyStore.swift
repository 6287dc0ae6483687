import FlakeboxJobs
import Foundation
import PostgresNIO

/// API keys in PostgreSQL, beside its jobs, for every node: only the secret's SHA-256 is kept;
/// scopes and quotas are JSON text, as in SQLite.
public final class PostgresAPIKeyStore: APIKeyStore {
    private let pool: PostgresPool

    init(_ pool: PostgresPool) {
        self.pool = pool
    }

    public func insert(_ key: APIKey) async throws(JobStoreError) {
        let scopes = try APIKeyText.scopes(key)
        let quotas = try APIKeyText.json(key.quotas)
        _ = try await pool.query(
            """
            INSERT INTO api_keys (id, name, secret_hash, scopes, quotas, webhook_secret, created_at, revoked_at)
            VALUES (\(key.id), \(key.name), \(key.secretHash), \(scopes),
                \(quotas), \(key.webhookSecret), \(seconds(key.createdAt)),
                \(seconds(key.revokedAt)))
            """)
    }

    public func key(secretHash: String) async throws(JobStoreError) -> APIKey? {
        try await pool.query("SELECT * FROM api_keys WHERE secret_hash = \(secretHash)").first.map(Self.key)
    }

    public func key(id: String) async throws(JobStoreError) -> APIKey? {
        try await pool.query("SELECT * FROM api_keys WHERE id = \(id)").first.map(Self.key)
    }

    public func keys() async throws(JobStoreError) -> [APIKey] {
        try await pool.query("SELECT * FROM api_keys ORDER BY created_at, id").map(Self.key)
    }

    public func revoke(id: String, at: Date) async throws(JobStoreError) -> Bool {
        try await !pool.query(
            "UPDATE api_keys SET revoked_at = \(seconds(at)) WHERE id = \(id) AND revoked_at IS NULL RETURNING id"
        ).isEmpty
    }

    private static func key(_ row: PostgresRow) throws(JobStoreError) -> APIKey {
        let row = row.store()
        let id = try row.value("id", String.self)
        let (scopes, quotas) = try APIKeyText.decode(
            id: id, scopes: try row.value("scopes"), quotas: try row.value("quotas"))
        return APIKey(
            id: id, name: try row.value("name"), secretHash: try row.value("secret_hash"), scopes: scopes,
            quotas: quotas, webhookSecret: try row.value("webhook_secret"), createdAt: try row.date("created_at"),
            revokedAt: try row.optionalDate("revoked_at"))
    }
}
