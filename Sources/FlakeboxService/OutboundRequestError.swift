import FlakeboxCore

/// Why the service will not make (or did not complete) a request to a URL a tenant gave it: a
/// webhook, a repository or a submodule. The message is safe to log and to show to that tenant.
public struct OutboundRequestError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String

        /// Not an absolute `https://` (or, when private addresses are allowed, `http://`) URL
        /// with a plain host name or IP literal and no credentials.
        public static let invalidURL = Code(name: "invalid_url")
        /// `http://` while private addresses are not allowed.
        public static let insecureScheme = Code(name: "insecure_scheme")
        /// The host is not on the service's allow-list.
        public static let hostNotAllowed = Code(name: "host_not_allowed")
        /// The host resolves to loopback, a private, link-local, CGNAT, unique-local, multicast or
        /// other special address (`HostAddress.refusal`); nothing connected to it.
        public static let addressRefused = Code(name: "address_refused")
        /// The host name did not resolve.
        public static let resolveFailed = Code(name: "resolve_failed")
        /// The key's webhook secret is not `whsec_` + base64.
        public static let invalidSecret = Code(name: "invalid_secret")

        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// Core's resolution and refusal errors, under the same names.
    init(_ error: FetchError) {
        switch error.code {
        case .addressRefused: self.init(.addressRefused, error.message)
        case .resolveFailed: self.init(.resolveFailed, error.message)
        default: self.init(.invalidURL, error.message)
        }
    }

    public var description: String { "\(code): \(message)" }
}
