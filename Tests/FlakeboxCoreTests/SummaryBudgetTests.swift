import FlakeboxCore
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

@Suite("Summary: size budget and output excerpts")
struct SummaryBudgetTests {
    /// A stream as the capture keeps it: `kept` bytes of `line`s (head and tail halves) out of `total`.
    static func capture(_ line: String, kept: Int, total: Int) -> CapturedOutput {
        let unit = Array(line.utf8)
        let bytes = (0..<kept).map { unit[$0 % unit.count] }
        return CapturedOutput(
            head: Array(bytes[..<(kept / 2)]), tail: Array(bytes[(kept / 2)...]), totalBytes: UInt64(total))
    }

    /// `count` attempts, each with 30 KiB of stdout and 30 KiB of stderr (of far more written);
    /// every tenth fails.
    static func floodedAttempts(_ count: Int) -> [AttemptRecord] {
        let stdout = capture(
            "PASSED tests/test_io.py::test_read line of ordinary progress output\n", kept: 30 << 10, total: 1 << 20)
        let stderr = capture(
            "Traceback (most recent call last):\nAssertionError: boom é ✓\n", kept: 30 << 10, total: 30 << 10)
        return (0..<count).map { attempt in
            let status: AttemptStatus = attempt % 10 == 3 ? .failed : .passed
            return AttemptRecord(
                attempt: attempt, seed: UInt64(attempt),
                result: SummaryFixtures.result(status, stdout: stdout, stderr: stderr))
        }
    }

    /// Seconds of work in a debug build: on a thread of its own, not one of the cooperative pool's
    /// two, which every other test of the run waits for.
    static func summarize(_ input: SummaryInput) async -> JobSummary {
        await onOwnThread { Summarizer.summarize(input) }
    }

    static func shownBytes(_ attempt: JobSummary.Attempt) -> Int {
        attempt.stdout.utf8.count + attempt.stderr.utf8.count
    }

    static func checkFits(_ summary: JobSummary, attempts: Int, budget: Int) throws {
        let data = summary.encodedJSON()
        #expect(data.count <= budget)
        #expect(summary.truncation.jsonBytes == data.count)
        #expect(summary.truncation.budgetBytes == budget)
        #expect(summary.truncation.withinBudget)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["total_runs"] as? Int == attempts)
        let results = try SummaryFixtures.results(object)
        #expect(results.count == attempts)
        #expect(results.map { $0["attempt"] as? Int } == Array(0..<attempts))
        #expect(results.allSatisfy { SummaryFixtures.resultKeys.isSubset(of: Set($0.keys)) })
        let failing = summary.results.filter { $0.status == .failed }
        let passing = summary.results.filter { $0.status == .passed }
        let leastFailing = try #require(failing.map(shownBytes).min())
        let mostPassing = try #require(passing.map(shownBytes).max())
        #expect(leastFailing > mostPassing, "failing keep \(leastFailing), passing \(mostPassing)")
        #expect(summary.truncation.attemptsWithCutOutput == attempts)
        #expect(summary.truncation.sentence.hasPrefix("To fit the \(budget)-byte budget the output of \(attempts) of"))
        #expect(summary.results.allSatisfy { $0.stdoutDroppedBytes > 0 && $0.stderrDroppedBytes > 0 })
    }

    @Test func aThousandFloodedAttemptsFitTheDefaultBudget() async throws {
        let budget = 4 << 20
        let summary = await Self.summarize(SummaryFixtures.input(Self.floodedAttempts(1000), budget: budget))
        try Self.checkFits(summary, attempts: 1000, budget: budget)
        // The budget is used, not wasted: failing attempts keep kilobytes of their output.
        #expect(summary.encodedJSON().count > budget * 3 / 4)
        let failingCap = try #require(summary.truncation.outputBytesPerFailingAttempt)
        let passingCap = try #require(summary.truncation.outputBytesPerPassingAttempt)
        #expect(failingCap > 8 << 10)
        #expect(passingCap > 0 && passingCap < failingCap)
        #expect(!summary.truncation.listsShortened)
        // A failing attempt's excerpt keeps its end, where the error is.
        let failing = try #require(summary.results.first { $0.status == .failed })
        #expect(failing.stderr.contains("bytes dropped …]"))
        let tail = try #require(failing.stderr.components(separatedBy: "bytes dropped …]\n").last)
        #expect(tail.utf8.count > 8 << 10)
        #expect(tail.contains("AssertionError: boom é ✓\n"))
    }

    @Test func twoHundredFloodedAttemptsFitSixtyFourKiB() async throws {
        let budget = 64 << 10
        let summary = await Self.summarize(SummaryFixtures.input(Self.floodedAttempts(200), budget: budget))
        try Self.checkFits(summary, attempts: 200, budget: budget)
    }

