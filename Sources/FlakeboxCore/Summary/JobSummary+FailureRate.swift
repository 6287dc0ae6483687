extension JobSummary {
    /// The failure rate over the attempts with a test outcome, with its uncertainty.
    public struct FailureRate: Sendable, Equatable, Codable {
        /// `failures / test_outcomes`.
        public var estimate: Double
        /// The 95% Wilson score interval.
        public var wilson95Low: Double
        public var wilson95High: Double
        /// With no failure seen: `3 / n`, the rule of three (95% one-sided); otherwise absent.
        public var upperBound95: Double?
        /// The same, as a sentence.
        public var sentence: String

        enum CodingKeys: String, CodingKey {
            case estimate
            case wilson95Low = "wilson_95_low"
            case wilson95High = "wilson_95_high"
            case upperBound95 = "upper_bound_95"
            case sentence
        }

        public init(failures: Int, trials: Int) {
            let interval = SummaryStatistics.wilsonInterval(successes: failures, trials: trials)
            estimate = trials > 0 ? SummaryFormat.rate(Double(failures) / Double(trials)) : 0
            wilson95Low = SummaryFormat.rate(interval.low)
            wilson95High = SummaryFormat.rate(interval.high)
            if trials == 0 {
                upperBound95 = nil
                sentence = "no attempt produced a test outcome: nothing is known about the failure rate"
            } else if failures == 0 {
                let bound = SummaryStatistics.ruleOfThreeUpperBound(trials: trials)
                upperBound95 = SummaryFormat.rate(bound)
                sentence =
                    "no failure in \(SummaryFormat.count(trials, "run")): the failure rate is below "
                    + "\(SummaryFormat.percent(bound)) at 95% confidence"
            } else {
                upperBound95 = nil
                sentence =
                    "\(failures) of \(SummaryFormat.count(trials, "run")) failed: "
                    + "\(SummaryFormat.percent(Double(failures) / Double(trials))) "
                    + "(95% confidence interval \(SummaryFormat.percent(interval.low))–"
                    + "\(SummaryFormat.percent(interval.high)))"
            }
        }
    }
}
