import Foundation

/// Something attempts running at once contend for, named where a failure's output says it: a port
/// (`Address already in use`) or a file (`File exists`, `No such file or directory`, …).
public struct SharedResource: Sendable, Equatable, Hashable, Codable {
    public enum Kind: String, Sendable, Codable {
        case port, file
    }

    public var kind: Kind
    /// The port number or path as the output gives it; `?` when the error names none.
    public var name: String
    /// The error that named it, e.g. `Address already in use`.
    public var error: String

    public init(kind: Kind, name: String, error: String) {
        self.kind = kind
        self.name = name
        self.error = error
    }

    /// `port 47123 (Address already in use)`.
    public var description: String {
        let what = name == "?" ? "a \(kind.rawValue) the output does not name" : "\(kind.rawValue) \(name)"
        return "\(what) (\(error))"
    }

    /// Lines looked at per output, so a huge log costs a bounded scan.
    static let maximumLines = 4000
    /// Lines above a port error searched for the port (a Python traceback shows the `bind` call
    /// and its arguments a few lines before the error).
    static let portLookBack = 12

    /// Every resource `text` names, in order of first appearance.
    public static func find(in text: String) -> [SharedResource] {
        let lines = text.split(whereSeparator: \.isNewline).prefix(maximumLines).map(String.init)
        var found: [SharedResource] = []
        for (index, line) in lines.enumerated() {
            let lower = line.lowercased()
            var resource: SharedResource?
            if lower.contains("address already in use") || line.contains("EADDRINUSE") {
                let port =
                    firstMatch(portInLine, in: line)
                    ?? lines[max(0, index - portLookBack)..<index].reversed().lazy.compactMap {
                        firstMatch(portNearby, in: $0)
                    }.first
                resource = SharedResource(kind: .port, name: port ?? "?", error: "Address already in use")
            } else if let (error, path) = fileError(line) {
                resource = SharedResource(kind: .file, name: path ?? "?", error: error)
            }
            if let resource, !found.contains(resource) { found.append(resource) }
        }
        // An unnamed entry says less than a named one of its kind (a test summary line repeating
        // the error far from the call that named it).
        return found.filter { resource in
            resource.name != "?"
                || !found.contains { $0.kind == resource.kind && $0.error == resource.error && $0.name != "?" }
        }
    }

    /// (error, path) for a line reporting a file-level clash.
    private static func fileError(_ line: String) -> (String, String?)? {
        for (error, patterns) in fileErrors {
            let lower = line.lowercased()
            guard lower.contains(error.lowercased()) || (error == "File exists" && line.contains("EEXIST")) else {
                continue
            }
            for pattern in patterns {
                if let path = firstMatch(pattern, in: line) { return (error, path) }
            }
            return (error, nil)
        }
        return nil
    }

    private static func regex(_ pattern: String) -> NSRegularExpression {
        // The patterns are constants: a failure here is a programmer error.
        try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
    }

    private static func firstMatch(_ expression: NSRegularExpression, in line: String) -> String? {
        let range = NSRange(line.startIndex..., in: line)
        guard let match = expression.firstMatch(in: line, range: range) else { return nil }
        // Alternatives each have a group of their own: the one that took part.
        for index in 1..<max(match.numberOfRanges, 1) {
            if let group = Range(match.range(at: index), in: line) { return String(line[group]) }
        }
        return nil
    }

    /// `127.0.0.1:47123`, `[::]:47123`, `:::3000`, `localhost:80`, `port 47123`, `port=47123`.
    private static let portInLine = regex(
        #"(?:(?:\d{1,3}(?:\.\d{1,3}){3}|localhost|\]|::)\s*:\s*|\bport\b\D{0,3})(\d{1,5})\b"#)
    /// Also a Python address tuple, `("127.0.0.1", 47123)`, `('', 8080)`.
    private static let portNearby = regex(
        #"(?:\(\s*['"][^'"]*['"]\s*,\s*(\d{1,5})\s*\)|(?:\d{1,3}(?:\.\d{1,3}){3}|localhost)\s*:\s*(\d{1,5})\b|\bport\b\s*[=:]?\s*(\d{1,5})\b)"#
    )

    /// Python (`FileExistsError: [Errno 17] File exists: '/tmp/x'`), Go (`mkdir /tmp/x: file
    /// exists`), Node (`EEXIST: file already exists, mkdir '/tmp/x'`), and their kin.
    private static let fileErrors: [(String, [NSRegularExpression])] = [
        (
            "File exists",
            [
                regex(#"file exists:\s*['"]([^'"]+)['"]"#), regex(#"(/?[\w./-]+): file exists"#),
                regex(#"file already exists, \w+ ['"]([^'"]+)['"]"#),
            ]
        ),
        (
            "No such file or directory",
            [
                regex(#"no such file or directory:\s*['"]([^'"]+)['"]"#),
                regex(#"(/?[\w./-]+): no such file or directory"#),
                regex(#"ENOENT: no such file or directory, \w+ ['"]([^'"]+)['"]"#),
            ]
        ),
        (
            "Directory not empty",
            [regex(#"directory not empty:\s*['"]([^'"]+)['"]"#), regex(#"(/?[\w./-]+): directory not empty"#)]
        ),
        ("Text file busy", [regex(#"text file busy:\s*['"]([^'"]+)['"]"#)]),
        ("database is locked", []),
    ]
}
