import FlakeboxJobs
import Foundation

/// API keys in memory, for tests of what uses an `APIKeyStore` (the authenticator, quotas); the
/// same semantics as `SQLiteAPIKeyStore` (the same tests run over both).
public actor MemoryAPIKeyStore: APIKeyStore {
    private var byID: [String: APIKey] = [:]

    public init(_ keys: [APIKey] = []) {
        for key in keys { byID[key.id] = key }
    }

    public func insert(_ key: APIKey) throws(JobStoreError) {
        guard byID[key.id] == nil, !byID.values.contains(where: { $0.secretHash == key.secretHash }) else {
            throw JobStoreError(.duplicate, "key \(key.id) or its secret exists")
        }
        byID[key.id] = key
    }

    public func key(secretHash: String) -> APIKey? {
        byID.values.first { $0.secretHash == secretHash }
    }

    public func key(id: String) -> APIKey? { byID[id] }

    public func keys() -> [APIKey] {
        byID.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
    }

    public func revoke(id: String, at: Date) -> Bool {
        guard byID[id] != nil, byID[id]?.revokedAt == nil else { return false }
        byID[id]?.revokedAt = at
        return true
    }
}
