import FlakeboxSandbox
import Foundation

/// The job as JUnit XML in Maven Surefire's rerun dialect, which Jenkins, GitLab and the JUnit
/// report actions read: a flaky test is a passing `<testcase>` carrying one `<flakyFailure>` per
/// failing attempt; a test that never passed has a `<failure>` and then `<rerunFailure>`s. Each
/// carries the seed, the replay line and an output excerpt. A job whose runner wrote no JUnit
/// report is one test case: the command.
public enum JUnitWriter {
    public static func render(_ summary: JobSummary, command: String) -> String {
        var cases: [String] = []
        var failing = 0
        var flaky = 0
        if summary.tests.isEmpty {
            let failed = summary.failures > 0
            if failed && summary.verdict == .alwaysFails {
                failing += 1
            } else if failed {
                flaky += 1
            }
            cases.append(
                testCase(
                    classname: "flakebox", name: command, alwaysFails: summary.verdict == .alwaysFails,
                    examples: failed ? FailureExample.examples(in: summary, test: nil) : []))
        } else {
            for test in summary.tests {
                let (classname, name) = split(test.name)
                if test.alwaysFails { failing += 1 } else if test.failures > 0 { flaky += 1 }
                cases.append(
                    testCase(
                        classname: classname, name: name, alwaysFails: test.alwaysFails,
                        examples: FailureExample.examples(in: summary, test: test)))
            }
        }
        let properties = [
            ("flakebox.verdict", summary.verdict.rawValue), ("flakebox.failure_rate", summary.failureRate.sentence),
            ("flakebox.runs", "\(summary.totalRuns)"), ("flakebox.parallelism", "\(summary.parallelism)"),
            ("flakebox.isolation_tier", summary.isolation.tier.rawValue), ("flakebox.commit", summary.commit ?? ""),
            ("flakebox.version", summary.flakeboxVersion),
        ]
        let time = summary.timings.runsSeconds
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml +=
            #"<testsuites name="flakebox" tests="\#(cases.count)" failures="\#(failing)" errors="0" flaky="\#(flaky)">"#
        xml += "\n"
        xml += #"  <testsuite name="\#(MarkupEscaping.text("flakebox: " + command))" tests="\#(cases.count)" "#
        xml += #"failures="\#(failing)" errors="0" skipped="0" time="\#(time)">"# + "\n"
        xml += "    <properties>\n"
        for (name, value) in properties {
            xml += #"      <property name="\#(name)" value="\#(MarkupEscaping.text(value))"/>"# + "\n"
        }
        xml += "    </properties>\n"
        xml += cases.joined()
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    /// `tests.test_io::TestX::test_y` → (`tests.test_io.TestX`, `test_y`); no `::` → (`flakebox`, name).
    static func split(_ id: String) -> (String, String) {
        let parts = id.components(separatedBy: "::")
        guard parts.count > 1 else { return ("flakebox", id) }
        return (parts.dropLast().joined(separator: "."), parts.last ?? id)
    }

    private static func testCase(
        classname: String, name: String, alwaysFails: Bool, examples: [FailureExample]
    ) -> String {
        var xml = #"    <testcase classname="\#(MarkupEscaping.text(classname))" name="\#(MarkupEscaping.text(name))">"#
        xml += "\n"
        for (index, example) in examples.enumerated() {
            let element = alwaysFails ? (index == 0 ? "failure" : "rerunFailure") : "flakyFailure"
            let message = "\(example.message) (attempt \(example.attempt), seed \(example.seed))"
            var detail = "attempt \(example.attempt), seed \(example.seed): \(example.status)\n"
            if let replay = example.replay { detail += "replay: \(replay)\n" }
            xml += #"      <\#(element) message="\#(MarkupEscaping.text(message))" type="\#(example.status)">"#
            if element == "failure" {
                xml += MarkupEscaping.text(detail + "\n" + example.output)
            } else {
                xml += "\n        <stackTrace>\(MarkupEscaping.text(detail))</stackTrace>\n"
                xml += "        <system-out>\(MarkupEscaping.text(example.output))</system-out>\n      "
            }
            xml += "</\(element)>\n"
        }
        xml += "    </testcase>\n"
        return xml
    }
}
