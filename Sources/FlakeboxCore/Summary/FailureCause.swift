import Foundation

/// The cause of a test's failure as a signature line, from its JUnit failure text: the
/// exception's type, its message with values masked, and the innermost frame of the
/// repository's own code. What varies from run to run of the same failure (the runner's
/// progress line, the test order, values) is left out, so the same cause gives the same line.
enum FailureCause {
    /// One line per failing test case of `reports`, sorted, each once.
    static func lines(_ reports: [JUnitReport]) -> [String] {
        var lines: Set<String> = []
        for report in reports {
            for testCase in report.testCases where testCase.outcome == .failed || testCase.outcome == .errored {
                lines.insert(line(for: testCase))
            }
        }
        return lines.sorted()
    }

    static func line(for testCase: JUnitReport.TestCase) -> String {
        let tail = testCase.failureTail ?? ""
        let frames = tail.split(whereSeparator: \.isNewline).compactMap(frame(in:))
        // pytest ends its long traceback with `path:line: ExceptionType`.
        var type = frames.last?.what.first.map { $0.isUppercase } == true ? frames.last?.what : nil
        var message = testCase.message.map { firstLine($0) } ?? ""
        // `ValueError: …` or `json.decoder.JSONDecodeError: …`: the type (qualified when the message
        // qualifies it), then the message.
        if let colon = message.range(of: ": ") {
            let name = message[..<colon.lowerBound]
            let isName = name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" }
            if isName, type == nil || name == type! || name.hasSuffix("." + type!) {
                type = String(name)
                message = String(message[colon.upperBound...])
            }
        }
        let masked = OutputNormalizer.normalize(line: message) ?? ""
        let own = frames.last { !isLibrary($0.path) }
        var text =
            (type ?? (testCase.outcome == .errored ? "error" : "failure")) + (masked.isEmpty ? "" : ": \(masked)")
        if let own { text += " at \(own.path):\(own.line)" }
        return String(text.prefix(OutputNormalizer.maximumLineBytes))
    }

    /// `path:line: what` (pytest's frame lines `tests/test_x.py:12: in helper` and its last line
    /// `tests/test_x.py:12: AssertionError`).
    static func frame(in line: Substring) -> (path: String, line: Int, what: String)? {
        let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let number = Int(parts[1]), parts[2].hasPrefix(" "), !parts[0].isEmpty,
            !parts[0].contains(" "), parts[0].contains(".")
        else { return nil }
        var what = parts[2].dropFirst()
        if what.hasPrefix("in ") { what = what.dropFirst(3) }
        return (String(parts[0]), number, String(what))
    }

    /// Installed code, not the repository's.
    static func isLibrary(_ path: String) -> Bool {
        ["site-packages/", "dist-packages/", "/lib/python", ".venv/", "/usr/", "<frozen", "_pytest/", "pluggy/"]
            .contains { path.contains($0) }
    }

    static func firstLine(_ text: String) -> String {
        String(text.split(whereSeparator: \.isNewline).first ?? "")
    }
}
