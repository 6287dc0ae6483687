#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Keeps a repository URL from remote input from aiming the host at itself or its networks: the
/// host name is resolved here, every address must be public (`HostAddress.refusal`), and git is
/// then pinned to exactly the checked addresses, so that a DNS answer that changes between the
/// check and the connection (rebinding) cannot move it. Redirects are refused, since an https
/// server could otherwise send git anywhere.
///
/// Covered: the repository's host and the hosts of absolute submodule URLs (https: pinned with
/// curl's resolve list; ssh: `HostName` pinned to the repository's first checked address, so an
/// ssh submodule on another host cannot reach anywhere else either).
public enum RemoteHostGuard {
    /// The host and port a validated URL connects to; nil for local paths and `file://`.
    public static func endpoint(of url: String) -> (host: String, port: Int, https: Bool)? {
        let kind = try? RepositoryURL.classify(url)
        switch kind {
        case .https?, .ssh?:
            let https = kind == .https
            let rest = url.dropFirst(https ? 8 : 6)
            var authority = rest.prefix { $0 != "/" }
            if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
            let defaultPort = https ? 443 : 22
            if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
                let host = String(authority[authority.index(after: authority.startIndex)..<close])
                let after = authority[authority.index(after: close)...]
                return (host, after.hasPrefix(":") ? Int(after.dropFirst()) ?? defaultPort : defaultPort, https)
            }
            if let colon = authority.lastIndex(of: ":") {
                return (
                    String(authority[..<colon]), Int(authority[authority.index(after: colon)...]) ?? defaultPort, https
                )
            }
            return (String(authority), defaultPort, https)
        case .scpLike?:
            var host = url.prefix { $0 != ":" }
            if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
            return (String(host), 22, false)
        default:
            return nil
        }
    }

    /// Every address `host` resolves to, each checked.
    /// - Throws: `.addressRefused` naming the first address that is not public, or `.resolveFailed`.
    public static func check(host: String) throws(FetchError) -> [HostAddress] {
        let addresses = try resolve(host: host)
        if let refused = addresses.first(where: { $0.refusal != nil }), let why = refused.refusal {
            throw FetchError(
                .addressRefused,
                "the repository host \(RepositoryURL.quoted(host)) resolves to \(refused), which is \(why); "
                    + "jobs from the network may reach public addresses only")
        }
        return addresses
    }

    /// Every address `host` resolves to (a numeric host: itself), without duplicates, unchecked:
    /// for callers that apply `HostAddress.refusal` under their own settings (the service's
    /// `--allow-private-addresses`) and still pin the connection to what they checked.
    /// - Throws: `.resolveFailed`.
    public static func resolve(host: String, role: String = "repository host") throws(FetchError) -> [HostAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0, let list else {
            let why = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw FetchError(.resolveFailed, "cannot resolve the \(role) \(RepositoryURL.quoted(host)): \(why)")
        }
        defer { freeaddrinfo(list) }
        var addresses: [HostAddress] = []
        var node: UnsafeMutablePointer<addrinfo>? = list
        while let entry = node {
            defer { node = entry.pointee.ai_next }
            guard let raw = entry.pointee.ai_addr else { continue }
            let address: HostAddress?
            switch Int32(raw.pointee.sa_family) {
            case AF_INET:
                address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    withUnsafeBytes(of: $0.pointee.sin_addr) { HostAddress(bytes: Array($0)) }
                }
            case AF_INET6:
                address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    withUnsafeBytes(of: $0.pointee.sin6_addr) { HostAddress(bytes: Array($0)) }
                }
            default: address = nil
            }
            guard let address, !addresses.contains(address) else { continue }
            addresses.append(address)
        }
        guard !addresses.isEmpty else {
            throw FetchError(.resolveFailed, "the \(role) \(RepositoryURL.quoted(host)) has no address")
        }
        return addresses
    }

    /// curl's `--resolve` entry for `http.curloptResolve`: `host:port:addr[,addr…]`.
    public static func resolveEntry(host: String, port: Int, addresses: [HostAddress]) -> String {
        let list = addresses.map { $0.isIPv4 ? "\($0)" : "[\($0)]" }.joined(separator: ",")
        return "\(host):\(port):\(list)"
    }
}
