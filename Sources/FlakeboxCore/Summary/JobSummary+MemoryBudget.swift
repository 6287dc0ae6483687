extension JobSummary {
    /// Present when the machine's free memory lowered the job's parallelism: how many attempts
    /// were asked at once, how many ran, and the budget their parent cgroup held them to.
    public struct MemoryBudget: Sendable, Equatable, Codable {
        public var requestedParallelism: Int
        public var parallelism: Int
        public var budgetBytes: UInt64?
        public var perAttemptBytes: UInt64?
        public var availableBytes: UInt64?
        public var sentence: String

        enum CodingKeys: String, CodingKey {
            case sentence, parallelism
            case requestedParallelism = "requested_parallelism"
            case budgetBytes = "budget_bytes"
            case perAttemptBytes = "per_attempt_bytes"
            case availableBytes = "available_bytes"
        }

        init(_ admission: MemoryAdmission) {
            requestedParallelism = admission.requestedParallelism
            parallelism = admission.parallelism
            budgetBytes = admission.budgetBytes
            perAttemptBytes = admission.perAttemptBytes
            availableBytes = admission.availableBytes
            sentence = admission.note ?? ""
        }
    }
}
