import FlakeboxJobs
import Foundation
import SQLiteNIO

/// API keys in the service's SQLite file, beside its jobs. Only the secret's SHA-256 is kept;
/// scopes and quotas are JSON text (a new quota needs no migration, an old row decodes with the
/// defaults of what it lacks).
public final class SQLiteAPIKeyStore: APIKeyStore {
    private let database: DatabaseConnection

    init(_ database: DatabaseConnection) {
        self.database = database
    }

    public func insert(_ key: APIKey) async throws(JobStoreError) {
        _ = try await database.query(
            """
            INSERT INTO api_keys (id, name, secret_hash, scopes, quotas, webhook_secret, created_at, revoked_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(key.id), .text(key.name), .text(key.secretHash),
                .text(try APIKeyText.scopes(key)), .text(try APIKeyText.json(key.quotas)), .text(key.webhookSecret),
                SQLiteData(key.createdAt),
                SQLiteData(key.revokedAt),
            ])
    }

    public func key(secretHash: String) async throws(JobStoreError) -> APIKey? {
        try await database.query("SELECT * FROM api_keys WHERE secret_hash = ?", [.text(secretHash)]).first.map(
            Self.key)
    }

    public func key(id: String) async throws(JobStoreError) -> APIKey? {
        try await database.query("SELECT * FROM api_keys WHERE id = ?", [.text(id)]).first.map(Self.key)
    }

    public func keys() async throws(JobStoreError) -> [APIKey] {
        try await database.query("SELECT * FROM api_keys ORDER BY created_at, id").map(Self.key)
    }

    public func revoke(id: String, at: Date) async throws(JobStoreError) -> Bool {
        try await !database.query(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL RETURNING id",
            [SQLiteData(at), .text(id)]
        ).isEmpty
    }

    private static func key(_ row: SQLiteRow) throws(JobStoreError) -> APIKey {
        let id = try row.string("id")
        let (scopes, quotas) = try APIKeyText.decode(
            id: id, scopes: try row.string("scopes"), quotas: try row.string("quotas"))
        return APIKey(
            id: id, name: try row.string("name"), secretHash: try row.string("secret_hash"), scopes: scopes,
            quotas: quotas, webhookSecret: try row.string("webhook_secret"), createdAt: try row.date("created_at"),
            revokedAt: row.optionalDate("revoked_at"))
    }
}
