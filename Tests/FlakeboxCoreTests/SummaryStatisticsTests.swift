import FlakeboxCore
import FlakeboxSandbox
import Testing

@Suite("Summary: statistics")
struct SummaryStatisticsTests {
    @Test(arguments: [
        (3, 200, 0.005114, 0.043166),
        (0, 10, 0.0, 0.277533),
        (10, 10, 0.722467, 1.0),
        (5, 10, 0.236593, 0.763407),
        (1, 1000, 0.000177, 0.005643),
        (50, 100, 0.403832, 0.596168),
    ])
    func wilsonIntervalMatchesKnownValues(failures: Int, trials: Int, low: Double, high: Double) {
        let interval = SummaryStatistics.wilsonInterval(successes: failures, trials: trials)
        #expect(abs(interval.low - low) < 1e-6, "low \(interval.low)")
        #expect(abs(interval.high - high) < 1e-6, "high \(interval.high)")
    }

    @Test func wilsonIntervalWithoutTrialsIsEverything() {
        let interval = SummaryStatistics.wilsonInterval(successes: 0, trials: 0)
        #expect(interval.low == 0 && interval.high == 1)
    }

    @Test func summaryReportsTheWilsonIntervalForThreeOfTwoHundred() throws {
        let records = (0..<200).map { SummaryFixtures.record($0, $0 % 70 == 5 ? .failed : .passed) }
        let summary = SummaryFixtures.summarize(records)
        #expect(summary.failures == 3)
        #expect(summary.failureRate.estimate == 0.015)
        #expect(abs(summary.failureRate.wilson95Low - 0.0051) < 1e-4)
        #expect(abs(summary.failureRate.wilson95High - 0.0432) < 1e-4)
        #expect(summary.failureRate.upperBound95 == nil)
        let rate = try #require(SummaryFixtures.object(summary)["failure_rate"] as? [String: Any])
        #expect(Set(rate.keys) == ["estimate", "wilson_95_low", "wilson_95_high", "sentence"])
        #expect(summary.failureRate.sentence == "3 of 200 runs failed: 1.5% (95% confidence interval 0.511%–4.32%)")
    }

    @Test func noFailureInOneHundredRunsBoundsTheRateAtThreePercent() throws {
        let summary = SummaryFixtures.summarize((0..<100).map { SummaryFixtures.record($0, .passed) })
        #expect(summary.verdict == .noFailureSeen)
        #expect(summary.failureRate.upperBound95 == 0.03)
        #expect(
            summary.failureRate.sentence == "no failure in 100 runs: the failure rate is below 3% at 95% confidence")
        let rate = try #require(SummaryFixtures.object(summary)["failure_rate"] as? [String: Any])
        #expect(rate["upper_bound_95"] as? Double == 0.03)
        #expect(summary.advice.hasPrefix("No failure in 100 runs: the failure rate is below 3% at 95% confidence."))
        #expect(summary.advice.contains("run 1000 attempts"))
    }

    @Test(arguments: [(0, 1.0), (1, 1.0), (3, 1.0), (100, 0.03), (300, 0.01), (1000, 0.003)])
    func ruleOfThree(trials: Int, bound: Double) {
        #expect(abs(SummaryStatistics.ruleOfThreeUpperBound(trials: trials) - bound) < 1e-12)
    }

    @Test(arguments: [
        (0.0, 15.0), (5.0, 15.0), (30.0, 20.0), (40.0, 20.0), (50.0, 35.0), (60.0, 35.0), (61.0, 40.0), (95.0, 50.0),
        (100.0, 50.0),
    ])
    func nearestRankPercentile(percent: Double, expected: Double) {
        #expect(SummaryStatistics.percentile(percent, of: [35, 20, 50, 40, 15]) == expected)
    }

    @Test func percentileAndMeanOfNothingAreNil() {
        #expect(SummaryStatistics.percentile(50, of: []) == nil)
        #expect(SummaryStatistics.mean([]) == nil)
        #expect(SummaryStatistics.mean([1, 2, 6]) == 3)
    }
}
