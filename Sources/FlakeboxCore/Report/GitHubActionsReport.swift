import FlakeboxSandbox
import Foundation

/// What a GitHub Actions run shows of a job: a Markdown step summary (for `$GITHUB_STEP_SUMMARY`)
/// and one `::warning` workflow command per flaky test (`::error` for one that never passed),
/// with the file when the test's name gives it.
public enum GitHubActionsReport {
    public static func stepSummary(_ summary: JobSummary, command: String) -> String {
        var md = "## flakebox: \(verdictTitle(summary.verdict))\n\n"
        md += "`\(inlineCode(command))` · \(summary.failureRate.sentence)\n\n"
        if !summary.tests.isEmpty {
            md += "| test | failed | rate | |\n|---|---:|---:|---|\n"
            for test in summary.tests.prefix(50) {
                let kind = test.alwaysFails ? "always fails" : test.flaky ? "flaky" : ""
                md +=
                    "| `\(inlineCode(test.name))` | \(test.failures) of \(test.runs) | "
                    + String(format: "%.1f %%", test.rate * 100) + " | \(kind) |\n"
            }
            if summary.tests.count > 50 { md += "\n…and \(summary.tests.count - 50) more.\n" }
            md += "\n"
        }
        if let replay = summary.replay { md += "Replay the first failure:\n\n```sh\n\(replay)\n```\n\n" }
        md += "\(summary.advice)\n\n"
        md += "<sub>isolation: \(summary.isolation.tier.rawValue)"
        if let warning = summary.isolation.warning { md += " — \(htmlEscapedLine(warning))" }
        md += " · flakebox \(summary.flakeboxVersion)</sub>\n"
        return md
    }

    /// Workflow commands, one line each. `repositoryRoot` (a local checkout) lets a test's file be
    /// named when it exists there.
    public static func annotations(_ summary: JobSummary, command: String, repositoryRoot: String?) -> [String] {
        guard summary.failures > 0 else { return [] }
        if summary.tests.isEmpty {
            let level = summary.verdict == .alwaysFails ? "error" : "warning"
            return [
                "::\(level) title=\(property("flakebox: \(verdictTitle(summary.verdict))"))::"
                    + data(
                        "\(command): \(summary.failureRate.sentence)" + (summary.replay.map { "\nreplay: \($0)" } ?? "")
                    )
            ]
        }
        return summary.tests.prefix(50).map { test in
            let level = test.alwaysFails ? "error" : "warning"
            var properties = ["title=" + property(test.alwaysFails ? "Always failing test" : "Flaky test")]
            if let file = file(of: test.name, root: repositoryRoot) {
                properties.insert("file=" + property(file), at: 0)
            }
            var message = "\(test.name) failed in \(test.failures) of \(test.runs) runs"
            if let example = test.exampleMessage { message += ": \(example)" }
            if let seed = FailureExample.examples(in: summary, test: test, limit: 1).first {
                message += "\nreplay: \(seed.replay ?? "seed \(seed.seed)")"
            }
            return "::\(level) \(properties.joined(separator: ","))::\(data(message))"
        }
    }

    /// The file a pytest-style id names (`tests/test_x.py::test_y`, or `tests.test_x::test_y`
    /// when `tests/test_x.py` exists under `root`).
    static func file(of id: String, root: String?) -> String? {
        guard let first = id.components(separatedBy: "::").first, id.contains("::") else { return nil }
        if first.hasSuffix(".py") || first.contains("/") { return first }
        let guess = first.replacingOccurrences(of: ".", with: "/") + ".py"
        guard let root, FileManager.default.fileExists(atPath: "\(root)/\(guess)") else { return nil }
        return guess
    }

    static func verdictTitle(_ verdict: JobSummary.Verdict) -> String {
        switch verdict {
        case .flaky: "flaky"
        case .alwaysFails: "always fails"
        case .noFailureSeen: "no failure seen"
        case .harnessError: "harness error"
        }
    }

    /// GitHub's escaping of a workflow command's message.
    static func data(_ text: String) -> String {
        text.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    /// GitHub's escaping of a workflow command's property value.
    static func property(_ text: String) -> String {
        data(text).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }

    /// Backticks cannot end an inline code span early; pipes cannot split a table cell.
    static func inlineCode(_ text: String) -> String {
        text.replacingOccurrences(of: "`", with: "'").replacingOccurrences(of: "|", with: "\\|")
            .replacingOccurrences(of: "\n", with: " ")
    }

    static func htmlEscapedLine(_ text: String) -> String {
        MarkupEscaping.text(text).replacingOccurrences(of: "\n", with: " ")
    }
}
