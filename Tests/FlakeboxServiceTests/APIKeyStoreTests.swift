import FlakeboxJobs
import FlakeboxService
import Foundation
import Testing

/// What every `APIKeyStore` must do, over the memory, SQLite and PostgreSQL stores alike.
@Suite struct APIKeyStoreTests {
    func withKeyStore(_ kind: StoreKind, _ body: (any APIKeyStore) async throws -> Void) async throws {
        switch kind {
        case .memory: try await body(MemoryAPIKeyStore())
        case .sqlite: try await withDatabase { try await body($0.keys) }
        case .postgres: try await withPostgresDatabase { try await body($0.keys) }
        }
    }

    func key(_ id: String, hash: String, scopes: Set<APIKey.Scope> = [.submit, .read]) -> APIKey {
        APIKey(
            id: id, name: "name of \(id)", secretHash: hash, scopes: scopes,
            quotas: .init(
                maxQueued: 3, maxRunning: 1, maxAttemptSecondsPerJob: 60, maxAttemptSecondsPerDay: 600,
                maxSyncWaits: 2),
            webhookSecret: "whsec_\(id)", createdAt: t0)
    }

    @Test("a key reads back by its secret's hash and by id; ids and hashes are unique", arguments: StoreKind.allCases)
    func insertAndLookUp(kind: StoreKind) async throws {
        try await withKeyStore(kind) { keys in
            let first = key("key_1", hash: String(repeating: "a", count: 64), scopes: [.admin, .read])
            let second = key("key_2", hash: String(repeating: "b", count: 64))
            try await keys.insert(first)
            try await keys.insert(second)
            #expect(try await keys.key(secretHash: first.secretHash) == first)
            #expect(try await keys.key(id: "key_2") == second)
            #expect(try await keys.key(secretHash: String(repeating: "c", count: 64)) == nil)
            #expect(try await keys.key(id: "key_3") == nil)
            #expect(try await keys.keys().map(\.id) == ["key_1", "key_2"])
            await #expect(throws: JobStoreError.self) {
                try await keys.insert(key("key_1", hash: String(repeating: "d", count: 64)))
            }
            await #expect(throws: JobStoreError.self) { try await keys.insert(key("key_4", hash: first.secretHash)) }
        }
    }

    @Test("revoking marks a key once; it is still found, with its revocation", arguments: StoreKind.allCases)
    func revoke(kind: StoreKind) async throws {
        try await withKeyStore(kind) { keys in
            let hash = String(repeating: "e", count: 64)
            try await keys.insert(key("key_1", hash: hash))
            #expect(try await keys.revoke(id: "key_1", at: t0.addingTimeInterval(5)))
            #expect(try await !keys.revoke(id: "key_1", at: t0.addingTimeInterval(6)))
            #expect(try await !keys.revoke(id: "key_9", at: t0))
            #expect(try await keys.key(secretHash: hash)?.revokedAt == t0.addingTimeInterval(5))
        }
    }
}
