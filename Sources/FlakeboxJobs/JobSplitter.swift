import Foundation

/// How a job too large for one node becomes shards that several nodes run at once, and how their
/// results become the job's. `JobService` asks it when a node claims a job from a store the nodes
/// share (`LeasedJobStore`); the flakebox engine's answer is `JobSharding`.
public protocol JobSplitter: Sendable {
    /// The shards' inputs, in order, or `.whole` to run the job on this node as it is. Cancelling
    /// the calling task must end the work promptly (it resolves the repository's ref).
    func split(_ job: StoredJob) async -> JobSplit

    /// The job's result from its shards, all `COMPLETED`, in the order `split` gave them.
    func merge(_ job: StoredJob, shards: [StoredJob]) -> HandlerResult

    /// How many runs a job (or shard) makes, for progress summed over shards; nil: unknown.
    func runs(of job: StoredJob) -> Int?
}

/// What `JobSplitter.split` decided.
public enum JobSplit: Sendable, Equatable {
    /// Run the job as it is.
    case whole
    /// Run these inputs as the job's shards (at least two).
    case shards([Data])
    /// The job cannot run (bad input, a ref that resolves to no commit): its result.
    case refused(HandlerResult)
}
