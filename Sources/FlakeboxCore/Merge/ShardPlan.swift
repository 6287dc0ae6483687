import Foundation

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

    /// Each shard's job input: `json` (a job input object) with the shard's `seed_start` and
    /// `runs`, and `ref` set to `commit`, so that every shard runs the one commit; nil when `json`
    /// is not a JSON object.
    public func inputs(json: Data, commit: String) -> [Data]? {
        guard let object = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else { return nil }
        var inputs: [Data] = []
        for range in ranges {
            var part = object
            part["seed_start"] = range.seedStart
            part["runs"] = range.runs
            part["ref"] = commit
            guard let data = try? JSONSerialization.data(withJSONObject: part, options: [.sortedKeys]) else {
                return nil
            }
            inputs.append(data)
        }
        return inputs
    }
}
