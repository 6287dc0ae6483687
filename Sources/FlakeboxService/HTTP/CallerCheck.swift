import Crypto
import FlakeboxJobs
import Foundation
import Hummingbird

/// Who is asking: the API key of a request, from `Authorization: Bearer <secret>` (or the raw
/// secret, as RunPod's curl examples send it), looked up by its SHA-256 in the key store.
struct CallerCheck: Sendable {
    let keys: any APIKeyStore

    /// The request's key when it has `scope` (admin has every scope); 401 or 403 otherwise.
    func key(_ request: Request, scope: APIKey.Scope) async throws(ServiceError) -> APIKey {
        guard let header = request.headers[.authorization], !header.isEmpty else { throw .unauthorized }
        var secret = Substring(header)
        if secret.lowercased().hasPrefix("bearer ") { secret = secret.dropFirst(7) }
        secret = secret.drop { $0 == " " }
        guard !secret.isEmpty, secret.utf8.count <= 512 else { throw .unauthorized }
        let hash = SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
        let found: APIKey?
        do {
            found = try await keys.key(secretHash: hash)
        } catch {
            throw .unavailable("the key store is unavailable: \(error.message)", retryAfter: 5)
        }
        guard let key = found, key.revokedAt == nil else { throw .unauthorized }
        guard key.scopes.contains(scope) || key.scopes.contains(.admin) else {
            throw .forbidden("this key lacks the \(scope.rawValue) scope")
        }
        return key
    }
}

extension APIKey {
    /// Whether this key may see `job`: its own, or any with the admin scope. Others' jobs are
    /// answered as unknown (404), so ids cannot be probed.
    func maySee(_ job: StoredJob) -> Bool { job.owner == id || scopes.contains(.admin) }
}
