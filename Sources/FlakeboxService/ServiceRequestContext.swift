import FlakeboxJobs
import Hummingbird
import HummingbirdAuth

/// The service's request context: Hummingbird's core storage and the request's API key, set by
/// `APIKeyAuthenticator` when the request carried a valid one.
public struct ServiceRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var identity: APIKey?

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.identity = nil
    }

    /// `/runsync` bodies may be 20 MB (API.md); each route checks its own, smaller bound.
    public var maxUploadSize: Int { 20 << 20 }

    /// The request's key when it has `scope` (admin has every scope): 401 without a key, 403
    /// without the scope.
    public func require(_ scope: APIKey.Scope) throws(AuthRefusal) -> APIKey {
        guard let key = identity else { throw .unauthorized }
        guard key.scopes.contains(scope) || key.scopes.contains(.admin) else {
            throw AuthRefusal(.forbidden, "this key lacks the \(scope.rawValue) scope")
        }
        return key
    }
}
