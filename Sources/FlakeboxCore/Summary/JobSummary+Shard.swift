import FlakeboxSandbox

extension JobSummary {
    /// What merging summaries needs, never cut by the size budget: the job's identity, the seed
    /// range, one compact row per attempt, the failure signatures' lines, per-test counts and
    /// what the seed reached. `results` and the lists are lossy (output cut, lists capped,
    /// signatures clustered); this is not, so `SummaryMerger` gives the summary one unsplit job
    /// would have given. A summary's own statistics are computed from it too, so the two paths
    /// cannot drift apart.
    public struct Shard: Sendable, Equatable, Codable {
        /// Bumped when the record changes meaning; `SummaryMerger` refuses another.
        public static let currentFormat = 1

        public var format: Int
        /// Every job field that changes results, as text (absent fields left out): summaries
        /// merge only when these are equal. The environment is a digest, not its values.
        public var identity: [String: String]
        /// The job's first seed and the runs it asked for: seeds `seedStart ..< seedStart + runs`.
        public var seedStart: UInt64
        public var runs: Int
        /// `SummaryInput.replayTemplate`: the replay line of the merged summary is made from it.
        public var replayTemplate: String
        /// The attempts' limits the advice and stress mode explain failures with.
        public var memoryLimitBytes: UInt64?
        public var cpuLimit: Double?
        /// One per attempt started, by attempt.
        public var attempts: [Row]
        /// Each attempt's wall-clock seconds, in the order of `attempts` (apart from the rows, so
        /// that what carries time is under a key of its own).
        public var durationsSeconds: [Double]
        /// Distinct lines of the failing attempts' signatures (each signature once, lines shared).
        public var signatureLines: [String]
        /// Each signature as indices into `signatureLines` (the status line first).
        public var signatures: [[Int]]
        /// Per test id from the JUnit reports: counts that add up across shards.
        public var tests: [String: TestTally]
        public var reach: Reach

        enum CodingKeys: String, CodingKey {
            case format, identity, runs, attempts, signatures, tests, reach
            case seedStart = "seed_start"
            case replayTemplate = "replay_template"
            case memoryLimitBytes = "memory_limit_bytes"
            case cpuLimit = "cpu_limit"
            case signatureLines = "signature_lines"
            case durationsSeconds = "durations_s"
        }

        /// One attempt, as a JSON array `[attempt, seed, status, exit_code, signature, junit]`
        /// (`signature` an index into `signatures` or null; `junit` 1 when a JUnit report parsed).
        public struct Row: Sendable, Equatable, Codable {
            public var attempt: Int
            public var seed: UInt64
            public var status: AttemptStatus
            /// As `results` writes it (`JobSummary.Attempt.exitCode(for:)`).
            public var exitCode: Int32?
            public var signature: Int?
            public var junit: Bool

            public init(from decoder: any Decoder) throws {
                var row = try decoder.unkeyedContainer()
                attempt = try row.decode(Int.self)
                seed = try row.decode(UInt64.self)
                status = try row.decode(AttemptStatus.self)
                exitCode = try row.decodeIfPresent(Int32.self)
                signature = try row.decodeIfPresent(Int.self)
                junit = try row.decode(Int.self) != 0
            }

            public func encode(to encoder: any Encoder) throws {
                var row = encoder.unkeyedContainer()
                try row.encode(attempt)
                try row.encode(seed)
                try row.encode(status)
                try row.encode(exitCode)
                try row.encode(signature)
                try row.encode(junit ? 1 : 0)
            }

            init(
                attempt: Int, seed: UInt64, status: AttemptStatus, exitCode: Int32?, signature: Int?, junit: Bool
            ) {
                self.attempt = attempt
                self.seed = seed
                self.status = status
                self.exitCode = exitCode
                self.signature = signature
                self.junit = junit
            }
        }

        /// One test's results over the shard's attempts (see `TestResultAggregator.Stats`).
        public struct TestTally: Sendable, Equatable, Codable {
            public var runs: Int
            public var failures: Int
            public var errors: Int
            public var skips: Int
            /// Ascending.
            public var failingAttempts: [Int]
            /// The first failure's message (normalized, short).
            public var message: String?

            enum CodingKeys: String, CodingKey {
                case runs, failures, errors, skips, message
                case failingAttempts = "failing_attempts"
            }
        }

        /// What the runner plugin reported over the attempts with a test outcome (sets and counts
        /// that merge by union and sum).
        public struct Reach: Sendable, Equatable, Codable {
            public var attempts: Int
            public var pluginActive: Int
            public var reseededBy: [String]
            public var generators: [String]
            public var shuffledBy: [String]
            public var jestVersions: [String]

            enum CodingKeys: String, CodingKey {
                case attempts, generators
                case pluginActive = "plugin_active"
                case reseededBy = "reseeded_by"
                case shuffledBy = "shuffled_by"
                case jestVersions = "jest_versions"
            }
        }
    }
}
