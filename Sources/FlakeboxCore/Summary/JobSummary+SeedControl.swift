import FlakeboxSandbox

extension JobSummary {
    /// Whether the seed controls a flaky job's failure: its first failing seed replayed in a fresh
    /// sandbox, the same attempt number, command, environment and order.
    public struct SeedControl: Sendable, Equatable, Codable {
        public var seed: UInt64
        public var attempt: Int
        public var replays: Int
        /// Every replay failed again: the seed reproduces the failure.
        public var failedAgain: Bool
        /// The replays' statuses, in order.
        public var statuses: [String]
        public var sentence: String

        enum CodingKeys: String, CodingKey {
            case seed, attempt, replays, statuses, sentence
            case failedAgain = "failed_again"
        }

        /// Replays suggested to measure how often the seed fails.
        static let measuringRuns = 20

        /// - Parameter replay: the command that replays the seed (the summary's `replay`).
        init(_ check: SeedReplay, replay: String?) {
            seed = check.seed
            attempt = check.attempt
            replays = check.statuses.count
            failedAgain = !check.statuses.isEmpty && check.failures == check.statuses.count
            statuses = check.statuses.map(\.rawValue)
            if failedAgain {
                sentence =
                    "The seed controls this failure: seed \(seed) failed again when replayed"
                    + (replay.map { "; replay it with `\($0)`." } ?? ".")
            } else {
                let again =
                    replay.map { Self.measuring($0) }.map {
                        "run `\($0)` to measure how often it fails at that seed"
                    } ?? "replay it several times to measure how often it fails at that seed"
                sentence =
                    "Replaying seed \(seed) \(check.failures == 0 ? "passed" : "failed \(check.failures) of \(replays) times"): "
                    + "the seed does not control this failure (timing, order or outside state do); \(again), "
                    + "and try \"shuffle\" or more parallelism to make it fail more often."
            }
        }

        /// `flakebox replay …` with `--runs`; another replay command as it is.
        static func measuring(_ replay: String) -> String {
            let prefix = "flakebox replay "
            guard replay.hasPrefix(prefix) else { return replay }
            return prefix + "--runs \(measuringRuns) " + replay.dropFirst(prefix.count)
        }
    }
}
