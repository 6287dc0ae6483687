import FlakeboxCore
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

/// The files CI systems and people read: JUnit XML in Surefire's flaky dialect (checked against a
/// schema by xmllint and parsed back), GitHub Actions' step summary and annotations, the HTML
/// report (rendered by headless Chromium), and the output directory.
@Suite(
    "flakebox run: reports for CI and people",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
    .enabled(if: JobTestMachine.hasPytest, "needs python3-pytest"))
struct ReportOutputTests {
    /// A pytest suite with one flaky test (fails for seeds ≡ 1 mod 3), one always failing test whose
    /// name carries markup, and one that passes.
    static let files = [
        "tests/test_things.py": """
        import os

        def test_flaky():
            assert int(os.environ["TEST_SEED"]) % 3 != 1, "seed says no"

        def test_always():
            assert False, "<script>alert(1)</script>"

        def test_fine():
            pass
        """,
        "tests/test_markup.py": """
        import pytest

        @pytest.mark.parametrize("value", ["<img src=x onerror=alert(1)>"])
        def test_named(value):
            assert value == "", "markup in the name"
        """,
    ]

    static func run(_ extra: [String], environment: [String: String] = [:]) async throws -> (
        status: Int32, stdout: String, stderr: String, directory: String
    ) {
        let repo = try TestRepository(files: files)
        let directory = NSTemporaryDirectory() + "flakebox-reports-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let result = try await flakeboxWithEnvironment(
            ["run", "--repo", repo.path, "--runs", "6", "--parallelism", "3", "-q"]
                + extra.map {
                    $0.replacingOccurrences(of: "$DIR", with: directory)
                } + ["--", "python3 -m pytest -q tests"], environment: environment)
        return (result.status, result.stdout, result.stderr, directory)
    }

    @Test("JUnit XML: valid against the Surefire flaky schema, one flakyFailure per failing attempt, parsed back")
    func junit() async throws {
        let run = try await Self.run(["--junit-out", "$DIR/junit.xml"])
        defer { try? FileManager.default.removeItem(atPath: run.directory) }
        // test_always never passes, so the job as a whole always fails (exit 2).
        #expect(run.status == 2, "\(run.stdout) \(run.stderr)")
        let path = "\(run.directory)/junit.xml"
        let xml = try String(contentsOfFile: path, encoding: .utf8)
        let schema = "\(run.directory)/surefire-flaky.xsd"
        try Data(SurefireSchema.text.utf8).write(to: URL(fileURLWithPath: schema))
        if FileManager.default.fileExists(atPath: "/usr/bin/xmllint") {
            let check = HostCommand.run(["/usr/bin/xmllint", "--noout", "--schema", schema, path])
            #expect(check.status == 0, "\(check.stderr)\n\(xml)")
        } else {
            print("[flakebox tests] xmllint not installed (libxml2-utils): the schema check is skipped")
        }
        let report = try #require(JUnitReport.parse(Array(xml.utf8)), "our own parser reads it back")
        let byID = Dictionary(report.testCases.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byID["tests.test_things::test_flaky"] != nil, "\(byID.keys)")
        #expect(byID["tests.test_things::test_always"]?.outcome == .failed, "\(byID.keys)")
        // Seeds 0…5: 1 and 4 fail.
        #expect(xml.components(separatedBy: "<flakyFailure").count - 1 == 2, "\(xml)")
        #expect(xml.contains("seed 1)") && xml.contains("seed 4)"), "\(xml)")
        #expect(xml.contains("<failure") && xml.components(separatedBy: "<rerunFailure").count - 1 == 10, "\(xml)")
        #expect(xml.contains("replay: flakebox replay"), "\(xml)")
        #expect(!xml.contains("<script>") && xml.contains("&lt;script&gt;"), "\(xml)")
    }

    @Test("GitHub Actions: a step summary and one annotation per failing test")
    func github() async throws {
        let summaryFile = NSTemporaryDirectory() + "flakebox-step-summary-\(UUID().uuidString.prefix(8)).md"
        _ = FileManager.default.createFile(atPath: summaryFile, contents: Data("# earlier step\n".utf8))
        defer { try? FileManager.default.removeItem(atPath: summaryFile) }
        let run = try await Self.run(
            [], environment: ["GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summaryFile])
        defer { try? FileManager.default.removeItem(atPath: run.directory) }
        let markdown = try String(contentsOfFile: summaryFile, encoding: .utf8)
        #expect(markdown.hasPrefix("# earlier step\n## flakebox: always fails"), "\(markdown)")
        #expect(markdown.contains("| `tests.test_things::test_flaky` | 2 of 6 |"), "\(markdown)")
        let annotations = run.stdout.split(separator: "\n").filter { $0.hasPrefix("::") }
        #expect(
            annotations.contains {
                $0.hasPrefix("::warning file=tests/test_things.py,title=Flaky test::tests.test_things::test_flaky")
            }, "\(annotations)")
        #expect(annotations.contains { $0.hasPrefix("::error ") && $0.contains("test_always") }, "\(annotations)")
        #expect(annotations.allSatisfy { !$0.dropFirst(2).contains("\n") })
    }

    @Test("--output-dir holds the summary and every failing attempt's output")
    func outputDirectory() async throws {
        let run = try await Self.run(["--output-dir", "$DIR/out"])
        defer { try? FileManager.default.removeItem(atPath: run.directory) }
        let names = try FileManager.default.contentsOfDirectory(atPath: "\(run.directory)/out")
        #expect(names.contains("summary.json"))
        // Every attempt fails (test_always): 6 × stdout and stderr.
        #expect(names.filter { $0.hasPrefix("attempt-") }.count == 12, "\(names.sorted())")
        let stdout = try String(contentsOfFile: "\(run.directory)/out/attempt-1-seed-1.stdout", encoding: .utf8)
        #expect(stdout.contains("seed says no"), "\(stdout)")
    }

    @Test("HTML report: headless Chromium renders the strip and the histogram; markup in names stays text")
    func html() async throws {
        let run = try await Self.run(["--html", "$DIR/report.html"])
        defer { try? FileManager.default.removeItem(atPath: run.directory) }
        let page = try String(contentsOfFile: "\(run.directory)/report.html", encoding: .utf8)
        #expect(page.contains(#"<svg id="strip""#) && page.contains(#"<svg id="histogram""#))
        #expect(page.components(separatedBy: #"<rect class="attempt "#).count - 1 == 6)
        #expect(!page.contains("<img src=x") && page.contains("&lt;img src=x onerror=alert(1)&gt;"))
        #expect(!page.contains("<script"), "no script at all")
        #expect(page.contains("Content-Security-Policy"))
        guard
            let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first(where: {
                FileManager.default.isExecutableFile(atPath: $0)
            })
        else {
            print("[flakebox tests] chromium not installed: the HTML report's rendering check is skipped")
            return
        }
        // The rendered DOM: the markup in the test name is text, not an element.
        let dom = try await flakeboxProcess(
            chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                "file://\(run.directory)/report.html",
            ])
        #expect(dom.status == 0, "\(dom.stderr)")
        #expect(
            dom.stdout.contains(#"id="strip""#) && dom.stdout.contains(#"id="histogram""#), "\(dom.stdout.prefix(500))")
        #expect(!dom.stdout.contains("<img src=\"x\""), "the test name became an element")
        let screenshot = "\(run.directory)/report.png"
        let shot = try await flakeboxProcess(
            chromium,
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
                "--screenshot=\(screenshot)", "file://\(run.directory)/report.html",
            ])
        #expect(shot.status == 0, "\(shot.stderr)")
        let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "\(png.count) bytes")
    }
}

/// Runs `flakebox` with extra environment variables, off the cooperative pool.
func flakeboxWithEnvironment(_ arguments: [String], environment: [String: String]) async throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let path = HelperLocator.executableDirectory().appendingPathComponent("flakebox").path
    var merged = ProcessInfo.processInfo.environment
    for key in merged.keys where key.hasPrefix("GITHUB_") { merged[key] = nil }
    merged.merge(environment) { $1 }
    return try await flakeboxProcess(path, arguments, environment: merged)
}

/// Runs any program to its end on a thread of its own.
func flakeboxProcess(_ path: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> (
    status: Int32, stdout: String, stderr: String
) {
    try await withCheckedThrowingContinuation { continuation in
        DetachedThread.start {
            continuation.resume(with: Result { try runProgram(path, arguments, environment: environment) })
        }
    }
}
