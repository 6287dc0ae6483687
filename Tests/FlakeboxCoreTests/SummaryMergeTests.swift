import FlakeboxCore
import FlakeboxSandbox
import Foundation
import Testing

/// Shards made from attempt values (no process runs): a merge of them against the unsplit job.
enum MergeFixtures {
    static let base: UInt64 = 100

    static func junit(_ seed: UInt64, failing: Bool) -> String {
        let first =
            failing
            ? #"<testcase classname="tests.test_calc" name="test_add" file="tests/test_calc.py">"#
                + #"<failure message="AssertionError: assert \#(seed % 3) == 3">tests/test_calc.py:12: AssertionError</failure></testcase>"#
            : #"<testcase classname="tests.test_calc" name="test_add" file="tests/test_calc.py"/>"#
        let skipped = seed % 4 == 0 ? "<skipped/>" : ""
        return "<testsuite>" + first
            + #"<testcase classname="tests.test_calc" name="test_sub">\#(skipped)</testcase></testsuite>"#
    }

    /// Seed `seed` as attempt `attempt`: fails on multiples of 5 (with a JUnit report), times out
    /// on multiples of 7, the harness fails on multiples of 11, else passes.
    static func record(seed: UInt64, attempt: Int) -> AttemptRecord {
        let status: AttemptStatus =
            seed % 11 == 0 ? .sandboxError : seed % 5 == 0 ? .failed : seed % 7 == 0 ? .timeout : .passed
        let result = SummaryFixtures.result(
            status,
            stdout: SummaryFixtures.output("collected 2 items, seed \(seed)\n"),
            stderr: SummaryFixtures.output(status == .passed ? "" : "Traceback\nboom at seed \(seed)\n"),
            seconds: Double(seed % 13) / 10 + 0.25,
            setupFailure: status == .sandboxError ? .init(stage: "execve", errno: 2) : nil)
        let reports =
            status == .passed || status == .failed ? [Array(junit(seed, failing: status == .failed).utf8)] : []
        return AttemptRecord(attempt: attempt, seed: seed, result: result, junitReports: reports)
    }

    static func summary(
        seedStart: UInt64, runs: Int, commit: String = "0123456789abcdef", command: String = "python3 -m pytest -q",
        budget: Int = 4 << 20, outputBytes: Int = 0, classification: ClassificationReport? = nil
    ) -> JobSummary {
        let records = (0..<runs).map { index in
            var record = record(seed: seedStart + UInt64(index), attempt: index)
            if outputBytes > 0 {
                // Lines that differ from seed to seed, so that each attempt's output is its own.
                let seed = seedStart + UInt64(index)
                let text = (0..<(outputBytes / 32)).map { "line \($0) of seed \(seed) ........\n" }.joined()
                record.result.stdout = SummaryFixtures.output(text)
            }
            return record
        }
        let job = JobInput(
            repo: "https://example.com/repo.git", testCommand: command, runs: runs, parallelism: 2,
            seedStart: seedStart, summaryBudgetBytes: budget)
        var input = SummaryInput(
            job: job, records: records.reversed(), complete: true, isolation: SummaryFixtures.isolation,
            timings: JobTimings(cloneSeconds: 1.5, setupSeconds: 2, runSeconds: 10, totalSeconds: 13.5),
            commit: commit, flakeboxVersion: "9.9.9")
        input.classification = classification
        return Summarizer.summarize(input)
    }

    static func refusal(_ summaries: [JobSummary]) -> MergeError? {
        do {
            _ = try SummaryMerger.merge(summaries)
            return nil
        } catch {
            return error
        }
    }
}