    @Test func aBudgetBelowTheResultsThemselvesIsReportedNotMet() async throws {
        let budget = 64 << 10
        let summary = await Self.summarize(SummaryFixtures.input(Self.floodedAttempts(1000), budget: budget))
        #expect(summary.results.count == 1000)
        #expect(summary.results.allSatisfy { $0.stdout.isEmpty && $0.stderr.isEmpty })
        #expect(!summary.truncation.withinBudget)
        #expect(summary.truncation.jsonBytes == summary.encodedJSON().count)
        #expect(summary.truncation.jsonBytes > budget)
        #expect(summary.truncation.listsShortened)
        #expect(
            summary.truncation.sentence.contains(
                "raise summary_budget_bytes to at least \(summary.truncation.jsonBytes)"))
    }

    @Test func junkOutputThatEscapesBadlyStillFits() async throws {
        let junk = CapturedOutput(
            head: (0..<(32 << 10)).map { UInt8($0 % 32) }, tail: (0..<(32 << 10)).map { UInt8(0x80 + $0 % 64) },
            totalBytes: 1 << 30)
        let records = (0..<300).map { attempt in
            AttemptRecord(
                attempt: attempt, seed: UInt64(attempt),
                result: SummaryFixtures.result(attempt % 2 == 0 ? .failed : .passed, stdout: junk, stderr: junk))
        }
        let budget = 1 << 20
        let summary = await Self.summarize(SummaryFixtures.input(records, budget: budget))
        #expect(summary.encodedJSON().count <= budget)
        #expect(summary.truncation.withinBudget)
        #expect(summary.results.count == 300)
        #expect(summary.results.contains { !$0.stdout.isEmpty })
    }

    @Test func outputCostlierInTheMiddleThanAtItsEndsIsCutAgainUntilItFits() async throws {
        // Plain text at both ends (where the cost estimate samples), control characters, six
        // JSON bytes each, in between: the first estimate is short.
        let control = [UInt8](repeating: 0x01, count: 27 << 10)
        let head = [UInt8](repeating: UInt8(ascii: "a"), count: 3 << 10) + control
        let tail = control + [UInt8](repeating: UInt8(ascii: "z"), count: 6 << 10)
        let output = CapturedOutput(head: head, tail: tail, totalBytes: 1 << 30)
        let records = (0..<100).map { attempt in
            AttemptRecord(
                attempt: attempt, seed: UInt64(attempt), result: SummaryFixtures.result(.failed, stdout: output))
        }
        let budget = 1 << 20
        let summary = await Self.summarize(SummaryFixtures.input(records, budget: budget))
        #expect(summary.encodedJSON().count <= budget)
        #expect(summary.truncation.withinBudget)
        #expect(summary.encodedJSON().count > budget / 2)
        let cap = try #require(summary.truncation.outputBytesPerFailingAttempt)
        #expect(cap > 4 << 10, "\(cap)")
    }

    @Test func smallOutputIsNeverCut() throws {
        let records = (0..<10).map { SummaryFixtures.record($0, $0 == 4 ? .failed : .passed, stdout: "ok \($0)") }
        let summary = SummaryFixtures.summarize(records)
        #expect(summary.results.map(\.stdout) == (0..<10).map { "ok \($0)" })
        #expect(summary.truncation.attemptsWithCutOutput == 0)
        #expect(summary.truncation.outputBytesPerFailingAttempt == nil)
        #expect(summary.truncation.outputBytesPerPassingAttempt == nil)
        #expect(
            summary.truncation.sentence
                == "No output was cut: the summary takes \(summary.truncation.jsonBytes) of its 4194304 bytes.")
        let truncation = try #require(SummaryFixtures.object(summary)["truncation"] as? [String: Any])
        #expect(truncation["output_bytes_per_failing_attempt"] is NSNull)
        #expect(
            Set(truncation.keys).isSuperset(of: [
                "budget_bytes", "json_bytes", "output_bytes_per_failing_attempt", "output_bytes_per_passing_attempt",
                "attempts_with_cut_output", "sentence",
            ]))
    }

    @Test func multiByteOutputIsNeverSplit() throws {
        let text = "é✓😀a" + String(repeating: "ßü€𝄞", count: 20)
        let bytes = Array(text.utf8)
        let output = SummaryFixtures.output(bytes)
        for limit in 0...bytes.count {
            let excerpt = OutputExcerpt.make(output, limit: limit)
            #expect(!excerpt.text.contains("\u{FFFD}"), "limit \(limit): \(excerpt.text)")
            #expect(excerpt.shownBytes <= limit)
            #expect(excerpt.shownBytes + Int(excerpt.droppedBytes) == bytes.count)
            #expect(excerpt.cut == (limit < bytes.count))
            let parts = excerpt.text.components(separatedBy: OutputExcerpt.marker(droppedBytes: excerpt.droppedBytes))
            if excerpt.droppedBytes > 0, limit > 0 {
                try #require(parts.count == 2)
                #expect(text.hasPrefix(parts[0]) && text.hasSuffix(parts[1]))
            } else {
                #expect(excerpt.text == (limit == 0 ? "" : text))
            }
        }
    }

    @Test func aCaptureSplitInsideACharacterIsTrimmedAtTheMarker() {
        // The capture kept "aé" + the first byte of "✓" | dropped | the last byte of "😀" + "b".
        let output = CapturedOutput(head: [0x61, 0xC3, 0xA9, 0xE2], tail: [0x80, 0x62], totalBytes: 100)
        let excerpt = OutputExcerpt.make(output, limit: nil)
        #expect(excerpt.text == "aé" + OutputExcerpt.marker(droppedBytes: 96) + "b")
        #expect(!excerpt.cut)
        #expect(excerpt.shownBytes == 4)
    }

    @Test(arguments: [1, 2, 3, 4, 5])
    func invalidBytesAreReplacedAsTheStandardLibraryDoes(seed: UInt64) {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        let bytes: [UInt8] = (0..<4096).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let byte = UInt8(truncatingIfNeeded: state >> 56)
            // Mostly well-formed-looking leads and continuations, so every decoding path runs.
            return state & 0x100 == 0 ? byte | 0x80 : byte & 0x7F
        }
        let excerpt = OutputExcerpt.make(SummaryFixtures.output(bytes), limit: nil)
        #expect(excerpt.text == String(decoding: bytes, as: UTF8.self))
    }

    @Test func invalidBytesAreReplacedNotDropped() {
        let excerpt = OutputExcerpt.make(SummaryFixtures.output([0x61, 0xFF, 0x62]), limit: nil)
        #expect(excerpt.text == "a\u{FFFD}b")
        #expect(excerpt.shownBytes == 3 && excerpt.droppedBytes == 0)
    }
}
