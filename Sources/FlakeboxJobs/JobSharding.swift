import FlakeboxCore
import Foundation

/// The flakebox engine's `JobSplitter`: a job of more than `runsPerShard` runs is cut into
/// disjoint seed ranges (`ShardPlan`), every shard pinned to the commit its ref names now, so
/// that a push while the shards run cannot split the job over two commits; the shards'
/// summaries are merged by `SummaryMerger`, the code `flakebox merge` and the RunPod fan-out use.
public struct JobSharding: JobSplitter {
    public var handler: FlakeboxJobHandler.Options
    /// Runs per shard at most; a job of this many runs or fewer runs whole.
    public var runsPerShard: Int

    public init(handler: FlakeboxJobHandler.Options, runsPerShard: Int) {
        precondition(runsPerShard >= 1, "a shard runs at least once")
        self.handler = handler
        self.runsPerShard = runsPerShard
    }

    public func split(_ job: StoredJob) async -> JobSplit {
        let origin: JobInput.Origin = handler.allowLocalRepositories ? .commandLine : .remote
        let input: JobInput
        do {
            input = try JobInput.parse(json: job.input, origin: origin)
        } catch {
            return .refused(.failure(error.description))
        }
        // Interference mode compares runs made alone with runs made together on one machine:
        // shards would not share it.
        guard input.runs > runsPerShard, !input.interference else { return .whole }
        let shards = (input.runs + runsPerShard - 1) / runsPerShard
        let commit: String
        do {
            commit = try await RepositoryFetcher.pinnedRef(
                FetchRequest(
                    repo: input.repo, ref: input.ref, allowLocal: origin == .commandLine,
                    submodules: input.submodules, allowedHosts: handler.runner.allowedHosts))
        } catch {
            let what = input.ref.map { "the ref \(RepositoryURL.quoted($0))" } ?? "the default branch"
            return .refused(
                .exception(
                    type: "<class 'flakebox.\(JobError.Code.fetchFailed.name)'>",
                    message: "cannot resolve \(what) of the repository to a commit: \(error.message)", traceback: ""))
        }
        let plan = ShardPlan(runs: input.runs, seedStart: input.seedStart, shards: shards)
        guard let inputs = plan.inputs(json: job.input, commit: commit) else {
            return .refused(.failure("the job input cannot be read back from JSON"))
        }
        return .shards(inputs)
    }

    public func runs(of job: StoredJob) -> Int? {
        ((try? JSONSerialization.jsonObject(with: job.input)) as? [String: Any])?["runs"] as? Int
    }

    public func merge(_ job: StoredJob, shards: [StoredJob]) -> HandlerResult {
        var summaries: [JobSummary] = []
        for (index, shard) in shards.enumerated() {
            guard let output = shard.output, let summary = try? JSONDecoder().decode(JobSummary.self, from: output)
            else {
                return .failure("shard \(index + 1) of \(shards.count) (\(shard.id)) left no summary to merge")
            }
            summaries.append(summary)
        }
        do {
            return .output(try SummaryMerger.merge(summaries).encodedJSON())
        } catch {
            return .failure("the shards' summaries cannot be merged: \(error.message)")
        }
    }
}
