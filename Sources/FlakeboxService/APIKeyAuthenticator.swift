import FlakeboxJobs
import Foundation
import Hummingbird
import HummingbirdAuth

/// Sets the request's API key from `Authorization: Bearer <secret>` or the raw
/// `Authorization: <secret>` (RunPod's curl examples send that). A request without the header
/// goes on without a key (`ServiceRequestContext.require` answers 401 where one is needed); an
/// unknown or revoked key is 401 here. A key in the query string is refused (400) and never
/// looked up: URLs end up in logs, proxies and browser histories.
public struct APIKeyAuthenticator<Context: AuthRequestContext<APIKey>>: AuthenticatorMiddleware {
    public typealias Identity = APIKey

    /// Query parameters that look like a key, refused wherever they appear.
    public static var queryKeyNames: Set<String> { ["api_key", "apikey", "key", "token", "access_token"] }

    let keys: any APIKeyStore
    let cache: APIKeyCache

    /// - Parameter cacheTTL: how long a found key is reused without a lookup (so the most a
    ///   revocation made elsewhere takes to apply).
    public init(keys: any APIKeyStore, cacheTTL: Duration = .seconds(5)) {
        self.keys = keys
        self.cache = APIKeyCache(ttl: cacheTTL)
    }

    /// Makes this process forget a key at once (after revoking it here).
    public func forget(keyID: String) { cache.forget(id: keyID) }

    public func authenticate(request: Request, context: Context) async throws -> APIKey? {
        for (name, _) in request.uri.queryParameters where Self.queryKeyNames.contains(name.lowercased()) {
            throw AuthRefusal(
                .badRequest,
                "API keys are not accepted in the query string (\(name)=); send Authorization: Bearer <key>")
        }
        guard let header = request.headers[.authorization] else { return nil }
        guard let secret = Self.secret(fromHeader: header) else { throw AuthRefusal.unauthorized }
        let hash = APIKeySecret.hash(of: secret)
        var found = cache.key(hash: hash)
        if found == nil {
            do {
                found = try await keys.key(secretHash: hash)
            } catch {
                throw AuthRefusal(.serviceUnavailable, "the key store is unavailable: \(error.message)")
            }
            if let found { cache.remember(found, hash: hash) }
        }
        // The store matched on the hash; comparing again, in constant time, makes a store that
        // returned the wrong row fail closed.
        guard let key = found, APIKeySecret.constantTimeEqual(key.secretHash, hash), key.revokedAt == nil else {
            throw AuthRefusal.unauthorized
        }
        return key
    }

    /// The secret of `Bearer <secret>` (any case of the scheme) or of a raw header; nil when
    /// empty or absurdly long.
    static func secret(fromHeader header: String) -> Substring? {
        var value = Substring(header).drop { $0 == " " }
        if value.prefix(7).lowercased() == "bearer " { value = value.dropFirst(7).drop { $0 == " " } }
        while value.last == " " { value = value.dropLast() }
        guard !value.isEmpty, value.utf8.count <= 512, !value.contains(" ") else { return nil }
        return value
    }
}
