import FlakeboxCore
import FlakeboxSandbox
import Foundation
import Testing

@Suite("Summary: RunPod keys, counting rules, verdicts")
struct SummaryShapeTests {
    /// Passed, failed (exit 3), SIGSEGV, timeout, passed, sandbox error, cancelled; given out of order.
    static let mixed: [AttemptRecord] = [
        SummaryFixtures.record(4, .passed, seconds: 2),
        SummaryFixtures.record(1, .failed, exitCode: 3, stderr: "AssertionError: boom", seconds: 4),
        SummaryFixtures.record(6, .cancelled, seconds: 100),
        SummaryFixtures.record(0, .passed, seconds: 1),
        SummaryFixtures.record(3, .timeout, seconds: 30),
        SummaryFixtures.record(2, .signaled, signal: 11, stderr: "Segmentation fault", seconds: 3),
        SummaryFixtures.record(5, .sandboxError, seconds: 0.1),
    ]

    @Test func seedKeysHaveTheRightValuesForAMixedJob() throws {
        let summary = SummaryFixtures.summarize(Self.mixed)
        let object = try SummaryFixtures.object(summary)
        #expect(object["total_runs"] as? Int == 7)
        #expect(object["parallelism"] as? Int == 2)
        #expect(object["failures"] as? Int == 3)
        #expect(object["test_outcomes"] as? Int == 5)
        #expect(object["repro_rate"] as? Double == 0.6)
        let results = try SummaryFixtures.results(object)
        try #require(results.count == 7)
        #expect(results.map { $0["attempt"] as? Int } == [0, 1, 2, 3, 4, 5, 6])
        #expect(results.map { $0["seed"] as? Int } == [1000, 1001, 1002, 1003, 1004, 1005, 1006])
        #expect(
            results.map { $0["status"] as? String } == [
                "passed", "failed", "signaled", "timeout", "passed", "sandbox_error", "cancelled",
            ])
        for result in results {
            #expect(SummaryFixtures.resultKeys.isSubset(of: Set(result.keys)), "\(result.keys.sorted())")
        }
        #expect(results[1]["stderr"] as? String == "AssertionError: boom")
        #expect(results[1]["duration_s"] as? Double == 4)
        #expect(results[1]["cpu_s"] as? Double == 2)
        #expect(results[1]["peak_memory_bytes"] as? Int == 1 << 20)
        #expect(results[1]["stdout_dropped_bytes"] as? Int == 0)
    }

    @Test(arguments: [
        (AttemptStatus.failed, Int32?(3), Int32?.none, Int32?(3)),
        (.passed, 0, nil, 0),
        (.signaled, nil, 11, -11),
        (.signaled, nil, nil, -9),
        (.timeout, nil, nil, -9),
        (.timeout, nil, 9, -9),
        (.oom, nil, nil, -9),
        (.outputLimit, nil, 15, -15),
        (.sandboxError, nil, nil, nil),
        (.cancelled, nil, 15, nil),
    ])
    func exitCodeMapping(status: AttemptStatus, exitCode: Int32?, signal: Int32?, expected: Int32?) throws {
        let record = AttemptRecord(
            attempt: 0, seed: 1,
            result: SummaryFixtures.result(status, exitCode: exitCode, signal: signal))
        let result = try #require(
            SummaryFixtures.results(SummaryFixtures.object(SummaryFixtures.summarize([record]))).first)
        #expect(result.keys.contains("exit_code"))
        if let expected {
            #expect(result["exit_code"] as? Int == Int(expected))
        } else {
            #expect(result["exit_code"] is NSNull)
        }
        #expect(JobSummary.Attempt.exitCode(for: record.result) == expected)
    }

    @Test func failuresExcludeSandboxErrorsAndCancelled() throws {
        let records =
            (0..<4).map { SummaryFixtures.record($0, .sandboxError) }
            + (4..<6).map { SummaryFixtures.record($0, .cancelled) }
            + [SummaryFixtures.record(6, .failed), SummaryFixtures.record(7, .passed), SummaryFixtures.record(8, .oom)]
        let summary = SummaryFixtures.summarize(records)
        #expect(summary.totalRuns == 9)
        #expect(summary.failures == 2)
        #expect(summary.sandboxErrors == 4)
        #expect(summary.testOutcomes == 3)
        #expect(abs(summary.reproRate - 2.0 / 3.0) < 1e-6)
        #expect(summary.failingSeeds == [1006, 1008])
        #expect(summary.statusCounts["cancelled"] == 2)
        #expect(Set(summary.statusCounts.keys) == Set(AttemptStatus.allCases.map(\.rawValue)))
        #expect(summary.statusCounts["output_limit"] == 0)
        // Sandbox errors are the majority of the attempts that ran.
        #expect(summary.verdict == .harnessError)
        #expect(summary.advice.contains("harness failed in 4 of 7 attempts"))
        #expect(summary.advice.contains("execve"))
        try #require(summary.results.count == 9)
        let sandboxError = try #require(summary.results[0].sandboxError)
        #expect(sandboxError.stage == "execve")
        #expect(sandboxError.errno == 2)
        #expect(sandboxError.message.contains("No such file"))
    }

    @Test(arguments: [
        ([AttemptStatus.passed, .failed, .passed, .timeout], JobSummary.Verdict.flaky),
        ([.failed, .signaled, .timeout, .sandboxError, .cancelled], .alwaysFails),
        ([.passed, .passed, .passed, .sandboxError, .cancelled], .noFailureSeen),
        ([.sandboxError, .sandboxError], .harnessError),
        ([.cancelled], .harnessError),
        ([], .harnessError),
        ([.sandboxError, .sandboxError, .passed, .failed, .sandboxError], .harnessError),
        ([.sandboxError, .passed, .failed], .flaky),
    ])
    func verdicts(statuses: [AttemptStatus], expected: JobSummary.Verdict) throws {
        let records = statuses.enumerated().map { SummaryFixtures.record($0.offset, $0.element) }
        let summary = SummaryFixtures.summarize(records)
        #expect(summary.verdict == expected)
        #expect(try SummaryFixtures.object(summary)["verdict"] as? String == expected.rawValue)
        #expect(!summary.advice.isEmpty)
    }

    @Test func flakyAdviceReplaysTheFirstFailingSeed() {
        let records = [
            SummaryFixtures.record(0, .passed), SummaryFixtures.record(1, .passed),
            SummaryFixtures.record(2, .failed), SummaryFixtures.record(3, .failed),
        ]
        let summary = Summarizer.summarize(
            SummaryFixtures.input(records, replayTemplate: "flakebox run --seed-start {seed} --runs 1 # {attempt}"))
        #expect(summary.replay == "flakebox run --seed-start 1002 --runs 1 # 2")
        #expect(summary.advice.hasPrefix("Flaky: 2 of 4 runs failed: 50%"))
        #expect(summary.advice.contains("Replay seed 1002 with `flakebox run --seed-start 1002 --runs 1 # 2`"))
    }

    @Test func defaultReplayRunsTheTestCommandWithItsSeed() {
        let summary = SummaryFixtures.summarize([
            SummaryFixtures.record(0, .passed), SummaryFixtures.record(7, .failed),
        ])
        #expect(summary.replay == "TEST_SEED=1007 ATTEMPT=7 /bin/sh -c 'python3 -m pytest -q'")
        #expect(
            SummaryInput.defaultReplayTemplate(testCommand: "echo 'a b'")
                == "TEST_SEED={seed} ATTEMPT={attempt} /bin/sh -c 'echo '\\''a b'\\'''")
        #expect(SummaryFixtures.summarize([SummaryFixtures.record(0, .passed)]).replay == nil)
    }

    @Test func optionalKeysAppearOnlyWhenRelevantAndAbsentValuesAreNull() throws {
        let object = try SummaryFixtures.object(SummaryFixtures.summarize(Self.mixed))
        let results = try SummaryFixtures.results(object)
        try #require(results.count == 7)
        #expect(results[2]["signal"] as? Int == 11)
        #expect(results[1]["signal"] == nil)
        #expect(results[1]["sandbox_error"] == nil)
        let sandboxError = try #require(results[5]["sandbox_error"] as? [String: Any])
        #expect(Set(sandboxError.keys) == ["stage", "errno", "message"])
        #expect(results[0]["failed_tests"] == nil)
        #expect(object["setup"] is NSNull)
        #expect(object["incomplete_reason"] is NSNull)
        #expect(object["commit"] as? String == "0123456789abcdef")
        #expect(object["flakebox_version"] as? String == "9.9.9")
        #expect(object["complete"] as? Bool == true)
        let noFailures = try SummaryFixtures.object(SummaryFixtures.summarize([SummaryFixtures.record(0, .passed)]))
        #expect(noFailures["replay"] is NSNull)
        let isolation = try #require(object["isolation"] as? [String: Any])
        #expect(isolation["tier"] as? String == "reduced")
        #expect(isolation["missing"] as? [String] == ["cgroups"])
        #expect((isolation["layers"] as? [[String: Any]])?.count == 2)
        let timings = try #require(object["timings"] as? [String: Any])
        #expect(timings.count == 5 && timings["checkout_cached"] as? Bool == false)
        #expect(
            timings.compactMapValues { $0 as? Double }.filter { $0.key != "checkout_cached" } == [
                "clone_s": 1.5, "setup_s": 2, "runs_s": 10, "total_s": 13.5,
            ])
    }

    @Test func everyDocumentedTopLevelKeyIsPresent() throws {
        let object = try SummaryFixtures.object(SummaryFixtures.summarize(Self.mixed))
        let expected: Set<String> = [
            "total_runs", "parallelism", "failures", "repro_rate", "results", "complete", "incomplete_reason",
            "status_counts", "sandbox_errors", "failure_rate", "verdict", "advice", "durations_s",
            "failure_signatures", "tests", "tests_total", "failing_seeds", "replay", "isolation", "timings", "setup",
            "commit", "flakebox_version", "truncation",
        ]
        #expect(expected.isSubset(of: Set(object.keys)), "missing: \(expected.subtracting(object.keys).sorted())")
    }

    @Test func durationsAreOverAttemptsWithATestOutcome() throws {
        let summary = SummaryFixtures.summarize(Self.mixed)
        // 1, 2, 3, 4, 30 (cancelled 100 and sandbox error 0.1 left out).
        let durations = try #require(summary.durations)
        #expect(durations.p50 == 3)
        #expect(durations.p95 == 30)
        #expect(durations.max == 30)
        #expect(durations.mean == 8)
        let none = SummaryFixtures.summarize([SummaryFixtures.record(0, .sandboxError)])
        #expect(none.durations == nil)
        #expect(try SummaryFixtures.object(none)["durations_s"] is NSNull)
    }

    @Test func incompleteJobsSaySoAndTheAdviceUsesTheReason() {
        let records = (0..<37).map { SummaryFixtures.record($0, .passed) }
        let summary = Summarizer.summarize(
            SummaryFixtures.input(
                records, runs: 200, complete: false, incompleteReason: "deadline_s reached after 37 of 200 runs"))
        #expect(summary.complete == false)
        #expect(summary.runsRequested == 200)
        #expect(summary.incompleteReason == "deadline_s reached after 37 of 200 runs")
        #expect(summary.verdict == .noFailureSeen)
        #expect(summary.advice.contains("stopped early (deadline_s reached after 37 of 200 runs)"))
    }

    @Test func failingSeedsAreSortedUniqueAndCappedAndReplayTakesTheSmallest() {
        let records = (0..<300).map { attempt in
            AttemptRecord(
                attempt: attempt, seed: UInt64(10_000 - attempt),
                result: SummaryFixtures.result(attempt % 2 == 0 ? .failed : .passed))
        }
        let summary = SummaryFixtures.summarize(records)
        #expect(summary.failures == 150)
        #expect(summary.failingSeeds.count == 100)
        #expect(summary.failingSeeds == summary.failingSeeds.sorted())
        #expect(summary.failingSeeds.first == 10_000 - 298)
        #expect(Set(summary.failingSeeds).count == 100)
        #expect(summary.replay == "TEST_SEED=9702 ATTEMPT=298 /bin/sh -c 'python3 -m pytest -q'")
    }

    @Test func theSetupLogKeepsItsEnd() throws {
        var input = SummaryFixtures.input([SummaryFixtures.record(0, .passed)])
        let log = (0..<2000).map { "installing package-\($0)" }.joined(separator: "\n")
        input.setup = SetupReport(command: "pip install -r requirements.txt", durationSeconds: 42.12345, logTail: log)
        let setup = try #require(Summarizer.summarize(input).setup)
        #expect(setup.command == "pip install -r requirements.txt")
        #expect(setup.durationSeconds == 42.123)
        #expect(setup.logTail.utf8.count <= 8192 && setup.logTail.utf8.count > 8000)
        #expect(log.hasSuffix(setup.logTail))
    }

    @Test func encodingIsStableSortedAndRoundTrips() throws {
        let summary = SummaryFixtures.summarize(Self.mixed)
        let data = summary.encodedJSON()
        #expect(data == SummaryFixtures.summarize(Self.mixed.reversed()).encodedJSON())
        #expect(data.count == summary.truncation.jsonBytes)
        let text = try #require(String(data: data, encoding: .utf8))
        #expect(text.hasPrefix("{\"advice\":"))
        #expect(text.hasSuffix("\"verdict\":\"flaky\",\"working_tree\":null}"))
        #expect(try JSONDecoder().decode(JobSummary.self, from: data) == summary)
    }
}
