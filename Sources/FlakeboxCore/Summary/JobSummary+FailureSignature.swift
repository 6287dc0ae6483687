extension JobSummary {
    /// Attempts that failed the same way (see `FailureSignatureClusterer`).
    public struct FailureSignature: Sendable, Equatable, Codable {
        /// The status line and the last normalized output lines (≤ 2 KiB).
        public var signature: String
        public var count: Int
        /// The first 20, ascending.
        public var attempts: [Int]
        public var exampleAttempt: Int
        /// Status raw value → attempts.
        public var statuses: [String: Int]

        enum CodingKeys: String, CodingKey {
            case signature
            case count
            case attempts
            case exampleAttempt = "example_attempt"
            case statuses
        }
    }
}
