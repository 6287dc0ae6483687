import FlakeboxSandbox

/// The failing attempts of a test (or of the whole command, when the runner wrote no JUnit
/// report), each with what a CI report shows: seed, message, an output excerpt and the replay line.
public struct FailureExample: Sendable, Equatable {
    public var attempt: Int
    public var seed: UInt64
    public var status: String
    public var message: String
    public var output: String
    public var replay: String?

    /// At most `limit` examples for `test` (nil: the command as a whole).
    public static func examples(
        in summary: JobSummary, test: JobSummary.TestEntry?, limit: Int = 10, outputBytes: Int = 4000
    ) -> [FailureExample] {
        let attempts =
            test?.failingAttempts
            ?? summary.results.filter { $0.status.isTestFailure }.map(\.attempt)
        let byAttempt = Dictionary(summary.results.map { ($0.attempt, $0) }, uniquingKeysWith: { first, _ in first })
        return attempts.prefix(limit).compactMap { number in
            guard let result = byAttempt[number] else { return nil }
            let output = (result.stdout.isEmpty ? "" : result.stdout + "\n") + result.stderr
            var message = test?.exampleMessage ?? "\(result.status.rawValue)"
            if test == nil, let code = result.exitCode { message += " (exit code \(code))" }
            return FailureExample(
                attempt: number, seed: result.seed, status: result.status.rawValue, message: message,
                output: MarkupEscaping.tail(output, maxBytes: outputBytes),
                replay: summary.replay.map { replayLine($0, seed: result.seed, attempt: number) })
        }
    }

    /// The summary's replay line (which names the first failing seed) for another attempt.
    static func replayLine(_ line: String, seed: UInt64, attempt: Int) -> String {
        var words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        for index in words.indices.dropLast() {
            if words[index] == "--seed" { words[index + 1] = "\(seed)" }
            if words[index] == "--attempt" { words[index + 1] = "\(attempt)" }
        }
        return words.joined(separator: " ")
    }
}
