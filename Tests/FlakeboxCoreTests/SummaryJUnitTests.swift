import FlakeboxCore
import FlakeboxSandbox
import Testing

@Suite("Summary: per-test results from JUnit XML")
struct SummaryJUnitTests {
    /// What `pytest --junitxml` writes for five tests, `test_cache` failing when `failing`.
    static func pytestReport(failing: Bool, attempt: Int) -> String {
        let cache =
            failing
            ? """
            <testcase classname="tests.test_io" name="test_cache" time="0.0\(attempt)"><failure message="AssertionError: \
            stale entry at 0x7f00\(attempt)bc0 after 0.\(attempt)s">tests/test_io.py:42: in test_cache
                assert fresh
            E   AssertionError</failure></testcase>
            """
            : "<testcase classname=\"tests.test_io\" name=\"test_cache\" time=\"0.01\"/>"
        return """
            <?xml version="1.0" encoding="utf-8"?>
            <testsuites><testsuite name="pytest" errors="0" failures="\(failing ? 1 : 0)" skipped="1" tests="5" \
            time="0.1\(attempt)" timestamp="2024-05-01T10:11:1\(attempt)" hostname="sandbox">
            <testcase classname="tests.test_io" name="test_read" time="0.001"/>
            \(cache)
            <testcase classname="tests.test_io" name="test_write[a-1]" time="0.002"/>
            <testcase classname="tests.test_net" name="test_offline" time="0.000"><skipped type="pytest.skip" \
            message="no network">skipped</skipped></testcase>
            <testcase classname="tests.test_net" name="test_loopback" time="0.003"/>
            </testsuite></testsuites>
            """
    }

    static let failingAttempts: Set<Int> = [2, 5, 7]

    static func tenAttempts() -> [AttemptRecord] {
        (0..<10).map { attempt in
            let failing = failingAttempts.contains(attempt)
            return SummaryFixtures.record(
                attempt, failing ? .failed : .passed, stdout: failing ? "1 failed, 4 passed" : "5 passed",
                junit: [pytestReport(failing: failing, attempt: attempt)])
        }
    }

