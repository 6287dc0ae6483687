import FlakeboxJobs
import Foundation
import Synchronization

/// Keys found by their secret's hash, kept `ttl` so that a busy client costs no lookup per
/// request. Revocation therefore takes effect within `ttl` (5 s by default) — also when
/// another process (`flakebox serve keys revoke`) writes it; this process's own `forget` is
/// immediate. Only keys found are kept: random secrets never repeat, so remembering misses would
/// save nothing, and a key just created must work at once. Bounded: a full cache starts over.
final class APIKeyCache: Sendable {
    private struct Entry {
        var key: APIKey
        var until: ContinuousClock.Instant
    }
    private let entries = Mutex<[String: Entry]>([:])
    let ttl: Duration
    let capacity: Int

    init(ttl: Duration, capacity: Int = 1_024) {
        self.ttl = ttl
        self.capacity = capacity
    }

    func key(hash: String) -> APIKey? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[hash] else { return nil }
            guard entry.until > now else {
                entries.removeValue(forKey: hash)
                return nil
            }
            return entry.key
        }
    }

    func remember(_ key: APIKey, hash: String) {
        let until = ContinuousClock.now + ttl
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[hash] = Entry(key: key, until: until)
        }
    }

    /// Drops a key at once (revoked through this process).
    func forget(id: String) {
        entries.withLock { entries in entries = entries.filter { $0.value.key.id != id } }
    }
}
