extension JobSummary {
    /// How the summary was fitted into its size budget.
    public struct Truncation: Sendable, Equatable, Codable {
        /// `summary_budget_bytes`.
        public var budgetBytes: Int
        /// The size of the encoded summary, this number included.
        public var jsonBytes: Int
        /// `jsonBytes ≤ budgetBytes`. False only when the budget is smaller than the summary
        /// without any output and with every list at its shortest (`results` is never cut).
        public var withinBudget: Bool
        /// Raw output bytes (stdout and stderr together) a failing or harness-failed attempt
        /// could keep; nil when nothing had to be cut.
        public var outputBytesPerFailingAttempt: Int?
        /// The same for passing and cancelled attempts.
        public var outputBytesPerPassingAttempt: Int?
        /// Attempts whose captured output was cut to fit.
        public var attemptsWithCutOutput: Int
        /// Signatures, tests, failed tests per attempt, failing seeds or the setup log were
        /// shortened below their usual caps.
        public var listsShortened: Bool
        public var sentence: String

        enum CodingKeys: String, CodingKey {
            case budgetBytes = "budget_bytes"
            case jsonBytes = "json_bytes"
            case withinBudget = "within_budget"
            case outputBytesPerFailingAttempt = "output_bytes_per_failing_attempt"
            case outputBytesPerPassingAttempt = "output_bytes_per_passing_attempt"
            case attemptsWithCutOutput = "attempts_with_cut_output"
            case listsShortened = "lists_shortened"
            case sentence
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(budgetBytes, forKey: .budgetBytes)
            try container.encode(jsonBytes, forKey: .jsonBytes)
            try container.encode(withinBudget, forKey: .withinBudget)
            try container.encode(outputBytesPerFailingAttempt, forKey: .outputBytesPerFailingAttempt)
            try container.encode(outputBytesPerPassingAttempt, forKey: .outputBytesPerPassingAttempt)
            try container.encode(attemptsWithCutOutput, forKey: .attemptsWithCutOutput)
            try container.encode(listsShortened, forKey: .listsShortened)
            try container.encode(sentence, forKey: .sentence)
        }
    }
}