    @Test func theOneTestThatFailsInThreeOfTenAttemptsIsNamed() throws {
        let summary = SummaryFixtures.summarize(Self.tenAttempts())
        #expect(summary.testsTotal == 5)
        #expect(summary.testsFailedTotal == 1)
        let test = try #require(summary.tests.first)
        #expect(summary.tests.count == 1)
        #expect(test.name == "tests.test_io::test_cache")
        #expect(test.runs == 10)
        #expect(test.failures == 3)
        #expect(test.errors == 0)
        #expect(test.rate == 0.3)
        #expect(test.flaky)
        #expect(!test.alwaysFails)
        #expect(test.failingAttempts == [2, 5, 7])
        #expect(test.exampleMessage == "AssertionError: stale entry at 0x<hex> after <n>s")
        try #require(summary.results.count == 10)
        #expect(summary.results[2].failedTests == ["tests.test_io::test_cache"])
        #expect(summary.results[0].failedTests == [])
        #expect(summary.advice.contains("`tests.test_io::test_cache` failed in 3 of 10 runs"))
        let object = try SummaryFixtures.object(summary)
        let tests = try #require(object["tests"] as? [[String: Any]])
        try #require(tests.count == 1)
        #expect(
            Set(tests[0].keys) == [
                "name", "runs", "failures", "errors", "skips", "rate", "flaky", "always_fails", "example_message",
                "failing_attempts",
            ])
    }

    @Test func skippedTestsCountAsSkipsAndAlwaysFailingOnesAreMarked() throws {
        let report = """
            <testsuite name="s">
              <testsuite name="nested">
                <testcase classname="A" name="broken"><error message="ImportError: no module"/></testcase>
                <testcase name="lonely" file="tests/test_x.py"><skipped/></testcase>
              </testsuite>
            </testsuite>
            """
        let records = (0..<4).map { SummaryFixtures.record($0, .failed, junit: [report]) }
        let summary = SummaryFixtures.summarize(records)
        #expect(summary.testsTotal == 2)
        let test = try #require(summary.tests.first)
        #expect(test.name == "A::broken")
        #expect(test.failures == 4 && test.errors == 4)
        #expect(test.alwaysFails && !test.flaky)
        #expect(test.exampleMessage == "ImportError: no module")
    }

    @Test func parserFollowsNestingAndTheNameRule() throws {
        let xml = """
            <?xml version="1.0"?>
            <testsuites>
              <testsuite name="outer"><testsuite name="inner">
                <testcase classname="pkg.Class" name="testA" time="1.5"/>
                <testcase name="test_b" file="tests/test_b.py"><failure>line one
            line two</failure></testcase>
                <testcase name="bare"><skipped/><error message="boom"/></testcase>
              </testsuite></testsuite>
              <testsuite><testcase classname="" name="second" file=""/></testsuite>
            </testsuites>
            """
        let report = try #require(JUnitReport.parse(Array(xml.utf8)))
        #expect(report.testCases.map(\.id) == ["pkg.Class::testA", "tests/test_b.py::test_b", "bare", "second"])
        #expect(report.testCases.map(\.outcome) == [.passed, .failed, .errored, .passed])
        try #require(report.testCases.count == 4)
        #expect(report.testCases[0].seconds == 1.5)
        #expect(report.testCases[1].message == "line one")
        #expect(report.testCases[2].message == "boom")
        #expect(!report.truncated)
    }

    @Test(arguments: [
        "",
        "not xml at all",
        "<testsuite><testcase name=\"a\"></testsuite>",
        "<testsuites><testsuite><testcase name=\"x\"><failure message=\"m\">",
        "\u{0}\u{1}\u{2}<<<>>>&&&",
        """
        <?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
        <testsuite><testcase name="&lol2;"/></testsuite>
        """,
    ])
    func malformedReportsAreIgnored(xml: String) {
        #expect(JUnitReport.parse(Array(xml.utf8)) == nil)
    }

    @Test func malformedReportsDoNotCrashTheSummaryAndAreIgnored() throws {
        var records = Self.tenAttempts()
        records[0].junitReports.append(Array("<testsuite><testcase name=\"ghost\"><failure/>".utf8))
        records[1].junitReports = [Array(repeating: 0xFF, count: 10_000), Array("<<".utf8)]
        records[3].junitReports.append((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        let summary = SummaryFixtures.summarize(records)
        #expect(summary.testsTotal == 5)
        #expect(summary.tests.map(\.name) == ["tests.test_io::test_cache"])
        #expect(summary.tests.first?.runs == 9)
        try #require(summary.results.count == 10)
        #expect(summary.results[1].failedTests == nil)
    }

    @Test func hugeReportsAreCapped() throws {
        let cases = (0..<1000).map { "<testcase classname=\"c\" name=\"t\($0)\"/>" }.joined()
        let xml = Array("<testsuite>\(cases)</testsuite>".utf8)
        let report = try #require(JUnitReport.parse(xml, limits: .init(maximumTestCases: 100)))
        #expect(report.testCases.count == 100)
        #expect(report.truncated)
        #expect(JUnitReport.parse(xml, limits: .init(maximumBytes: 1000)) == nil)
        let complete = try #require(JUnitReport.parse(xml))
        #expect(complete.testCases.count == 1000 && !complete.truncated)
    }

    @Test func aTestCountsOncePerAttemptEvenWhenReportedTwice() throws {
        let first =
            "<testsuite><testcase classname=\"c\" name=\"t\"><failure message=\"first\"/></testcase></testsuite>"
        let rerun = "<testsuite><testcase classname=\"c\" name=\"t\"/></testsuite>"
        let summary = SummaryFixtures.summarize([
            SummaryFixtures.record(0, .failed, junit: [first, rerun]),
            SummaryFixtures.record(1, .passed, junit: [rerun]),
        ])
        let test = try #require(summary.tests.first)
        #expect(test.runs == 2 && test.failures == 1 && test.flaky)
        #expect(test.exampleMessage == "first")
    }
}
