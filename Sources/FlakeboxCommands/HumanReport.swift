import FlakeboxCore
import Foundation

/// The end-of-job report for a person at a terminal, from the same summary the worker returns.
enum HumanReport {
    static func exitCode(verdict: String?) -> Int32 {
        switch verdict {
        case "no_failure_seen": 0
        case "flaky": 1
        case "always_fails": 2
        default: 3
        }
    }

    /// As the summary's sentences write it (`8.75%`), so the report never shows one rate two ways.
    static func percent(_ value: Any?) -> String {
        guard let number = value as? Double else { return "?" }
        return SummaryFormat.percent(number)
    }

    /// The seed-control check in one line; its sentence too unless the advice already says it.
    static func seedControlLines(_ control: [String: Any], advice: String?) -> [String] {
        let seed = control["seed"].map { "\($0)" } ?? "?"
        let attempt = control["attempt"].map { "\($0)" } ?? "?"
        let replays = control["replays"] as? Int ?? 0
        let again = control["failed_again"] as? Bool == true
        var lines = [
            "seed control: seed \(seed) (attempt \(attempt)) replayed \(replays == 1 ? "once" : "\(replays) times"): "
                + (again ? "failed again — the seed controls this failure" : "passed — the seed does not control it")
        ]
        if let sentence = control["sentence"] as? String, advice?.contains(sentence) != true {
            lines.append("  " + printable(sentence))
        }
        return lines
    }

