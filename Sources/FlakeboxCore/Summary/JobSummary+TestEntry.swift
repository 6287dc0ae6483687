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
        }
    }
}
