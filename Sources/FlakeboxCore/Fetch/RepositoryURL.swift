import Foundation

/// Which repository locations flakebox hands to git, decided without running git.
///
/// Accepted:
/// - `https://host[:port]/path`, without user info: credentials in a job's input would end up in
///   logs, summaries and `ps`; tokens as user names (`https://TOKEN@host/…`) are refused too.
/// - `ssh://[user@]host[:port]/path` and scp-like `[user@]host:path` (a user name, never a password).
/// - With `allowLocal` only: a local path (made absolute) and `file:///absolute/path`.
///
/// Refused: `http://` and `git://` (no integrity: whoever is on the path chooses the code that
/// runs), every other scheme, transport helpers (`ext::…`, `fd::…`, `foo::bar`), anything that
/// starts with `-` (or whose host, user or path does: `ssh://-oProxyCommand=…`), whitespace,
/// control and invisible characters (also percent-encoded), non-ASCII in remote URLs. The
/// fetcher also passes every URL after `--` and sets git's protocol allow-list to match, so this
/// is one of two independent locks.
public enum RepositoryURL {
    /// Longest location accepted, in UTF-8 bytes.
    public static let maxBytes = 4096

    /// What kind of location a validated string is.
    public enum Kind: Sendable, Equatable {
        case https, ssh, scpLike, file, localPath

        /// Local paths and `file://`: reached through git's `file` protocol.
        public var isLocal: Bool { self == .file || self == .localPath }
    }

    /// Checks `text` and returns what to hand to git: the input itself, or for a relative local
    /// path, the absolute path.
    /// - Throws: `.invalidURL`, or `.localNotAllowed` for a local path or `file://` URL when
    ///   `allowLocal` is false.
    public static func validate(_ text: String, allowLocal: Bool) throws(FetchError) -> String {
        let kind = try classify(text)
        if kind.isLocal && !allowLocal {
            throw FetchError(
                .localNotAllowed,
                "local repositories (paths and file:// URLs) are accepted from the command line only: \(quoted(text))")
        }
        if kind == .localPath && !text.hasPrefix("/") {
            let cwd = FileManager.default.currentDirectoryPath
            return cwd.hasSuffix("/") ? cwd + text : cwd + "/" + text
        }
        return text
    }

    /// Checks a submodule URL from `.gitmodules`: a relative one (`./…`, `../…`, resolved by git
    /// against the repository's own URL) may hold no whitespace, control character or `::`; any
    /// other must pass `validate`.
    public static func validateSubmodule(_ text: String, allowLocal: Bool) throws(FetchError) {
        guard text.hasPrefix("./") || text.hasPrefix("../") else {
            _ = try validate(text, allowLocal: allowLocal)
            return
        }
        guard text.utf8.count <= maxBytes, !text.unicodeScalars.contains(where: isForbiddenAnywhere),
            !text.contains("::")
        else { throw FetchError(.invalidURL, "relative submodule URL \(quoted(text)) is not acceptable") }
    }

    /// The kind of an acceptable location, whether or not local ones are allowed.
    /// - Throws: `.invalidURL`.
    public static func classify(_ text: String) throws(FetchError) -> Kind {
        func invalid(_ why: String) -> FetchError { FetchError(.invalidURL, "repository \(quoted(text)) \(why)") }
        if text.isEmpty { throw FetchError(.invalidURL, "the repository is empty") }
        if text.utf8.count > maxBytes { throw invalid("is longer than \(maxBytes) bytes") }
        if let bad = text.unicodeScalars.first(where: isForbiddenAnywhere) {
            throw invalid(
                bad.properties.isWhitespace ? "contains whitespace" : "contains a control or invisible character")
        }
        if text.hasPrefix("-") { throw invalid("starts with '-'") }
        let lower = text.lowercased()
        if lower.hasPrefix("https://") {
            try checkAuthorityAndPath(text, schemeLength: 8, allowUser: false, invalid: invalid)
            return .https
        }
        if lower.hasPrefix("ssh://") {
            try checkAuthorityAndPath(text, schemeLength: 6, allowUser: true, invalid: invalid)
            return .ssh
        }
        if lower.hasPrefix("file://") {
            let path = text.dropFirst(7)
            guard path.hasPrefix("/") else { throw invalid("is not file:///absolute/path (no host part)") }
            try checkPercentEscapes(path, invalid: invalid)
            return .file
        }
        if lower.hasPrefix("http://") || lower.hasPrefix("git://") {
            throw invalid("uses a transport without integrity; use https:// or ssh")
        }
        if let scheme = text.range(of: "://") {
            throw invalid(
                "uses a scheme other than https://, ssh:// or file:// (\(quoted(String(text[..<scheme.lowerBound]))))")
        }
        if isTransportHelper(text) || text.contains("::") {
            throw invalid("names a git transport helper ('<transport>::<address>')")
        }
        // git's own rule: a colon with no slash before it makes `host:path` (ssh).
        if let colon = text.firstIndex(of: ":"), !text[..<colon].contains("/") {
            try checkSCPLike(text, colon: colon, invalid: invalid)
            return .scpLike
        }
        return .localPath
    }

