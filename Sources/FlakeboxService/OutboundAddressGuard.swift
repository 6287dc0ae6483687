import FlakeboxCore

/// Decides whether the service may connect where a tenant's URL points (a webhook, a repository,
/// a submodule): the host must be on the allow-list when there is one, and every address it
/// resolves to must be public (`HostAddress.refusal`, the same list Core's git fetch enforces)
/// unless private addresses are allowed. It returns the checked addresses: the caller connects
/// to those, never resolving the name again, so a DNS answer that changes after the check
/// (rebinding) cannot move the connection.
public struct OutboundAddressGuard: Sendable {
    public var allowPrivateAddresses: Bool
    /// Lower case, no trailing dot, IPv6 literals without brackets; empty: any host.
    public private(set) var allowedHosts: [String]

    public init(allowPrivateAddresses: Bool = false, allowedHosts: [String] = []) {
        self.allowPrivateAddresses = allowPrivateAddresses
        self.allowedHosts = HostAllowList(allowedHosts).entries
    }

    public init(configuration: ServiceConfiguration) {
        self.init(
            allowPrivateAddresses: configuration.allowPrivateAddresses, allowedHosts: configuration.allowedHosts)
    }

    /// True when `host` is on the allow-list (the entry itself or a subdomain of it), or there is
    /// no list. An IP literal matches only the same address written as an entry.
    public func isAllowed(host: String) -> Bool {
        HostAllowList(allowedHosts).allows(host: host)
    }

    /// Resolves `host` and checks it and every address.
    /// - Parameter role: what the host is, for the message ("webhook host", "repository host").
    /// - Throws: `.hostNotAllowed`, `.resolveFailed`, `.addressRefused`.
    public func check(host: String, role: String) throws(OutboundRequestError) -> [HostAddress] {
        guard isAllowed(host: host) else {
            throw OutboundRequestError(
                .hostNotAllowed,
                "the \(role) \(RepositoryURL.quoted(host)) is not on this service's list of allowed hosts")
        }
        let addresses: [HostAddress]
        do throws(FetchError) {
            addresses = try RemoteHostGuard.resolve(host: host, role: role)
        } catch {
            throw OutboundRequestError(error)
        }
        if !allowPrivateAddresses, let refused = addresses.first(where: { $0.refusal != nil }),
            let why = refused.refusal
        {
            throw OutboundRequestError(
                .addressRefused,
                "the \(role) \(RepositoryURL.quoted(host)) resolves to \(refused), which is \(why); "
                    + "this service connects to public addresses only")
        }
        return addresses
    }

    /// A repository or submodule URL (`RepositoryURL`'s https, ssh and scp-like forms): its host
    /// checked. A local path or `file://` connects nowhere and gives `[]` (whether it is accepted
    /// at all is `JobInput`'s decision).
    /// - Throws: `.invalidURL` for what `RepositoryURL` refuses, or what `check(host:role:)` throws.
    public func checkRepository(_ url: String) throws(OutboundRequestError) -> [HostAddress] {
        do throws(FetchError) {
            _ = try RepositoryURL.classify(url)
        } catch {
            throw OutboundRequestError(.invalidURL, error.message)
        }
        guard let endpoint = RemoteHostGuard.endpoint(of: url) else { return [] }
        return try check(host: endpoint.host, role: "repository host")
    }

    /// A webhook URL: `https://` (also `http://` when private addresses are allowed, for tests),
    /// no credentials, a plain host name or IP literal, its host checked.
    /// - Throws: `.invalidURL`, `.insecureScheme`, or what `check(host:role:)` throws.
    public func checkWebhook(_ url: String) throws(OutboundRequestError) -> CheckedURL {
        let parsed = try WebhookURL.parse(url)
        if !parsed.https && !allowPrivateAddresses {
            throw OutboundRequestError(.insecureScheme, "webhook URLs must use https")
        }
        let addresses = try check(host: parsed.host, role: "webhook host")
        return CheckedURL(
            url: parsed.normalized, https: parsed.https, host: parsed.host, port: parsed.port, addresses: addresses)
    }

    /// What can be decided about a webhook URL without resolving it (for `/run`, a 422 at
    /// submit): the syntax, the scheme, the allow-list, and an IP literal's address. Its
    /// addresses are checked again before every delivery try.
    /// - Throws: `.invalidURL`, `.insecureScheme`, `.hostNotAllowed`, `.addressRefused`.
    public func checkWebhookSyntax(_ url: String) throws(OutboundRequestError) {
        let parsed = try WebhookURL.parse(url)
        if !parsed.https && !allowPrivateAddresses {
            throw OutboundRequestError(.insecureScheme, "webhook URLs must use https")
        }
        guard isAllowed(host: parsed.host) else {
            throw OutboundRequestError(
                .hostNotAllowed,
                "the webhook host \(RepositoryURL.quoted(parsed.host)) is not on this service's list of allowed hosts")
        }
        if HostAddress(parsed.host) != nil { _ = try check(host: parsed.host, role: "webhook host") }
    }

    static func normalized(_ host: String) -> String { HostAllowList.normalized(host) }
}
