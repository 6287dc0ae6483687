extension JobSummary {
    /// A test that failed at least once, from the attempts' JUnit reports.
    public struct TestEntry: Sendable, Equatable, Codable {
        /// `classname::name`, else `file::name`, else `name` (see `JUnitReport.TestCase.id`).
        public var name: String
        /// Attempts that reported it (skipped included).
        public var runs: Int
        /// Attempts where it failed or errored.
        public var failures: Int
        /// Of `failures`, those where it errored.
        public var errors: Int
        public var skips: Int
        /// `failures / (runs − skips)`.
        public var rate: Double
        /// It failed in some attempts and passed in others.
        public var flaky: Bool
        /// It never passed.
        public var alwaysFails: Bool
        /// The first failure's message, normalized, ≤ 200 bytes.
        public var exampleMessage: String?
        /// The first 20, ascending.
        public var failingAttempts: [Int]
        /// From the classification phase (absent when it did not look at this test): `NOD`,
        /// `OD-victim`, `OD-brittle` or `unknown`.
        public var kind: TestClassification.Kind?
        /// Why that kind, in words (or why none could be told).
        public var kindReason: String?
        /// For an `OD-victim`: the test after which it fails, when the search found it.
        public var polluter: String?
        /// For an `OD-brittle` test: the test after which it passes, when the search found it.
        public var stateSetter: String?
        /// Its failure rate run alone with fresh seeds, with the Wilson interval.
        public var rateAlone: FailureRate?
        /// A command that reproduces this test's failure (alone, or polluter then victim).
        public var replay: String?
        /// Runs the classification phase made for this test.
        public var classificationRuns: Int?

        enum CodingKeys: String, CodingKey {
            case name
            case runs
            case failures
            case errors
            case skips
            case rate
            case flaky
            case alwaysFails = "always_fails"
            case exampleMessage = "example_message"
            case failingAttempts = "failing_attempts"
            case kind
            case kindReason = "kind_reason"
            case polluter
            case stateSetter = "state_setter"
            case rateAlone = "rate_alone"
            case replay
            case classificationRuns = "classification_runs"
        }

        /// Adds what the classification phase found.
        mutating func classify(_ classification: TestClassification) {
            kind = classification.kind
            kindReason = classification.reason
            polluter = classification.polluter
            stateSetter = classification.stateSetter
            rateAlone =
                classification.aloneRuns > 0
                ? FailureRate(failures: classification.aloneFailures, trials: classification.aloneRuns) : nil
            replay = classification.replay
            classificationRuns = classification.runs
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(runs, forKey: .runs)
            try container.encode(failures, forKey: .failures)
            try container.encode(errors, forKey: .errors)
            try container.encode(skips, forKey: .skips)
            try container.encode(rate, forKey: .rate)
            try container.encode(flaky, forKey: .flaky)
            try container.encode(alwaysFails, forKey: .alwaysFails)
            try container.encode(exampleMessage, forKey: .exampleMessage)
            try container.encode(failingAttempts, forKey: .failingAttempts)
            // Only when the classification phase looked at the test: a job without it is unchanged.
            if let kind {
                try container.encode(kind, forKey: .kind)
                try container.encode(kindReason, forKey: .kindReason)
                try container.encode(polluter, forKey: .polluter)
                try container.encode(stateSetter, forKey: .stateSetter)
                try container.encode(rateAlone, forKey: .rateAlone)
                try container.encode(replay, forKey: .replay)
                try container.encode(classificationRuns, forKey: .classificationRuns)
            }
        }
    }
}