    // MARK: - Pieces

    /// `https://` and `ssh://`: `[user@]host[:port]/path`, ASCII only.
    private static func checkAuthorityAndPath(
        _ text: String, schemeLength: Int, allowUser: Bool, invalid: (String) -> FetchError
    ) throws(FetchError) {
        guard text.unicodeScalars.allSatisfy(\.isASCII) else {
            throw invalid("contains non-ASCII characters (use punycode and percent-encoding)")
        }
        let rest = Substring(text).dropFirst(schemeLength)
        guard let slash = rest.firstIndex(of: "/") else { throw invalid("has no repository path") }
        var authority = rest[..<slash]
        let path = rest[slash...]
        if let at = authority.lastIndex(of: "@") {
            guard allowUser else {
                throw FetchError(
                    .invalidURL,
                    "repository URLs with user info are not accepted (credentials must not travel in job input): "
                        + quoted(text))
            }
            let user = authority[..<at]
            if user.contains(":") {
                throw FetchError(.invalidURL, "repository URLs with a password are not accepted: \(quoted(text))")
            }
            try checkUser(user, invalid: invalid)
            authority = authority[authority.index(after: at)...]
        }
        try checkHostAndPort(authority, invalid: invalid)
        guard path.count > 1 else { throw invalid("has no repository path") }
        if path.contains("?") || path.contains("#") { throw invalid("has a query or fragment") }
        guard path.utf8.allSatisfy(isPathByte) else { throw invalid("has a character not allowed in a URL path") }
        try checkPercentEscapes(path, invalid: invalid)
    }

    /// `[user@]host:path`, as git hands it to ssh.
    private static func checkSCPLike(
        _ text: String, colon: String.Index, invalid: (String) -> FetchError
    ) throws(FetchError) {
        guard text.unicodeScalars.allSatisfy(\.isASCII) else { throw invalid("contains non-ASCII characters") }
        var host = text[..<colon]
        let path = text[text.index(after: colon)...]
        if let at = host.lastIndex(of: "@") {
            try checkUser(host[..<at], invalid: invalid)
            host = host[host.index(after: at)...]
        }
        if host.contains("[") || host.contains("]") { throw invalid("has a bracketed host; use ssh://[host]/path") }
        try checkHostName(host, invalid: invalid)
        guard !path.isEmpty else { throw invalid("has no repository path") }
        if path.hasPrefix("-") { throw invalid("has a path starting with '-'") }
        guard path.utf8.allSatisfy(isPathByte), !path.contains("?"), !path.contains("#") else {
            throw invalid("has a character not allowed in a repository path")
        }
        try checkPercentEscapes(path, invalid: invalid)
    }

    private static func checkUser(_ user: Substring, invalid: (String) -> FetchError) throws(FetchError) {
        guard !user.isEmpty, !user.hasPrefix("-"), user.utf8.count <= 64,
            user.utf8.allSatisfy({ isAlphanumeric($0) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D })
        else { throw invalid("has a user name that is not [A-Za-z0-9._-]+ (or starts with '-')") }
    }