@Suite("Summary merging")
struct SummaryMergeTests {
    @Test("three shards merge into exactly the unsplit job's summary")
    func shardsEqualUnsplit() throws {
        let unsplit = MergeFixtures.summary(seedStart: 100, runs: 60)
        let shards = [
            MergeFixtures.summary(seedStart: 100, runs: 17), MergeFixtures.summary(seedStart: 117, runs: 25),
            MergeFixtures.summary(seedStart: 142, runs: 18),
        ]
        let merged = try SummaryMerger.merge(shards)
        // Timings are each shard's (all equal here), so even they agree: every byte is the same.
        #expect(
            String(decoding: merged.encodedJSON(), as: UTF8.self)
                == String(decoding: unsplit.encodedJSON(), as: UTF8.self))
        #expect(merged.verdict == .flaky)
        #expect(merged.testsTotal == 2 && merged.tests.first?.name == "tests.test_calc::test_add")
        #expect(merged.failingSeeds.first == 100)
        #expect(merged.failureSignaturesTotal == unsplit.failureSignaturesTotal && merged.failureSignaturesTotal > 1)
    }

    @Test("the merge does not depend on the order the shards are given in")
    func orderIndependent() throws {
        let shards = [
            MergeFixtures.summary(seedStart: 100, runs: 9), MergeFixtures.summary(seedStart: 109, runs: 14),
            MergeFixtures.summary(seedStart: 123, runs: 7),
        ]
        let expected = try SummaryMerger.merge(shards).encodedJSON()
        for order in [[0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]] {
            #expect(try SummaryMerger.merge(order.map { shards[$0] }).encodedJSON() == expected, "order \(order)")
        }
    }

    @Test("a merged summary merges again, and one summary merges into itself")
    func associative() throws {
        let a = MergeFixtures.summary(seedStart: 100, runs: 10)
        let b = MergeFixtures.summary(seedStart: 110, runs: 10)
        let c = MergeFixtures.summary(seedStart: 120, runs: 10)
        let all = try SummaryMerger.merge([a, b, c]).encodedJSON()
        #expect(try SummaryMerger.merge([try SummaryMerger.merge([a, b]), c]).encodedJSON() == all)
        #expect(try SummaryMerger.merge([a]).encodedJSON() == a.encodedJSON())
    }

    @Test("results are fitted to the budget again: the merge cuts outputs as the unsplit job does")
    func budget() throws {
        let budget = 96 << 10
        let unsplit = MergeFixtures.summary(seedStart: 100, runs: 60, budget: budget, outputBytes: 3000)
        #expect(unsplit.truncation.attemptsWithCutOutput > 0, "the unsplit job must cut for this test to say anything")
        let shards = [(100 as UInt64, 20), (120, 20), (140, 20)].map {
            MergeFixtures.summary(seedStart: $0.0, runs: $0.1, budget: budget, outputBytes: 3000)
        }
        #expect(shards.allSatisfy { $0.truncation.attemptsWithCutOutput == 0 })
        let merged = try SummaryMerger.merge(shards)
        #expect(merged.truncation.withinBudget && merged.truncation.jsonBytes <= budget)
        #expect(
            String(decoding: merged.encodedJSON(), as: UTF8.self)
                == String(decoding: unsplit.encodedJSON(), as: UTF8.self))
    }

    @Test("a classification phase is carried over from the shards: kinds from the lowest seeds, runs summed")
    func classification() throws {
        func phase(_ kind: TestClassification.Kind, polluter: String?, runs: Int) -> ClassificationReport {
            ClassificationReport(
                tests: [
                    "tests.test_calc::test_add": TestClassification(
                        kind: kind, reason: "it passed alone 3 of 3 times", polluter: polluter, aloneRuns: 3,
                        aloneFailures: 0, replay: "pytest tests/test_calc.py::test_add", runs: runs)
                ], runs: runs, skippedTests: 1, note: "Bounds: 3 runs alone.", seconds: 2)
        }
        let a = MergeFixtures.summary(
            seedStart: 100, runs: 10, classification: phase(.victim, polluter: "tests.test_calc::test_sub", runs: 7))
        let b = MergeFixtures.summary(seedStart: 110, runs: 10, classification: phase(.nod, polluter: nil, runs: 5))
        #expect(try SummaryMerger.merge([a]).encodedJSON() == a.encodedJSON(), "one phase carries over as it was")
        let merged = try SummaryMerger.merge([b, a])
        #expect(merged.classification?.runs == 12 && merged.classification?.testsSkipped == 2)
        #expect(merged.classification?.note.hasPrefix("Each of 2 shards classified") == true)
        let entry = try #require(merged.tests.first { $0.name == "tests.test_calc::test_add" })
        #expect(entry.kind == .victim && entry.polluter == "tests.test_calc::test_sub")
        #expect(entry.rateAlone == a.tests.first { $0.name == entry.name }?.rateAlone)
        #expect(entry.failures == 3, "seeds 100, 105 and 115 (110 is a harness failure): the merged job's counts")
    }

    @Test("overlapping seed ranges are refused, naming the overlap")
    func overlap() {
        let error = MergeFixtures.refusal([
            MergeFixtures.summary(seedStart: 100, runs: 10), MergeFixtures.summary(seedStart: 105, runs: 10),
        ])
        #expect(error?.code == .overlappingSeeds)
        #expect(error?.message.contains("seeds 105–109 are in both") == true, "\(String(describing: error))")
        let same = MergeFixtures.summary(seedStart: 100, runs: 4)
        #expect(MergeFixtures.refusal([same, same])?.code == .overlappingSeeds)
    }

    @Test("a different commit or command is refused, naming the field and both values")
    func differentJob() {
        let commit = MergeFixtures.refusal([
            MergeFixtures.summary(seedStart: 100, runs: 5),
            MergeFixtures.summary(seedStart: 105, runs: 5, commit: "feed"),
        ])
        #expect(commit?.code == .differentJob)
        #expect(commit?.field == "commit")
        #expect(
            commit?.message.contains(#""0123456789abcdef""#) == true && commit?.message.contains(#""feed""#) == true)
        let command = MergeFixtures.refusal([
            MergeFixtures.summary(seedStart: 100, runs: 5),
            MergeFixtures.summary(seedStart: 105, runs: 5, command: "python3 -m pytest -x"),
        ])
        #expect(command?.field == "test_command")
        #expect(command?.message.contains("python3 -m pytest -x") == true)
    }

    @Test("no summary, and a summary without the shard record, are refused")
    func missingRecord() {
        #expect(MergeFixtures.refusal([])?.code == .noSummaries)
        var old = MergeFixtures.summary(seedStart: 100, runs: 3)
        old.shard = nil
        let error = MergeFixtures.refusal([old, MergeFixtures.summary(seedStart: 103, runs: 3)])
        #expect(error?.code == .noRecord)
        #expect(error?.message.contains("summary 1 has no `shard` record") == true)
    }

    @Test("the shard record stays small: bytes per attempt over 1000 runs")
    func recordSize() throws {
        let summary = MergeFixtures.summary(seedStart: 100, runs: 1000)
        let shard = try #require(summary.shard)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let bytes = try encoder.encode(shard).count
        let rows = try encoder.encode(shard.attempts).count
        print(
            "[flakebox tests] shard record: \(bytes) bytes for 1000 attempts (\(bytes / 1000) per attempt, rows \(rows / 1000))"
        )
        #expect(bytes < 64_000)
        #expect(summary.truncation.withinBudget)
    }
}
