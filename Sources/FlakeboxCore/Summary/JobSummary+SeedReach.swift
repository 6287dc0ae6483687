extension JobSummary {
    /// What the seed reached in the attempts: the test runner's plugin active or not, the random
    /// number generators it reseeded, the order shuffled or not. When it reached nothing, runs
    /// differed only in variables the test may never read, and "no failure seen" is weak evidence.
    public struct SeedReach: Sendable, Equatable, Codable {
        /// The test runner adapter (`pytest`, `pytest (assumed)`, `go test`, `jest`).
        public var runner: String
        /// The job's `reseed` and `shuffle`.
        public var reseed: Bool
        public var shuffle: Bool
        /// Attempts whose runner plugin (pytest's plugin, the Jest preload) reported back, of `attempts`
        /// (those with a test outcome).
        public var pluginActive: Int
        public var attempts: Int
        /// Who reseeded the generators (`flakebox`, `pytest-randomly`).
        public var reseededBy: [String]
        /// The generators reseeded in any attempt (`random`, `numpy`, `faker`, `factory_boy`).
        public var generators: [String]
        /// Who shuffled the order (`flakebox`, `pytest-randomly`, `go test -shuffle`, `jest --randomize`).
        public var orderShuffledBy: [String]
        public var reachedNothing: Bool
        public var sentence: String

        enum CodingKeys: String, CodingKey {
            case runner, reseed, shuffle, attempts, generators, sentence
            case pluginActive = "plugin_active"
            case reseededBy = "reseeded_by"
            case orderShuffledBy = "order_shuffled_by"
            case reachedNothing = "reached_nothing"
        }

        /// - Parameter reach: what the runner plugin reported over the attempts with a test outcome.
        init(job: JobInput, reach: JobSummary.Shard.Reach) {
            let adapter = TestRunnerDetector.adapter(for: job.testCommand)
            runner = adapter.name
            reseed = job.reseed
            shuffle = job.shuffle
            attempts = reach.attempts
            pluginActive = reach.pluginActive
            reseededBy = reach.reseededBy
            generators = reach.generators
            var shufflers = Set(reach.shuffledBy)
            if adapter is GoTestAdapter && job.shuffle { shufflers.insert("go test -shuffle") }
            orderShuffledBy = shufflers.sorted()
            reachedNothing = generators.isEmpty && orderShuffledBy.isEmpty
            sentence = Self.sentence(
                runner: runner, pluginActive: pluginActive, attempts: attempts, generators: generators,
                reseededBy: reseededBy, shufflers: orderShuffledBy, reseed: reseed, shuffle: shuffle,
                jestVersions: reach.jestVersions)
        }

        static func sentence(
            runner: String, pluginActive: Int, attempts: Int, generators: [String], reseededBy: [String],
            shufflers: [String], reseed: Bool, shuffle: Bool = false, jestVersions: [String] = []
        ) -> String {
            var parts: [String] = []
            let jest = runner == "jest"
            if jest {
                parts.append(
                    pluginActive == 0
                        ? "flakebox's Jest preload never reported (the command did not start Jest, or Node did not load"
                            + " NODE_OPTIONS)"
                        : "the seed reached Jest as --seed in \(pluginActive) of \(SummaryFormat.count(attempts, "attempt"))"
                            + " (jest.getSeed() returns it; Jest does not reseed Math.random)")
                if shuffle && shufflers.isEmpty && !jestVersions.isEmpty {
                    parts.append(
                        "\"shuffle\" was asked but Jest \(jestVersions.joined(separator: ", ")) has no --randomize"
                            + " (Jest 29.4 and later have it)")
                }
            }
            if runner.hasPrefix("pytest") {
                parts.append(
                    pluginActive == 0
                        ? "flakebox's pytest plugin never reported (the command did not run pytest, or pytest failed to start)"
                        : "flakebox's pytest plugin was active in \(pluginActive) of \(SummaryFormat.count(attempts, "attempt"))"
                )
            }
            if !generators.isEmpty {
                parts.append(
                    "the seed reseeded \(generators.joined(separator: ", ")) before every test"
                        + " (by \(reseededBy.joined(separator: ", ")))")
            } else if !reseed && !jest {
                parts.append("reseeding was off (\"reseed\": false)")
            }
            parts.append(
                shufflers.isEmpty
                    ? "the order was not shuffled" : "the order was shuffled by \(shufflers.joined(separator: ", "))")
            var text = parts.joined(separator: "; ")
            text = text.prefix(1).uppercased() + text.dropFirst() + "."
            if generators.isEmpty && shufflers.isEmpty {
                text +=
                    " The seed reached no random number generator and no order: runs differed only in TEST_SEED,"
                    + " ATTEMPT and \(jest ? "jest.getSeed()" : "PYTHONHASHSEED"), which change nothing unless the test"
                    + " reads them."
            }
            return text
        }

        /// Added to the advice when no failure was seen.
        var adviceSentence: String? {
            if reachedNothing {
                return "\"No failure seen\" is weak evidence here: the seed reached no random number generator and "
                    + "did not change the order" + (shuffle ? "" : "; try \"shuffle\": true") + "."
            }
            if orderShuffledBy.isEmpty { return "Try \"shuffle\": true to vary the order of the tests too." }
            return nil
        }
    }
}
