import FlakeboxJobs
import Foundation

/// How both databases keep a key's scopes and quotas: JSON text, so that a new quota needs no
/// migration and an old row decodes with the defaults of what it lacks.
enum APIKeyText {
    static func json(_ value: some Encodable) throws(JobStoreError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw JobStoreError(.unavailable, "cannot encode \(value): \(error)")
        }
    }

    static func scopes(_ key: APIKey) throws(JobStoreError) -> String {
        try json(key.scopes.map(\.rawValue).sorted())
    }

    /// The scopes and quotas of key `id` from their text.
    static func decode(id: String, scopes: String, quotas: String) throws(JobStoreError) -> (
        Set<APIKey.Scope>, APIKey.Quotas
    ) {
        do {
            return (
                Set(try JSONDecoder().decode([APIKey.Scope].self, from: Data(scopes.utf8))),
                try JSONDecoder().decode(APIKey.Quotas.self, from: Data(quotas.utf8))
            )
        } catch {
            throw JobStoreError(.corrupt, "key \(id): unreadable scopes or quotas: \(error)")
        }
    }
}
