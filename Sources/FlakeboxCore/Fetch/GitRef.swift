/// What to check out, parsed from untrusted input. Names follow `git check-ref-format`'s rules
/// (implemented here, not by running git) and never start with `-`, so none can be read as an
/// option; commit ids are hex.
public enum GitRef: Sendable, Hashable, CustomStringConvertible {
    /// The remote's default branch (no ref, an empty one, or `HEAD`).
    case defaultBranch
    /// A branch or tag name, as `git clone --branch` takes it.
    case name(String)
    /// A full commit id (40 or 64 hex digits), lowercase.
    case commit(String)
    /// An abbreviated commit id (7 to 39 hex digits), lowercase. Servers only hand out objects by
    /// full id, so it costs a full fetch.
    case abbreviatedCommit(String)

    /// Longest name accepted, in UTF-8 bytes.
    public static let maxNameBytes = 1024

    /// Parses a ref from job input. A string of 7–40 (or 64) hex digits is a commit id, even if a
    /// branch of that name exists.
    public static func parse(_ text: String?) throws(FetchError) -> GitRef {
        guard let text, !text.isEmpty, text != "HEAD" else { return .defaultBranch }
        let lowered = text.lowercased()
        if lowered.utf8.allSatisfy(isHexDigit) {
            switch lowered.utf8.count {
            case 40, 64: return .commit(lowered)
            case 7..<40: return .abbreviatedCommit(lowered)
            default: break
            }
        }
        if let problem = nameProblem(text) {
            throw FetchError(.invalidRef, "ref \(RepositoryURL.quoted(text)) \(problem)")
        }
        return .name(text)
    }

    /// Why `text` is not a usable branch or tag name, or nil.
    static func nameProblem(_ text: String) -> String? {
        if text.utf8.count > maxNameBytes { return "is longer than \(maxNameBytes) bytes" }
        if text.hasPrefix("-") { return "starts with '-'" }
        if text == "@" { return "is '@'" }
        if text.hasPrefix("/") || text.hasSuffix("/") { return "starts or ends with '/'" }
        if text.hasSuffix(".") { return "ends with '.'" }
        if text.contains("//") { return "contains '//'" }
        if text.contains("..") { return "contains '..'" }
        if text.contains("@{") { return "contains '@{'" }
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x00..<0x20, 0x7F: return "contains a control character"
            case 0x20: return "contains a space"
            case 0x7E, 0x5E, 0x3A, 0x3F, 0x2A, 0x5B, 0x5C:
                return "contains '\(Character(scalar))'"
            case 0x80...:
                switch scalar.properties.generalCategory {
                case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .unassigned,
                    .privateUse, .surrogate:
                    return "contains an invisible or control character"
                default: break
                }
            default: break
            }
        }
        for component in text.split(separator: "/") {
            if component.hasPrefix(".") { return "has a component starting with '.'" }
            if component.hasSuffix(".lock") { return "has a component ending with '.lock'" }
        }
        return nil
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte)
    }

    public var description: String {
        switch self {
        case .defaultBranch: return "the default branch"
        case .name(let name): return name
        case .commit(let id), .abbreviatedCommit(let id): return id
        }
    }
}
