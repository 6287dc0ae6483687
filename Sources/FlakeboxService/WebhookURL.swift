import FlakeboxCore
import Foundation

/// The syntax check of a webhook URL, strict enough that the host AsyncHTTPClient connects to is
/// exactly the host that was checked: ASCII only, no credentials, no whitespace or control
/// characters, a host of letters, digits, dots and hyphens (an IDN must come as punycode) or an
/// IP literal, an optional numeric port.
struct WebhookURL: Sendable, Equatable {
    var https: Bool
    var host: String
    var port: Int
    /// Path and query, `/` when empty (the fragment is dropped: it is never sent).
    var target: String

    static let maxLength = 2048

    var normalized: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let defaultPort = https ? 443 : 80
        return "\(https ? "https" : "http")://\(shownHost)\(port == defaultPort ? "" : ":\(port)")\(target)"
    }

    static func parse(_ text: String) throws(OutboundRequestError) -> WebhookURL {
        func invalid(_ why: String) -> OutboundRequestError {
            OutboundRequestError(.invalidURL, "webhook URL \(RepositoryURL.quoted(text)): \(why)")
        }
        guard text.utf8.count <= maxLength else { throw invalid("longer than \(maxLength) bytes") }
        guard text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw invalid("only printable ASCII without spaces is accepted")
        }
        let lower = text.lowercased()
        let https: Bool
        if lower.hasPrefix("https://") {
            https = true
        } else if lower.hasPrefix("http://") {
            https = false
        } else {
            throw invalid("not an https:// URL")
        }
        let rest = text.dropFirst(https ? 8 : 7)
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        var target = String(rest.dropFirst(authority.count))
        if let hash = target.firstIndex(of: "#") { target = String(target[..<hash]) }
        if !target.hasPrefix("/") { target = "/" + target }
        guard !authority.contains("@") else { throw invalid("credentials in a URL are not accepted") }
        guard !authority.contains("\\") && !authority.contains("%") else { throw invalid("malformed host") }

        var host: String
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("unclosed IPv6 literal") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            guard let address = HostAddress(host), !address.isIPv4 else { throw invalid("malformed IPv6 literal") }
            host = address.description
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("malformed host") }
                portText = after.dropFirst()
            }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = String(authority[..<colon])
                portText = authority[authority.index(after: colon)...]
            } else {
                host = String(authority)
            }
            host = host.lowercased()
            if host.hasSuffix(".") { host.removeLast() }
            guard isHostName(host) else { throw invalid("malformed host") }
        }
        var port = https ? 443 : 80
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCII),
                let number = Int(portText), (1...65535).contains(number)
            else { throw invalid("malformed port") }
            port = number
        }
        let url = WebhookURL(https: https, host: host, port: port, target: target)
        // What AsyncHTTPClient will parse must name the same host, or the pin would not apply.
        guard let parsed = URL(string: url.normalized), parsed.host.map(OutboundAddressGuard.normalized) == host
        else { throw invalid("malformed URL") }
        return url
    }

    /// Dot-separated labels of letters, digits and inner hyphens, at most 253 characters.
    private static func isHostName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253 else { return false }
        return name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
        }
    }
}
