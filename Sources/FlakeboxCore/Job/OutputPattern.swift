import FlakeboxSandbox
import Foundation

/// A regular expression over an attempt's output (`failure_pattern`, `ignore_pattern`), compiled
/// once when the job is validated. ICU syntax (NSRegularExpression), as go's `stress -failure`
/// and `-ignore` take a regular expression; `(?m)` and the like work inline.
public struct OutputPattern: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    let expression: NSRegularExpression

    /// Longer patterns are refused: a pattern is a line or two, not a program.
    public static let maximumLength = 1024
    /// Bytes searched of each stream's start and of its end (the captured output is already
    /// bounded; this bounds a pathological pattern's work as well).
    public static let searchedBytesPerEnd = 128 << 10

    /// - Throws: `PatternProblem` for a pattern that is empty, too long, or does not compile.
    public init(_ source: String) throws(PatternProblem) {
        if source.isEmpty { throw PatternProblem(message: "must not be empty") }
        if source.utf8.count > Self.maximumLength {
            throw PatternProblem(message: "longer than \(Self.maximumLength) bytes")
        }
        if source.utf8.contains(0) { throw PatternProblem(message: "must not contain NUL") }
        do {
            expression = try NSRegularExpression(pattern: source)
        } catch {
            throw PatternProblem(message: "not a valid regular expression: \(source)")
        }
        self.source = source
    }

    public struct PatternProblem: Error, Sendable {
        public var message: String
    }

    public var description: String { source }

    public static func == (lhs: OutputPattern, rhs: OutputPattern) -> Bool { lhs.source == rhs.source }

    /// Whether the pattern matches anywhere in the attempt's stdout or stderr (each searched
    /// separately, at most `searchedBytesPerEnd` of its start and of its end).
    public func matches(_ result: AttemptResult) -> Bool {
        [result.stdout, result.stderr].contains { matches(Self.searchedText($0)) }
    }

    func matches(_ text: String) -> Bool {
        let whole = NSRange(text.startIndex..<text.endIndex, in: text)
        return expression.firstMatch(in: text, options: [], range: whole) != nil
    }

    /// The kept output, cut to its first and last `searchedBytesPerEnd` bytes; a line break
    /// stands where bytes are missing, so that no match spans the gap.
    static func searchedText(_ output: CapturedOutput) -> String {
        let limit = searchedBytesPerEnd
        let kept = output.head + output.tail
        let gap = output.truncated
        if kept.count <= 2 * limit {
            guard gap else { return String(decoding: kept, as: UTF8.self) }
            return String(decoding: output.head, as: UTF8.self) + "\n" + String(decoding: output.tail, as: UTF8.self)
        }
        return String(decoding: kept.prefix(limit), as: UTF8.self) + "\n"
            + String(decoding: kept.suffix(limit), as: UTF8.self)
    }
}