    private static func checkHostAndPort(_ authority: Substring, invalid: (String) -> FetchError) throws(FetchError) {
        var host = authority
        var port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw invalid("has an unclosed '[' in its host") }
            let inner = authority[authority.index(after: authority.startIndex)..<close]
            guard !inner.isEmpty, inner.utf8.allSatisfy({ isHexByte($0) || $0 == 0x3A || $0 == 0x2E }) else {
                throw invalid("has an invalid IPv6 address")
            }
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw invalid("has junk after its IPv6 address") }
                port = after.dropFirst()
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = authority[..<colon]
                port = authority[authority.index(after: colon)...]
            }
            try checkHostName(host, invalid: invalid)
        }
        if let port {
            guard !port.isEmpty, port.count <= 5, port.utf8.allSatisfy(isDigit), let number = Int(port),
                (1...65535).contains(number)
            else { throw invalid("has an invalid port") }
        }
    }

    private static func checkHostName(_ host: Substring, invalid: (String) -> FetchError) throws(FetchError) {
        guard !host.isEmpty else { throw invalid("has no host") }
        guard host.utf8.count <= 253 else { throw invalid("has a host name longer than 253 bytes") }
        guard !host.hasPrefix("-"), !host.hasPrefix(".") else { throw invalid("has a host starting with '-' or '.'") }
        guard host.utf8.allSatisfy({ isAlphanumeric($0) || $0 == 0x2E || $0 == 0x2D || $0 == 0x5F }) else {
            throw invalid("has a host name with characters other than [A-Za-z0-9._-]")
        }
    }

    /// Every `%` starts two hex digits, and none decodes to a control character or NUL (git
    /// decodes some URLs; CVE-2020-5260 smuggled a newline into the credential protocol that way).
    private static func checkPercentEscapes(_ text: Substring, invalid: (String) -> FetchError) throws(FetchError) {
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            defer { index += 1 }
            guard bytes[index] == 0x25 else { continue }
            guard index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            else { throw invalid("has a '%' not followed by two hex digits") }
            let decoded = high << 4 | low
            if decoded < 0x20 || decoded == 0x7F { throw invalid("percent-encodes a control character") }
            index += 2
        }
    }

    /// git's transport-helper syntax: URL-scheme characters, then `::`.
    private static func isTransportHelper(_ text: String) -> Bool {
        guard let range = text.range(of: "::") else { return false }
        let prefix = text[..<range.lowerBound]
        return prefix.utf8.allSatisfy { isAlphanumeric($0) || $0 == 0x2B || $0 == 0x2E || $0 == 0x2D }
    }

    private static func isForbiddenAnywhere(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value) { return true }
        if scalar.properties.isWhitespace { return true }
        switch scalar.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator, .unassigned, .privateUse, .surrogate, .control:
            return true
        default: return false
        }
    }

    /// RFC 3986 path characters: unreserved, sub-delims, `:`, `@`, `/`, `%`.
    private static func isPathByte(_ byte: UInt8) -> Bool {
        if isAlphanumeric(byte) { return true }
        switch byte {
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "!"),
            UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="),
            UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: "%"):
            return true
        default: return false
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }
    private static func isHexByte(_ byte: UInt8) -> Bool { hexValue(byte) != nil }
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x41...0x46: return byte - 0x41 + 10
        case 0x61...0x66: return byte - 0x61 + 10
        default: return nil
        }
    }

    /// `text` fit for an error message: quoted, user info replaced by `***`, control and invisible
    /// characters escaped, at most 200 characters.
    public static func quoted(_ text: String) -> String {
        var shown = text
        if let scheme = shown.range(of: "://") {
            let authorityEnd = shown[scheme.upperBound...].firstIndex(of: "/") ?? shown.endIndex
            if let at = shown[scheme.upperBound..<authorityEnd].lastIndex(of: "@") {
                shown.replaceSubrange(scheme.upperBound..<at, with: "***")
            }
        }
        var out = ""
        for scalar in shown.unicodeScalars.prefix(200) {
            if isForbiddenAnywhere(scalar) && scalar != " " {
                out += scalar.value == 0 ? "\\0" : scalar == "\n" ? "\\n" : "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        if shown.unicodeScalars.count > 200 { out += "…" }
        return "'\(out)'"
    }
}
