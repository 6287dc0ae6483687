/// Why a repository could not be fetched. The message is safe to show and to log: it never holds
/// credentials (URLs with them are refused) and git's output in it is cleaned of control characters.
public struct FetchError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String

        /// The repository is not an accepted URL (or a submodule's URL is not).
        public static let invalidURL = Code(name: "invalid_url")
        /// The ref is neither a branch or tag name nor a commit id.
        public static let invalidRef = Code(name: "invalid_ref")
        /// A local path or `file://` URL, from input that did not come from the command line.
        public static let localNotAllowed = Code(name: "local_not_allowed")
        /// The destination directory exists and is not empty, or cannot be created.
        public static let destination = Code(name: "destination")
        /// git ran and failed (the message ends with the last lines it printed).
        public static let gitFailed = Code(name: "git_failed")
        /// The wall-clock limit was reached; git and every process it started were killed.
        public static let timeout = Code(name: "timeout")
        /// The checkout grew beyond the size limit; it was removed.
        public static let tooLarge = Code(name: "too_large")
        /// The calling task was cancelled; git was killed.
        public static let cancelled = Code(name: "cancelled")
        /// Remote input named a host that resolves to loopback, a private, link-local, CGNAT or
        /// unique-local address (`RemoteHostGuard`); nothing connected to it.
        public static let addressRefused = Code(name: "address_refused")
        /// The host is not on the site's allow-list (`HostAllowList`); nothing connected to it.
        public static let hostNotAllowed = Code(name: "host_not_allowed")
        /// The repository's host name did not resolve.
        public static let resolveFailed = Code(name: "resolve_failed")
        /// The host could not run git at all (spawn, pipe, temporary directory).
        public static let system = Code(name: "system")

        public var description: String { name }
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

extension FetchError {
    /// The last lines of what a process printed, fit for a log line or a JSON field: carriage
    /// returns become line breaks, every other control character, C1 control and bidirectional
    /// override becomes `?`, blank lines go, and at most `maxLines` lines / `maxCharacters`
    /// characters (the end) are kept.
    static func cleanTail(_ bytes: [UInt8], maxLines: Int = 12, maxCharacters: Int = 2000) -> String {
        var text = ""
        for scalar in String(decoding: bytes, as: UTF8.self).unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x0D: text.append("\n")
            case 0x09: text.append(" ")
            case 0x00..<0x20, 0x7F..<0xA0, 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069:
                text.append("?")
            default: text.unicodeScalars.append(scalar)
            }
        }
        let lines = text.split(separator: "\n").map { $0.trimmingTrailingSpaces() }.filter { !$0.isEmpty }
        var kept = lines.suffix(maxLines).joined(separator: "\n")
        if kept.count > maxCharacters { kept = "…" + String(kept.suffix(maxCharacters)) }
        return kept
    }
}

extension Substring {
    fileprivate func trimmingTrailingSpaces() -> Substring {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == " " { end = index(before: end) }
        return self[startIndex..<end]
    }
}
