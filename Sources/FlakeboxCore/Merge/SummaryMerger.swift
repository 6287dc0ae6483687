import FlakeboxSandbox

/// Merges the summaries of shards of one job (disjoint seed ranges of the same repository
/// commit, command and policy) into the summary the unsplit job would have given.
///
/// Everything is recomputed from the shards' `shard` records and `results`, by the same code
/// that summarizes a job (`SummaryContext`, `Summarizer`): counts, rates, interval, verdict,
/// advice, the per-test table, signatures clustered over every attempt, failing seeds, the
/// replay line, durations, and results fitted to the budget. An attempt is numbered by its
/// seed's place in the merged range (`seed − lowest seed_start`), as the unsplit job numbers it.
///
/// What is not recomputed: `timings` take each field's maximum over the shards (shards run side
/// by side, so the slowest one is what the user waited for; `checkout_cached` only when every
/// shard's was); `isolation`, `setup`, `stress`, `memory_budget`, `commit` and the version come
/// from the shard with the lowest seeds; a classification phase is carried over, not recomputed
/// (each shard classified the tests that failed in it, within its own bounds: each test's kind
/// comes from the lowest-seed shard that classified it, runs are summed). Outputs are those the
/// shards kept: exact when no shard had to cut an output the merged summary keeps.
public enum SummaryMerger {
    public static func merge(_ summaries: [JobSummary]) throws(MergeError) -> JobSummary {
        guard !summaries.isEmpty else { throw MergeError(.noSummaries, "nothing to merge: give at least one summary") }
        var shards: [(index: Int, summary: JobSummary, shard: JobSummary.Shard)] = []
        for (index, summary) in summaries.enumerated() {
            guard let shard = summary.shard else {
                throw MergeError(
                    .noRecord,
                    "summary \(index + 1) has no `shard` record (made by flakebox \(summary.flakeboxVersion), before "
                        + "summaries could be merged): run that shard again with this version")
            }
            guard shard.format == JobSummary.Shard.currentFormat else {
                throw MergeError(
                    .noRecord,
                    "summary \(index + 1)'s shard record has format \(shard.format); this flakebox merges format "
                        + "\(JobSummary.Shard.currentFormat)")
            }
            shards.append((index, summary, shard))
        }
        try checkSameJob(shards.map { ($0.index, $0.shard) })
        if shards[0].shard.identity["interference"] == "true" {
            throw MergeError(
                .unmergeable,
                "interference mode's shared runs cannot be merged: run the job unsplit, or without \"interference\"")
        }
        // By seed range: attempts are numbered, and lists ordered, as the unsplit job's.
        shards.sort { ($0.shard.seedStart, $0.index) < ($1.shard.seedStart, $1.index) }
        try checkDisjoint(shards.map { ($0.index, $0.shard) })

        let base = shards[0].shard.seedStart
        var joined = JoinedShards(base: base)
        for (index, summary, shard) in shards {
            try joined.add(shard: shard, summary: summary, number: index + 1)
        }
        return Summarizer.summarize(try joined.context(first: shards[0].summary))
    }

    /// Every shard's identity equals the first's; else the first field (by name) that differs.
    static func checkSameJob(_ shards: [(index: Int, shard: JobSummary.Shard)]) throws(MergeError) {
        let first = shards[0]
        for other in shards.dropFirst() {
            let fields = Set(first.shard.identity.keys).union(other.shard.identity.keys).sorted()
            for field in fields where first.shard.identity[field] != other.shard.identity[field] {
                let a = first.shard.identity[field].map { "\"\($0)\"" } ?? "(none)"
                let b = other.shard.identity[field].map { "\"\($0)\"" } ?? "(none)"
                throw MergeError(
                    .differentJob,
                    "summaries \(first.index + 1) and \(other.index + 1) are not shards of one job: \(field) differs "
                        + "(\(a) in summary \(first.index + 1), \(b) in summary \(other.index + 1))",
                    field: field)
            }
        }
    }

    /// Seed ranges (sorted by start) share no seed.
    static func checkDisjoint(_ shards: [(index: Int, shard: JobSummary.Shard)]) throws(MergeError) {
        var furthest: (index: Int, end: UInt64)?
        for (index, shard) in shards {
            let end = shard.seedStart + UInt64(max(shard.runs, 0))
            if let previous = furthest, shard.seedStart < previous.end, shard.runs > 0 {
                let overlapEnd = min(previous.end, end)
                let other = shards.first { $0.index == previous.index }!.shard
                throw MergeError(
                    .overlappingSeeds,
                    "the seed ranges of summaries \(previous.index + 1) (\(range(other))) and \(index + 1) "
                        + "(\(range(shard))) overlap: seeds \(shard.seedStart)–\(overlapEnd - 1) are in both")
            }
            if shard.runs > 0, end > (furthest?.end ?? 0) { furthest = (index, end) }
        }
    }

    static func range(_ shard: JobSummary.Shard) -> String {
        shard.runs > 0 ? "seeds \(shard.seedStart)–\(shard.seedStart + UInt64(shard.runs) - 1)" : "no seeds"
    }
}
