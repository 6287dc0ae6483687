import FlakeboxSandbox
import Foundation
import Testing

@testable import FlakeboxCore

@Suite("Job input: failure_pattern and ignore_pattern")
struct JobInputPatternTests {
    static func parse(_ fields: String) throws(JobInputError) -> JobInput {
        try JobInput.parse(
            json: Data(#"{"repo": "https://github.com/o/r", "test_command": "pytest", \#(fields)}"#.utf8),
            origin: .remote)
    }

    static func problems(_ fields: String) -> [String] {
        do {
            _ = try parse(fields)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }

    @Test("patterns are read, compiled once, and compared by their text")
    func read() throws {
        let input = try Self.parse(#""failure_pattern": "Timeout|deadline", "ignore_pattern": "(?i)connection reset""#)
        #expect(input.failurePattern?.source == "Timeout|deadline")
        #expect(input.ignorePattern == (try OutputPattern("(?i)connection reset")))
        let none = try Self.parse(#""runs": 2"#)
        #expect(none.failurePattern == nil && none.ignorePattern == nil)
    }

    @Test("a bad, empty, over-long or non-string pattern is bad input naming its field")
    func refused() {
        let bad = Self.problems(#""failure_pattern": "(unclosed""#)
        #expect(
            bad.count == 1 && bad[0].contains("failure_pattern") && bad[0].contains("not a valid regular expression"))
        #expect(Self.problems(#""ignore_pattern": """#).first?.contains("ignore_pattern") == true)
        let long = String(repeating: "a", count: OutputPattern.maximumLength + 1)
        #expect(Self.problems(#""ignore_pattern": "\#(long)""#).first?.contains("longer than 1024 bytes") == true)
        #expect(Self.problems(#""failure_pattern": 3"#).first?.contains("expected a string") == true)
        #expect(Self.problems(#""failure_patern": "x""#).first?.contains("failure_patern") == true)
        #expect(Self.problems(#""failure_pattern": "[", "ignore_pattern": "(""#).count == 2)
    }

    @Test("the search covers both streams, the start and end of each, and no more")
    func searchBound() throws {
        let pattern = try OutputPattern("NEEDLE")
        let bound = OutputPattern.searchedBytesPerEnd
        func result(stdout: [UInt8], stderr: [UInt8] = []) -> AttemptResult {
            SummaryFixtures.result(
                .failed, stdout: SummaryFixtures.output(stdout), stderr: SummaryFixtures.output(stderr))
        }
        let filler = [UInt8](repeating: UInt8(ascii: "x"), count: bound)
        #expect(pattern.matches(result(stdout: [], stderr: Array("NEEDLE".utf8))))
        #expect(pattern.matches(result(stdout: Array("NEEDLE".utf8) + filler + filler)))
        #expect(pattern.matches(result(stdout: filler + filler + Array("NEEDLE".utf8))))
        #expect(!pattern.matches(result(stdout: filler + Array("NEEDLE".utf8) + filler)), "past the bound")
        // No match across the gap between a capture's head and tail.
        let split = CapturedOutput(head: Array("NEE".utf8), tail: Array("DLE".utf8), totalBytes: 100)
        #expect(!pattern.matches(SummaryFixtures.result(.failed, stdout: split)))
    }

    @Test("the filter: a failure not matching failure_pattern, or matching ignore_pattern, counts as passed")
    func filter() throws {
        var job = SummaryFixtures.job()
        job.failurePattern = try OutputPattern("Timeout")
        job.ignorePattern = try OutputPattern("flaky network")
        let filter = OutputFilter(input: job)
        let kept = filter.apply(SummaryFixtures.record(0, .failed, stdout: "Timeout after 5 s"))
        #expect(kept.result.status == .failed && kept.filtered == nil)
        let other = filter.apply(
            SummaryFixtures.record(1, .timeout, stderr: "assert 1 == 2", junit: ["<testsuite/>"]))
        #expect(other.result.status == .passed && other.junitReports.isEmpty)
        #expect(other.filtered == FilteredFailure(status: .timeout, reason: "output does not match failure_pattern"))
        let ignored = filter.apply(SummaryFixtures.record(2, .failed, stdout: "Timeout: flaky network"))
        #expect(ignored.filtered?.reason == "output matches ignore_pattern")
        let passed = filter.apply(SummaryFixtures.record(3, .passed, stdout: "flaky network"))
        #expect(passed.filtered == nil)
        let harness = filter.apply(SummaryFixtures.record(4, .sandboxError))
        #expect(harness.result.status == .sandboxError && harness.filtered == nil)
    }
}

@Suite("Summary: filtered failures")
struct SummaryFilteredTests {
    @Test("the verdict and counts use the filtered statuses; results keep the real one; the count is written")
    func counts() throws {
        var job = SummaryFixtures.job(runs: 3)
        job.ignorePattern = try OutputPattern("ignored")
        let filter = OutputFilter(input: job)
        let records = [
            SummaryFixtures.record(0, .failed, stdout: "ignored"), SummaryFixtures.record(1, .passed),
            SummaryFixtures.record(2, .failed, stdout: "ignored too"),
        ].map(filter.apply)
        var input = SummaryFixtures.input(records)
        input.job = job
        let summary = Summarizer.summarize(input)
        #expect(summary.failures == 0 && summary.verdict == .noFailureSeen && summary.filteredFailures == 2)
        let object = try SummaryFixtures.object(summary)
        #expect(object["filtered_failures"] as? Int == 2)
        let results = try SummaryFixtures.results(object)
        #expect((results[0]["filtered"] as? [String: Any])?["status"] as? String == "failed")
        #expect(results[1]["filtered"] == nil)

        // Without a pattern, the key is absent.
        #expect(try SummaryFixtures.object(SummaryFixtures.summarize(records))["filtered_failures"] == nil)
    }
}
