import FlakeboxCore
import Foundation

/// One job run as shards on a RunPod endpoint: each shard's input (a disjoint seed range of the
/// job) submitted as a job of its own, their `/status` followed with back-off, and the shards'
/// summaries returned for `SummaryMerger`. A shard whose job ended without a summary is judged by
/// its reply (`ShardJobOutcome`): a job error (input refused, clone or setup failed) ends the
/// fan-out with that error, since every try would repeat it; anything else is a platform failure
/// (the worker died, the queue dropped the job), and the shard is submitted again up to
/// `maximumRetries` times. Cancelling the task cancels every shard's job on the endpoint before
/// returning.
public struct RunPodFanOut: Sendable {
    /// One shard: its seed range and the job input sent for it (a JSON object's text).
    public struct Shard: Sendable {
        public var range: ShardPlan.Range
        public var input: Data

        public init(range: ShardPlan.Range, input: Data) {
            self.range = range
            self.input = input
        }
    }

    public var client: RunPodEndpointClient
    public var shards: [Shard]
    public var maximumRetries = 2
    /// The first wait between polls, after any change; it grows by half each quiet poll.
    public var firstPoll = Duration.milliseconds(500)
    public var longestPoll = Duration.seconds(5)

    public init(client: RunPodEndpointClient, shards: [Shard]) {
        self.client = client
        self.shards = shards
    }

    private struct State {
        var jobID: String
        var submissions = 1
        var summary: JobSummary?
        var progress: JobProgress?
        /// Its job ended without a summary and will not be tried again (nothing to cancel).
        var ended = false
    }

    /// The shards' summaries, in shard order.
    /// - Parameter progress: the whole job's progress, summed over the shards, after each poll.
    public func run(progress: @Sendable (JobProgress) -> Void) async throws(RunPodEndpointError) -> [JobSummary] {
        let started = ContinuousClock.now
        let total = shards.reduce(0) { $0 + $1.range.runs }
        var states: [State] = []
        do {
            for shard in shards {
                try Task.checkCancellation()
                states.append(State(jobID: try await client.submit(input: shard.input)))
            }
            var interval = firstPoll
            while states.contains(where: { $0.summary == nil }) {
                try await Task.sleep(for: interval)
                var changed = false
                for index in states.indices where states[index].summary == nil {
                    changed = try await poll(index, &states) || changed
                }
                progress(Self.sum(states, total: total, since: started))
                interval = changed ? firstPoll : min(longestPoll, interval * 1.5)
            }
        } catch let error as RunPodEndpointError where !Task.isCancelled {
            await cancel(states)
            throw error
        } catch {
            // Cancelled (the user's Ctrl-C): every shard's job is cancelled before returning.
            await cancel(states)
            throw RunPodEndpointError(
                .cancelled, "cancelled; the jobs of \(states.count) shard\(states.count == 1 ? "" : "s") were cancelled"
            )
        }
        return states.compactMap(\.summary)
    }

    /// One `/status` of shard `index`; whether its state changed.
    private func poll(_ index: Int, _ states: inout [State]) async throws(RunPodEndpointError) -> Bool {
        let shard = shards[index]
        let reply = try await client.status(of: states[index].jobID)
        switch reply.status {
        case "COMPLETED", "FAILED", "TIMED_OUT", "CANCELLED":
            switch ShardJobOutcome(reply) {
            case .summary(let summary):
                states[index].summary = summary
                return true
            case .jobError(let description):
                states[index].ended = true
                throw RunPodEndpointError(
                    .jobFailed,
                    "the shard of \(shard.range) (job \(states[index].jobID)) ended with a job error, "
                        + "which another try would repeat: \(description)")
            case .platformFailure:
                guard states[index].submissions <= maximumRetries else {
                    states[index].ended = true
                    throw RunPodEndpointError(
                        .shardFailed,
                        "the shard of \(shard.range) failed \(states[index].submissions) times; the last job "
                            + "(\(states[index].jobID)) ended \(reply.status): \(Self.describe(reply))")
                }
                states[index].jobID = try await client.submit(input: shard.input)
                states[index].submissions += 1
                states[index].progress = nil
                return true
            }
        case "IN_PROGRESS":
            let progress = reply.progress
            defer { states[index].progress = progress ?? states[index].progress }
            return progress != nil && progress != states[index].progress
        default:
            return false
        }
    }

    private static func describe(_ reply: RunPodEndpointClient.JobStatus) -> String {
        if let error = reply.error { return String(error.prefix(500)) }
        if let output = reply.output { return String(decoding: output.prefix(500), as: UTF8.self) }
        return "no output and no error"
    }

    private static func sum(_ states: [State], total: Int, since start: ContinuousClock.Instant) -> JobProgress {
        var completed = 0
        var failures = 0
        var running = 0
        for state in states {
            if let summary = state.summary {
                completed += summary.totalRuns
                failures += summary.failures
            } else if let progress = state.progress {
                completed += min(progress.completed, progress.total)
                failures += progress.failures
                running += progress.running
            }
        }
        let elapsed = ContinuousClock.now - start
        return JobProgress(
            phase: .running, total: total, completed: min(completed, total), failures: failures, running: running,
            elapsedSeconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    /// Cancels every unfinished shard's job, whatever the task's own cancellation (a task of its
    /// own: the calls of a cancelled task would be cancelled with it).
    private func cancel(_ states: [State]) async {
        let ids = states.filter { $0.summary == nil && !$0.ended }.map(\.jobID)
        let client = client
        await Task {
            await withTaskGroup(of: Void.self) { group in
                for id in ids { group.addTask { try? await client.cancel(id) } }
            }
        }.value
    }
}
