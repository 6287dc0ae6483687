extension JobSummary {
    /// What the runs say about the test.
    public enum Verdict: String, Sendable, Equatable, Codable, CaseIterable {
        /// Some attempts failed, some passed.
        case flaky
        /// Every attempt with a test outcome failed: a consistent failure, not a flake.
        case alwaysFails = "always_fails"
        /// Every attempt with a test outcome passed.
        case noFailureSeen = "no_failure_seen"
        /// No attempt produced a test outcome, or sandbox errors outnumber the attempts that did.
        case harnessError = "harness_error"

        /// The verdict for these counts (`testOutcomes` = passes + failures).
        public static func decide(failures: Int, testOutcomes: Int, sandboxErrors: Int) -> Verdict {
            if testOutcomes == 0 || sandboxErrors > testOutcomes { return .harnessError }
            if failures == 0 { return .noFailureSeen }
            if failures == testOutcomes { return .alwaysFails }
            return .flaky
        }
    }
}
