/// A job's runs cut into disjoint seed ranges, one per shard: as even as can be (sizes differ by
/// at most one, the larger first), in seed order, together exactly the job's seeds. Merging the
/// shards' summaries (`SummaryMerger`) gives the job's.
public struct ShardPlan: Sendable, Equatable {
    /// One shard: seeds `seedStart ..< seedStart + runs`.
    public struct Range: Sendable, Equatable, CustomStringConvertible {
        public var seedStart: UInt64
        public var runs: Int

        public init(seedStart: UInt64, runs: Int) {
            self.seedStart = seedStart
            self.runs = runs
        }

        public var description: String { "seeds \(seedStart)–\(seedStart + UInt64(runs) - 1)" }
    }

    public var ranges: [Range]

    /// - Parameters:
    ///   - shards: how many pieces; more than `runs` gives `runs` pieces of one run (a shard
    ///     never has none).
    /// - Precondition: `runs` ≥ 1 and `shards` ≥ 1 (the caller validates them).
    public init(runs: Int, seedStart: UInt64, shards: Int) {
        precondition(runs >= 1 && shards >= 1, "a plan needs a run and a shard")
        let count = min(shards, runs)
        var ranges: [Range] = []
        var next = seedStart
        for index in 0..<count {
            let size = runs / count + (index < runs % count ? 1 : 0)
            ranges.append(Range(seedStart: next, runs: size))
            next += UInt64(size)
        }
        self.ranges = ranges
    }
}