    /// Escapes control characters: test output is untrusted and must not drive the terminal.
    static func printable(_ text: String) -> String {
        String(
            text.unicodeScalars.map { scalar -> String in
                if scalar == "\n" || scalar == "\t" { return String(scalar) }
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value) {
                    return "\\u{\(String(scalar.value, radix: 16))}"
                }
                return String(scalar)
            }.joined())
    }

    /// What the classification phase says about one test: polluter or state-setter, rate alone,
    /// why, and the command that reproduces its failure.
    static func classificationLines(_ test: [String: Any]) -> [String] {
        guard test["kind"] is String else { return [] }
        var lines: [String] = []
        if let polluter = test["polluter"] as? String {
            lines.append("      polluter: \(printable(polluter)) (leaves state this test depends on)")
        }
        if let setter = test["state_setter"] as? String {
            lines.append("      state-setter: \(printable(setter)) (this test passes only after it)")
        }
        if let rate = test["rate_alone"] as? [String: Any] {
            lines.append(
                "      alone: \(percent(rate["estimate"])) failed "
                    + "(95% interval \(percent(rate["wilson_95_low"]))–\(percent(rate["wilson_95_high"])))")
        }
        if let reason = test["kind_reason"] as? String { lines.append("      why: \(printable(reason))") }
        if let replay = test["replay"] as? String { lines.append("      replay: \(printable(replay))") }
        return lines
    }

    static func render(_ summary: [String: Any]) -> String {
        var lines: [String] = []
        let total = summary["total_runs"] as? Int ?? 0
        let failures = summary["failures"] as? Int ?? 0
        let verdict = summary["verdict"] as? String ?? "?"
        let tests = summary["tests"] as? [[String: Any]] ?? []
        let orderDependent = tests.contains { ($0["kind"] as? String)?.hasPrefix("OD-") == true }
        lines.append(
            "verdict: \(verdict.replacingOccurrences(of: "_", with: " "))\(orderDependent ? ", order-dependent" : "")"
                + " — \(failures) of \(total) runs failed")
        if let rate = summary["failure_rate"] as? [String: Any] {
            if failures > 0 {
                lines.append(
                    "failure rate: \(percent(rate["estimate"])) (95% interval \(percent(rate["wilson_95_low"]))–\(percent(rate["wilson_95_high"])))"
                )
            } else if let sentence = rate["statement"] as? String ?? rate["sentence"] as? String {
                lines.append(sentence)
            }
        }
        if let counts = summary["status_counts"] as? [String: Int] {
            let shown = counts.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            lines.append("statuses: " + shown.joined(separator: ", "))
        }
        if let filtered = summary["filtered_failures"] as? Int, filtered > 0 {
            lines.append(
                "filtered: \(filtered) failing \(filtered == 1 ? "run" : "runs") counted as passed "
                    + "(failure_pattern/ignore_pattern; each has \"filtered\" in the JSON results)")
        }
        if let complete = summary["complete"] as? Bool, !complete {
            lines.append("incomplete: \(summary["incomplete_reason"] as? String ?? "")")
        }
        if !tests.isEmpty {
            lines.append("")
            lines.append("tests that failed:")
            for test in tests.prefix(10) {
                let name = test["name"] as? String ?? "?"
                var line = "  \(printable(name)): \(test["failures"] as? Int ?? 0)/\(test["runs"] as? Int ?? 0) failed"
                if let kind = test["kind"] as? String { line += " — \(kind)" }
                lines.append(line)
                lines += classificationLines(test)
            }
        }
        if let classification = summary["classification"] as? [String: Any] {
            lines.append(
                "classification: \(classification["runs"] as? Int ?? 0) extra runs for "
                    + "\(classification["tests_classified"] as? Int ?? 0) tests"
                    + ((classification["tests_skipped"] as? Int ?? 0) > 0
                        ? ", \(classification["tests_skipped"] as? Int ?? 0) left out by its bounds" : ""))
        }
        if let signatures = summary["failure_signatures"] as? [[String: Any]], !signatures.isEmpty {
            lines.append("")
            lines.append("failure signatures:")
            for signature in signatures.prefix(3) {
                let all = (signature["signature"] as? String ?? "").split(separator: "\n")
                // The lines that name the error say more than a runner's closing tally.
                let telling = all.filter { line in
                    ["Error", "FAILED", "assert", "Exception", "panic", "timed out", "FAIL:"].contains {
                        line.contains($0)
                    }
                }
                let text = telling.isEmpty ? Array(all.suffix(3)) : Array(telling.prefix(3))
                lines.append("  ×\(signature["count"] as? Int ?? 0):")
                for line in text { lines.append("    " + printable(String(line.prefix(160)))) }
            }
        }
        let advice = summary["advice"] as? String
        // The advice usually names the replay line already: print it once.
        if let replay = summary["replay"] as? String, advice?.contains(replay) != true {
            lines.append("")
            lines.append("replay the first failure:")
            lines.append("  \(replay)")
        }
        if let advice {
            lines.append("")
            lines.append(advice)
        }
        if let control = summary["seed_control"] as? [String: Any] {
            lines += seedControlLines(control, advice: advice)
        }
        if let interference = summary["interference"] as? [String: Any],
            let sentence = interference["sentence"] as? String, advice?.contains(sentence) != true
        {
            lines.append("interference: " + printable(sentence))
        }
        if let stress = summary["stress"] as? [String: Any], let sentence = stress["sentence"] as? String {
            lines.append(printable(sentence))
        }
        if let tree = summary["working_tree"] as? [String: Any], let copied = tree["copied_files"] as? Int,
            let deleted = tree["deleted_files"] as? Int, copied + deleted > 0
        {
            let base = (tree["base_commit"] as? String).map { String($0.prefix(12)) } ?? "HEAD"
            lines.append(
                "working tree: \(copied) changed or untracked file(s) and \(deleted) deletion(s) tested on top of \(base)"
                    + " (--committed-only tests HEAD alone)")
        }
        if let timings = summary["timings"] as? [String: Any], timings["checkout_cached"] as? Bool == true {
            lines.append(
                "checkout: the prepared checkout of this commit and setup was reused (--no-cache sets up again)")
        }
        if let reach = summary["seed_reach"] as? [String: Any], let sentence = reach["sentence"] as? String {
            lines.append("seed (\(reach["runner"] as? String ?? "?")): " + printable(sentence))
        }
        if let isolation = summary["isolation"] as? [String: Any], let tier = isolation["tier"] as? String {
            var line = "isolation: \(tier)"
            if let missing = isolation["missing"] as? [Any], !missing.isEmpty {
                line += " — WARNING, missing: \(missing.map { "\($0)" }.joined(separator: ", "))"
            }
            lines.append(line)
        }
        return lines.joined(separator: "\n")
    }
}
