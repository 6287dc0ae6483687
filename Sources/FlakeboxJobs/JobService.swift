import FlakeboxCore
import Foundation
import Synchronization

/// The job engine's transport-neutral front: a queue over a `JobStore`, runners that claim jobs
/// fairly and run them through a `JobExecutor`, cancellation that reaches the sandboxes, the live
/// progress of running jobs, waits for a result, execution timeouts, ttl expiry, pruning, and a
/// shutdown that finishes or hands back what runs. The worker's local API and `flakebox serve`
/// translate HTTP to these calls and nothing more.
public actor JobService {
    public struct Configuration: Sendable {
        /// Jobs run at once by this process.
        public var concurrency: Int
        /// How long a finished job is kept (RunPod keeps a `/run` result 30 minutes).
        public var retention: Duration
        /// A job found `IN_PROGRESS` at start (its process died) runs again if it was started fewer
        /// times than this; otherwise it fails, since it may be what killed the process.
        public var maxStarts: Int
        /// How often ttl expiry, pruning and a claim (for jobs another process queued) happen.
        public var housekeepingInterval: Duration
        /// `hostname` and `worker_id` in the error_info of a job whose handler raised.
        public var hostname: String
        public var workerID: String
        /// This node's name on a store several nodes share (`LeasedJobStore`); nil: the only one.
        /// Unique per process, so that a restarted node never holds a dead one's leases.
        public var nodeID: String?
        /// How long a claim holds without renewal (renewed every third of it while the job runs);
        /// a node that died loses its jobs to the others after this.
        public var leaseDuration: Duration
        /// On a shared store: cuts a large job into shards that any node claims (nil: every job
        /// runs whole on the node that claimed it).
        public var splitter: (any JobSplitter)?

        public init(
            concurrency: Int = 1, retention: Duration = .seconds(1800), maxStarts: Int = 2,
            housekeepingInterval: Duration = .seconds(5), hostname: String = ProcessInfo.processInfo.hostName,
            workerID: String = "flakebox", nodeID: String? = nil, leaseDuration: Duration = .seconds(30),
            splitter: (any JobSplitter)? = nil
        ) {
            self.concurrency = concurrency
            self.retention = retention
            self.maxStarts = maxStarts
            self.housekeepingInterval = housekeepingInterval
            self.hostname = hostname
            self.workerID = workerID
            self.nodeID = nodeID
            self.leaseDuration = leaseDuration
            self.splitter = splitter
        }
    }

    /// What a restart found and did (logged by the transport).
    public struct Recovery: Sendable, Equatable {
        public var requeued: [String]
        public var failed: [String]
    }

    /// Why `recoverInterrupted` fails a job it will not run again.
    public static let interruptedTwiceReason =
        "the service stopped while this job ran, twice: it is not run a third time, in case the job itself is what stops the service"

    public let store: any JobStore
    public let executor: any JobExecutor
    public let configuration: Configuration
    /// Called after a job reaches a final state through this process (webhooks, metrics).
    private var onFinish: (@Sendable (StoredJob) async -> Void)?
    /// The most jobs one owner may have running at once (quotas); nil: no limit.
    private var runningLimit: (@Sendable (String) -> Int?)?

    private struct Running {
        var owner: String
        /// A shard's job: cancelling that job kills this one at once.
        var parent: String?
        var task: Task<Void, Never>
        var progress: ProgressBox
        /// Set before the task is cancelled, so that its end is recorded as what caused it.
        var ending: Ending?
        /// The claim's fence on a shared store: what renewing and finishing present.
        var fence: Int?
        var renewal: Task<Void, Never>?
        /// On a shared store: records the progress for the other nodes, once a second at most.
        var recorder: Task<Void, Never>?
    }
    /// `leaseLost`: the job was cancelled on another node, or claimed by another after this one
    /// stalled past its lease: its sandboxes are killed and nothing is written.
    enum Ending: Sendable { case cancelled, timedOut, handedBack, leaseLost }

    /// The shared store and this node's name, when several nodes run jobs from one database.
    private var leased: (store: any LeasedJobStore, node: String)? {
        guard let node = configuration.nodeID, let store = store as? any LeasedJobStore else { return nil }
        return (store, node)
    }

    private var running: [String: Running] = [:]
    /// Claims sent to the store and not yet answered: `fill` runs again while one is suspended
    /// (a notification, a job's end), and counting them keeps this node within its concurrency.
    private var claiming = 0
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var accepting = true
    private var housekeeping: Task<Void, Never>?
    private var listening: Task<Void, Never>?
    private var lastError: JobStoreError?

    public init(store: any JobStore, executor: any JobExecutor, configuration: Configuration = Configuration()) {
        self.store = store
        self.executor = executor
        self.configuration = configuration
    }

    public func setOnFinish(_ action: (@Sendable (StoredJob) async -> Void)?) { onFinish = action }
    public func setRunningLimit(_ limit: (@Sendable (String) -> Int?)?) { runningLimit = limit }

    /// Recovers what a dead process left running, then starts claiming jobs.
    @discardableResult
    public func start() async throws(JobStoreError) -> Recovery {
        let now = Date()
        // On a shared store the jobs running are other nodes' too: only those whose lease ran out
        // are taken back (and again at every housekeeping).
        let recovered =
            if let leased {
                try await leased.store.requeueExpired(
                    now: now, maxStarts: configuration.maxStarts, reason: Self.interruptedTwiceReason,
                    keepUntil: keepUntil(now))
            } else {
                try await store.recoverInterrupted(
                    now: now, maxStarts: configuration.maxStarts, reason: Self.interruptedTwiceReason,
                    keepUntil: keepUntil(now))
            }
        housekeeping = Task { [weak self, interval = configuration.housekeepingInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                await self?.houseKeep()
            }
        }
        if let leased {
            // Another node's job wakes this one at once; housekeeping's claim is the fallback.
            listening = Task { [weak self] in
                while !Task.isCancelled {
                    try? await leased.store.watch { [weak self] notice in
                        switch notice {
                        case .work: await self?.fill()
                        case .cancelled(let id): await self?.stopCancelled(id)
                        }
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        await fill()
        return Recovery(requeued: recovered.requeued, failed: recovered.failed)
    }

    /// Queues a job and starts it when a runner is free.
    public func submit(_ job: StoredJob) async throws(JobStoreError) {
        try await store.insert(job)
        await fill()
    }

    public func job(id: String) async throws(JobStoreError) -> StoredJob? {
        try await store.job(id: id)
    }

    /// The latest progress of a running job: this process's own, or on a shared store what the
    /// node running it recorded (at most a second old); a split job's is its shards' summed.
    public func progress(of id: String) async -> JobProgress? {
        if let local = running[id]?.progress.value { return local }
        guard let leased, let job = try? await store.job(id: id), job.state == .inProgress else { return nil }
        guard let shards = try? await leased.store.shards(of: id, withOutputs: false), !shards.isEmpty else {
            return (try? await leased.store.recordedProgress(of: [id]))?[id].flatMap(JobProgress.init(json:))
        }
        let recorded = (try? await leased.store.recordedProgress(of: shards.map(\.id))) ?? [:]
        var sum = JobProgress(
            phase: .running, total: 0, completed: 0, failures: 0, running: 0,
            elapsedSeconds: job.startedAt.map { Date().timeIntervalSince($0) } ?? 0)
        for shard in shards {
            let progress = recorded[shard.id].flatMap(JobProgress.init(json:))
            let runs = progress?.total ?? configuration.splitter?.runs(of: shard) ?? 0
            sum.total += runs
            sum.failures += progress?.failures ?? 0
            if shard.state == .completed {
                sum.completed += runs
            } else if shard.state == .inProgress {
                switch progress?.phase {
                case .running: sum.completed += progress?.completed ?? 0
                case .classifying, .summarizing: sum.completed += runs  // its runs are done
                default: break
                }
                sum.running += progress?.running ?? 0
            }
        }
        return sum
    }

    public var runningCount: Int { running.count }
    public var isAccepting: Bool { accepting }
    /// The last store failure seen by housekeeping (readiness), cleared by a success.
    public var storeHealthy: Bool { lastError == nil }

    /// Cancels a queued or running job (a running job's sandboxes are killed); the job after, or
    /// nil when it is unknown. A job already final is returned unchanged.
    public func cancel(id: String) async throws(JobStoreError) -> StoredJob? {
        let now = Date()
        if try await store.cancel(id: id, at: now, keepUntil: keepUntil(now)) != nil {
            // Other nodes running it or its shards hear of it from the store at once.
            stopCancelled(id)
            wake(id)
            if let job = try await store.job(id: id) { await onFinish?(job) }
        }
        return try await store.job(id: id)
    }

    /// `/retry`: a failed or timed-out job queued again under the same id; false otherwise.
    public func retry(id: String) async throws(JobStoreError) -> Bool {
        guard try await store.requeue(id: id, now: Date()) else { return false }
        await fill()
        return true
    }

    /// Cancels an owner's queued jobs; how many.
    public func purgeQueue(owner: String) async throws(JobStoreError) -> Int {
        let now = Date()
        return try await store.purgeQueue(owner: owner, at: now, keepUntil: keepUntil(now))
    }

    /// Returns when the job is final, or after `timeout`, or at once for an unknown job.
    public func waitUntilFinal(id: String, timeout: Duration) async {
        guard let job = try? await store.job(id: id), !job.state.isFinal else { return }
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            await self?.wake(id)
        }
        defer { timer.cancel() }
        // Another node may finish it: on a shared store, look every half second.
        let watch: Task<Void, Never>? =
            leased == nil
            ? nil
            : Task { [weak self, store] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(500))
                    if let job = try? await store.job(id: id), job.state.isFinal {
                        await self?.wake(id)
                        return
                    }
                }
            }
        defer { watch?.cancel() }
        await withCheckedContinuation { continuation in
            waiters[id, default: []].append(continuation)
            // The job may have finished while the first look was suspended: look again now
            // that the waiter is registered, so that its end cannot slip between the two.
            Task { [weak self, store] in
                if let job = try? await store.job(id: id), job.state.isFinal { await self?.wake(id) }
            }
        }
    }

    /// Stops claiming; lets running jobs finish for `grace`, then cancels the rest and hands them
    /// back to the queue (another start, here or on another node, runs them again).
    public func shutdown(grace: Duration) async {
        accepting = false
        housekeeping?.cancel()
        listening?.cancel()
        let deadline = ContinuousClock.now + grace
        while !running.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for (id, var entry) in running where entry.ending == nil {
            entry.ending = .handedBack
            running[id] = entry
            entry.task.cancel()
        }
        while !running.isEmpty { try? await Task.sleep(for: .milliseconds(20)) }
    }

    // MARK: - Running

    /// Claims jobs while runners are free.
    private func fill() async {
        while accepting, running.count + claiming < configuration.concurrency {
            var skipping: Set<String> = []
            if let runningLimit {
                var perOwner: [String: Int] = [:]
                for entry in running.values { perOwner[entry.owner, default: 0] += 1 }
                for (owner, count) in perOwner where count >= (runningLimit(owner) ?? .max) { skipping.insert(owner) }
            }
            let claimed: StoredJob?
            var fence: Int?
            claiming += 1
            defer { claiming -= 1 }
            do {
                if let leased {
                    let lease = try await leased.store.claimNext(
                        now: Date(), skipping: skipping, holder: leased.node, duration: configuration.leaseDuration)
                    claimed = lease?.job
                    fence = lease?.lease.fence
                } else {
                    claimed = try await store.claimNext(now: Date(), skipping: skipping)
                }
                lastError = nil
            } catch {
                lastError = error
                return
            }
            guard let job = claimed else { return }
            launch(job, fence: fence)
        }
    }

    /// Renews the lease of a running job every third of its duration; a lease lost (cancelled
    /// elsewhere, or taken after a stall) ends the job here without a word written.
    private func renewLoop(_ id: String, fence: Int, store: any LeasedJobStore) -> Task<Void, Never> {
        let duration = configuration.leaseDuration
        return Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: duration / 3)
                if Task.isCancelled { return }
                do {
                    if try await store.renewLease(id: id, fence: fence, duration: duration) { continue }
                } catch {
                    continue  // the database may be back before the lease runs out
                }
                await self?.loseLease(id)
                return
            }
        }
    }

    /// `id` (a job, or a split job's shards) was cancelled, here or on another node: what runs of
    /// it here is killed and nothing is written (the store holds the cancel).
    private func stopCancelled(_ id: String) {
        for (runningID, var entry) in running where (runningID == id || entry.parent == id) && entry.ending == nil {
            entry.ending = .cancelled
            running[runningID] = entry
            entry.task.cancel()
        }
    }

    /// Writes a running job's progress to the shared store when it changed, once a second at most.
    private static func recordLoop(_ id: String, fence: Int, progress: ProgressBox, store: any LeasedJobStore)
        -> Task<Void, Never>
    {
        Task {
            var written: JobProgress?
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard let value = progress.value, value != written, !Task.isCancelled else { continue }
                if (try? await store.recordProgress(id: id, fence: fence, progress: Data(value.json))) != nil {
                    written = value
                }
            }
        }
    }

    private func loseLease(_ id: String) {
        guard var entry = running[id], entry.ending == nil else { return }
        entry.ending = .leaseLost
        running[id] = entry
        entry.task.cancel()
    }

    private func launch(_ job: StoredJob, fence: Int? = nil) {
        let progress = ProgressBox()
        let executor = self.executor
        let id = job.id
        let splitter = leased == nil || job.parentID != nil ? nil : configuration.splitter
        let task = Task { [weak self] in
            if let splitter, let fence {
                switch await splitter.split(job) {
                case .whole:
                    break
                case .shards(let inputs):
                    await self?.divide(job, fence: fence, inputs: inputs)
                    return
                case .refused(let result):
                    await Task { await self?.finished(id, result) }.value
                    return
                }
            }
            let timeout = Duration.milliseconds(job.policy.executionTimeoutMs)
            let timer = Task { [weak self] in
                try? await Task.sleep(for: timeout)
                if !Task.isCancelled { await self?.timeOut(id) }
            }
            let result = await executor.execute(job, progress: { progress.value = $0 })
            timer.cancel()
            // Recorded from a task that is not cancelled: this one is when the job timed out,
            // was handed back or cancelled, and a store may refuse work from a cancelled task
            // (SQLiteNIO does), which would leave the job IN_PROGRESS for good.
            await Task { await self?.finished(id, result) }.value
        }
        var entry = Running(owner: job.owner, parent: job.parentID, task: task, progress: progress, fence: fence)
        if let fence, let leased {
            entry.renewal = renewLoop(id, fence: fence, store: leased.store)
            entry.recorder = Self.recordLoop(id, fence: fence, progress: progress, store: leased.store)
        }
        running[id] = entry
    }

    private func timeOut(_ id: String) {
        guard var entry = running[id], entry.ending == nil else { return }
        entry.ending = .timedOut
        running[id] = entry
        entry.task.cancel()
    }

    private func finished(_ id: String, _ result: HandlerResult) async {
        guard let entry = running.removeValue(forKey: id) else { return }
        entry.renewal?.cancel()
        entry.recorder?.cancel()
        // The last progress, so that a split job's sum counts this shard's failures exactly.
        if let fence = entry.fence, let leased, let last = entry.progress.value {
            _ = try? await leased.store.recordProgress(id: id, fence: fence, progress: Data(last.json))
        }
        let now = Date()
        do {
            switch entry.ending {
            case .cancelled, .leaseLost:
                break  // recorded by `cancel`, here or on the node that holds the job now
            case .handedBack:
                _ = try await store.handBack(id: id)
            case .timedOut, nil:
                var state: JobState
                var output: Data?
                var error: String?
                switch result {
                case .output(let summary):
                    state = .completed
                    output = summary
                case .failure, .exception:
                    state = .failed
                    error = result.errorValue(hostname: configuration.hostname, workerID: configuration.workerID)
                }
                if entry.ending == .timedOut {
                    state = .timedOut
                    error = "the job ran past its executionTimeout; the output holds what finished before"
                }
                let written =
                    if let fence = entry.fence, let leased {
                        try await leased.store.finish(
                            id: id, fence: fence, state: state, output: output, error: error, at: now,
                            keepUntil: keepUntil(now))
                    } else {
                        try await store.finish(
                            id: id, state: state, output: output, error: error, at: now, keepUntil: keepUntil(now))
                    }
                if written {
                    if let job = try await store.job(id: id) {
                        if let parent = job.parentID {
                            await settle(parent)
                        } else {
                            await onFinish?(job)
                        }
                    }
                }
            }
        } catch {
            lastError = error
        }
        wake(id)
        await fill()
    }

    private func houseKeep() async {
        let now = Date()
        do {
            let expired = try await store.expireQueued(now: now, keepUntil: keepUntil(now))
            if let leased {
                let swept = try await leased.store.requeueExpired(
                    now: now, maxStarts: configuration.maxStarts, reason: Self.interruptedTwiceReason,
                    keepUntil: keepUntil(now))
                for id in swept.failed {
                    wake(id)
                    if let job = try await store.job(id: id) { await onFinish?(job) }
                }
            }
            for id in expired {
                wake(id)
                if let job = try await store.job(id: id) { await onFinish?(job) }
            }
            if leased != nil, configuration.splitter != nil {
                for id in try await leased?.store.unsettledSplits() ?? [] { await settle(id) }
            }
            _ = try await store.prune(now: now)
            lastError = nil
        } catch {
            lastError = error
        }
        await fill()
    }

    // MARK: - Shards

    /// Replaces a claimed job by its shards (queued for every node) and lets the claim go; the job
    /// stays `IN_PROGRESS` until `settle` gives it its shards' end. A job cancelled or lost
    /// meanwhile is not split; one handed back goes back to the queue whole.
    private func divide(_ job: StoredJob, fence: Int, inputs: [Data]) async {
        guard let entry = running.removeValue(forKey: job.id) else { return }
        entry.renewal?.cancel()
        entry.recorder?.cancel()
        do {
            switch entry.ending {
            case .cancelled, .leaseLost:
                break
            case .handedBack:
                _ = try await store.handBack(id: job.id)
            case .timedOut, nil:
                let shards = inputs.enumerated().map { index, input in
                    StoredJob(
                        id: "\(job.id)-\(index + 1)", owner: job.owner, input: input, policy: job.policy,
                        createdAt: job.createdAt, parentID: job.id)
                }
                // False: the lease was lost (cancelled, or claimed again after a stall): nothing to do.
                _ = try await leased?.store.split(id: job.id, fence: fence, shards: shards)
            }
        } catch {
            // The job keeps this node's lapsed lease: the sweep queues it again, to be split anew.
            lastError = error
        }
        await fill()
    }

    /// Gives a split job the end its shards decided, once: all completed, their summaries merged;
    /// one failed, timed out or cancelled, that (and the shards still running are cancelled).
    /// Any node may settle a job (the one that ended its last shard, or housekeeping after a node
    /// died between the two); `finish` writes only over a job still running, so one wins.
    private func settle(_ id: String) async {
        guard let leased, let splitter = configuration.splitter else { return }
        do {
            guard let job = try await store.job(id: id), job.state == .inProgress else { return }
            let shards = try await leased.store.shards(of: id, withOutputs: true)
            guard !shards.isEmpty else { return }
            var state = JobState.completed
            var output: Data?
            var error: String?
            if let ended = shards.first(where: { [.failed, .timedOut, .cancelled].contains($0.state) }) {
                state = ended.state
                let which = "shard \((shards.firstIndex(of: ended) ?? 0) + 1) of \(shards.count)"
                error = ended.error.map { "\(which): \($0)" } ?? "\(which) was \(ended.state.rawValue)"
            } else if shards.allSatisfy({ $0.state == .completed }) {
                let result = splitter.merge(job, shards: shards)
                if case .output(let summary) = result {
                    output = summary
                } else {
                    state = .failed
                    error = result.errorValue(hostname: configuration.hostname, workerID: configuration.workerID)
                }
            } else {
                return
            }
            let now = Date()
            guard
                try await store.finish(
                    id: id, state: state, output: output, error: error, at: now, keepUntil: keepUntil(now))
            else { return }
            if state != .completed {
                _ = try await leased.store.cancelShards(of: id, at: now, keepUntil: keepUntil(now))
                stopCancelled(id)
            }
            wake(id)
            if let job = try await store.job(id: id) { await onFinish?(job) }
        } catch {
            lastError = error
        }
    }

    private func wake(_ id: String) {
        for waiter in waiters.removeValue(forKey: id) ?? [] { waiter.resume() }
    }

    private func keepUntil(_ now: Date) -> Date {
        let c = configuration.retention.components
        return now.addingTimeInterval(Double(c.seconds) + Double(c.attoseconds) / 1e18)
    }
}

/// A running job's latest progress, written from its attempts' threads without a hop to the actor.
final class ProgressBox: Sendable {
    private let latest = Mutex<JobProgress?>(nil)
    var value: JobProgress? {
        get { latest.withLock { $0 } }
        set { latest.withLock { $0 = newValue } }
    }
}
