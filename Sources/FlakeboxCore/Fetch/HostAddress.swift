#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// One resolved IP address, and whether a job that came over the network may make the host
/// connect to it. Anything that reaches the machine itself, its private networks or a cloud's
/// metadata service is refused: those are where a server-side request forgery does harm.
public struct HostAddress: Sendable, Equatable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6), network order.
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a numeric IPv4 or IPv6 address (no host names, no zone ids).
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: v6) { Array($0) }
            return
        }
        return nil
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// Why remote input may not aim at this address, or nil when it is public.
    public var refusal: String? {
        isIPv4 ? Self.refusal(v4: bytes) : refusalV6
    }

    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = isIPv4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// IANA's special-purpose IPv4 registry, less the few that are public (e.g. 192.88.99.0/24 is
    /// kept refused: it is deprecated relay anycast).
    private static func refusal(v4 b: [UInt8]) -> String? {
        switch (b[0], b[1], b[2]) {
        case (0, _, _): return "\"this network\" (0.0.0.0/8)"
        case (10, _, _): return "private (10.0.0.0/8)"
        case (100, 64...127, _): return "carrier-grade NAT (100.64.0.0/10)"
        case (127, _, _): return "loopback (127.0.0.0/8)"
        case (169, 254, _): return "link-local (169.254.0.0/16, cloud metadata)"
        case (172, 16...31, _): return "private (172.16.0.0/12)"
        case (192, 0, 0): return "IETF protocol assignments (192.0.0.0/24)"
        case (192, 0, 2), (198, 51, 100), (203, 0, 113): return "documentation (TEST-NET)"
        case (192, 88, 99): return "6to4 relay anycast (192.88.99.0/24)"
        case (192, 168, _): return "private (192.168.0.0/16)"
        case (198, 18...19, _): return "benchmarking (198.18.0.0/15)"
        case (224...239, _, _): return "multicast (224.0.0.0/4)"
        case (240...255, _, _): return "reserved or broadcast (240.0.0.0/4)"
        default: return nil
        }
    }

    private var refusalV6: String? {
        let b = bytes
        if b[0..<15].allSatisfy({ $0 == 0 }) { return b[15] == 1 ? "loopback (::1)" : "unspecified (::)" }
        // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96): the
        // IPv4 address inside is what the packet reaches.
        if b[0..<10].allSatisfy({ $0 == 0 }) && ((b[10] == 0xFF && b[11] == 0xFF) || (b[10] == 0 && b[11] == 0)) {
            return Self.refusal(v4: Array(b[12..<16])).map { "IPv4 inside IPv6: \($0)" }
        }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B {
            return Self.refusal(v4: Array(b[12..<16])).map { "NAT64: \($0)" } ?? "NAT64 local use (64:ff9b:1::/48)"
        }
        if b[0] == 0x01 && b[1] == 0x00 && b[2..<8].allSatisfy({ $0 == 0 }) { return "discard-only (100::/64)" }
        if b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8 { return "documentation (2001:db8::/32)" }
        if b[0] == 0x20 && b[1] == 0x02 {
            // 6to4: the IPv4 address in bytes 2...5 is where it goes.
            return Self.refusal(v4: Array(b[2..<6])).map { "6to4: \($0)" }
        }
        if b[0] & 0xFE == 0xFC { return "unique local (fc00::/7)" }
        if b[0] == 0xFE && b[1] & 0xC0 == 0x80 { return "link-local (fe80::/10)" }
        if b[0] == 0xFE && b[1] & 0xC0 == 0xC0 { return "site-local (fec0::/10)" }
        if b[0] == 0xFF { return "multicast (ff00::/8)" }
        return nil
    }
}
