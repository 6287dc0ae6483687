/// The hosts a site lets jobs reach (`flakebox serve --allow-host`): a name matches itself and its
/// subdomains, an IP literal only the same address. Empty: every host (the address checks still
/// apply). One list for the repository, its submodules and webhooks.
public struct HostAllowList: Sendable, Equatable {
    public let entries: [String]

    public init(_ hosts: [String] = []) {
        entries = hosts.map(Self.normalized).filter { !$0.isEmpty }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public func allows(host: String) -> Bool {
        guard !entries.isEmpty else { return true }
        let name = Self.normalized(host)
        if let address = HostAddress(name) {
            return entries.contains { HostAddress($0) == address }
        }
        return entries.contains { name == $0 || name.hasSuffix("." + $0) }
    }

    /// Lowercased, without IPv6 brackets or a trailing dot.
    public static func normalized(_ host: String) -> String {
        var name = host.lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix(".") { name.removeLast() }
        return name
    }
}
