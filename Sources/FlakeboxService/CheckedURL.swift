import FlakeboxCore

/// An outbound URL after `OutboundAddressGuard` accepted it: its normalized text and the
/// addresses its host resolved to when it was checked, which the connection must be pinned to.
public struct CheckedURL: Sendable, Equatable {
    /// The URL as it is requested: lower-case scheme and host, no fragment, `/` for an empty path.
    public var url: String
    public var https: Bool
    /// A host name (lower case, no trailing dot) or an IP literal (without brackets).
    public var host: String
    public var port: Int
    /// Every address the host resolved to; all of them passed the check.
    public var addresses: [HostAddress]

    /// The host is an IP literal: nothing is resolved again, so nothing needs pinning.
    public var isNumericHost: Bool { HostAddress(host) != nil }

    /// AsyncHTTPClient's `dnsOverride` that pins the connection to one checked address while TLS
    /// still sends and verifies the host name (SNI and certificate); empty for an IP literal.
    /// - Parameter attempt: 1 for a first try: later tries take the next checked address in
    ///   turn, so that one unreachable address (an AAAA record on an IPv4-only host) does not
    ///   fail every try.
    public func dnsOverride(attempt: Int = 1) -> [String: String] {
        guard !isNumericHost, !addresses.isEmpty else { return [:] }
        return [host: addresses[(max(attempt, 1) - 1) % addresses.count].description]
    }
}
