/// Why summaries cannot be merged into the summary of one job: they are not shards of the same
/// job, they cover a seed twice, or one predates the record merging needs.
public struct MergeError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public static let noSummaries = Code(name: "no_summaries")
        /// A summary without the `shard` record (made before merging existed), or another format.
        public static let noRecord = Code(name: "no_shard_record")
        /// A job field that changes results differs (`field` names it).
        public static let differentJob = Code(name: "different_job")
        public static let overlappingSeeds = Code(name: "overlapping_seeds")
        public static let duplicateAttempt = Code(name: "duplicate_attempt")
        /// A record that contradicts its own summary (edited or corrupt).
        public static let inconsistent = Code(name: "inconsistent")
        /// A mode whose extra runs cannot be recombined (interference).
        public static let unmergeable = Code(name: "unmergeable")
        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// For `differentJob`: the field that differs.
    public var field: String?

    public init(_ code: Code, _ message: String, field: String? = nil) {
        self.code = code
        self.message = message
        self.field = field
    }

    public var description: String { message }
}
