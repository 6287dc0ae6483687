import Foundation

/// Jobs in memory, bounded by count and bytes so that no client can grow the process without end:
/// a full queue refuses new jobs (`full`), and the oldest finished jobs are forgotten first. The
/// worker's local API keeps its jobs here; a restart loses them, as the SDK's simulator does.
public actor MemoryJobStore: JobStore {
    public struct Limits: Sendable {
        public var maxQueued: Int
        public var maxQueuedBytes: Int
        public var maxRetained: Int
        public var maxRetainedBytes: Int

        public init(
            maxQueued: Int = 32, maxQueuedBytes: Int = 64 << 20, maxRetained: Int = 100,
            maxRetainedBytes: Int = 128 << 20
        ) {
            self.maxQueued = maxQueued
            self.maxQueuedBytes = maxQueuedBytes
            self.maxRetained = maxRetained
            self.maxRetainedBytes = maxRetainedBytes
        }
    }

    public let limits: Limits
    private var jobs: [String: StoredJob] = [:]
    /// Insertion order (the claim order within an owner, and the age order for forgetting).
    private var order: [String] = []
    private var finishedOrder: [String] = []

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public func insert(_ job: StoredJob) throws(JobStoreError) {
        guard jobs[job.id] == nil else { throw JobStoreError(.duplicate, "job \(job.id) exists") }
        let queued = jobs.values.filter { $0.state == .inQueue }
        guard queued.count < limits.maxQueued,
            queued.reduce(0, { $0 + $1.input.count }) + job.input.count <= limits.maxQueuedBytes
        else {
            throw JobStoreError(
                .full, "the queue is full (\(limits.maxQueued) jobs or \(limits.maxQueuedBytes >> 20) MB of input)")
        }
        jobs[job.id] = job
        order.append(job.id)
    }

    public func job(id: String) -> StoredJob? { jobs[id] }

    public func jobs(owner: String, limit: Int, before: Date?) -> [StoredJob] {
        Array(
            jobs.values.filter { job in job.owner == owner && (before.map { job.createdAt < $0 } ?? true) }
                .sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
                .prefix(max(0, limit)))
    }

    public func claimNext(now: Date, skipping: Set<String>) -> StoredJob? {
        var running: [String: Int] = [:]
        var oldest: [String: (low: Bool, created: Date, index: Int)] = [:]
        for (index, id) in order.enumerated() {
            guard let job = jobs[id] else { continue }
            if job.state == .inProgress { running[job.owner, default: 0] += 1 }
            guard job.state == .inQueue, !skipping.contains(job.owner) else { continue }
            let key = (low: job.policy.lowPriority, created: job.createdAt, index: index)
            if let current = oldest[job.owner], (current.low ? 1 : 0, current.created) <= (key.low ? 1 : 0, key.created)
            {
                continue
            }
            oldest[job.owner] = key
        }
        let pick = oldest.min { a, b in
            (running[a.key] ?? 0, a.value.created, a.value.index) < (
                running[b.key] ?? 0, b.value.created, b.value.index
            )
        }
        guard let pick, var job = jobs[order[pick.value.index]] else { return nil }
        job.state = .inProgress
        job.startedAt = now
        job.starts += 1
        jobs[job.id] = job
        return job
    }

    public func finish(id: String, state: JobState, output: Data?, error: String?, at: Date, keepUntil: Date) -> Bool {
        guard var job = jobs[id], job.state == .inProgress else { return false }
        job.state = state
        job.output = output
        job.error = error
        job.finishedAt = at
        job.keepUntil = keepUntil
        jobs[id] = job
        retire(id)
        return true
    }

    public func cancel(id: String, at: Date, keepUntil: Date) -> StoredJob? {
        guard let before = jobs[id], !before.state.isFinal else { return nil }
        var job = before
        job.state = .cancelled
        job.finishedAt = at
        job.keepUntil = keepUntil
        jobs[id] = job
        retire(id)
        return before
    }

    public func requeue(id: String, now: Date) -> Bool {
        guard var job = jobs[id], job.state == .failed || job.state == .timedOut else { return false }
        job.state = .inQueue
        job.output = nil
        job.error = nil
        job.startedAt = nil
        job.finishedAt = nil
        job.keepUntil = nil
        job.retries += 1
        jobs[id] = job
        finishedOrder.removeAll { $0 == id }
        order.removeAll { $0 == id }
        order.append(id)
        return true
    }

    public func purgeQueue(owner: String, at: Date, keepUntil: Date) -> Int {
        let ids = order.filter { jobs[$0]?.owner == owner && jobs[$0]?.state == .inQueue }
        for id in ids { _ = cancel(id: id, at: at, keepUntil: keepUntil) }
        return ids.count
    }

    public func expireQueued(now: Date, keepUntil: Date) -> [String] {
        let ids = order.filter { id in jobs[id].map { $0.state == .inQueue && $0.expiresAt <= now } ?? false }
        for id in ids {
            jobs[id]?.state = .timedOut
            jobs[id]?.error = "the job's ttl passed before it started"
            jobs[id]?.finishedAt = now
            jobs[id]?.keepUntil = keepUntil
            retire(id)
        }
        return ids
    }

    public func recoverInterrupted(now: Date, maxStarts: Int, reason: String, keepUntil: Date)
        -> (requeued: [String], failed: [String])
    {
        // Nothing survives a restart here: only a store shared with a dead process has any.
        var result: (requeued: [String], failed: [String]) = ([], [])
        for id in order where jobs[id]?.state == .inProgress {
            if let job = jobs[id], job.starts < maxStarts {
                jobs[id]?.state = .inQueue
                result.requeued.append(id)
            } else {
                _ = finish(id: id, state: .failed, output: nil, error: reason, at: now, keepUntil: keepUntil)
                result.failed.append(id)
            }
        }
        return result
    }

    public func handBack(id: String) -> Bool {
        guard var job = jobs[id], job.state == .inProgress else { return false }
        job.state = .inQueue
        job.startedAt = nil
        job.starts = max(0, job.starts - 1)
        jobs[id] = job
        return true
    }

    public func keep(id: String, until: Date) {
        guard jobs[id]?.state.isFinal == true else { return }
        jobs[id]?.keepUntil = until
    }

    public func prune(now: Date) -> Int {
        let gone = finishedOrder.filter { id in jobs[id].map { ($0.keepUntil ?? .distantFuture) <= now } ?? true }
        for id in gone { forget(id) }
        return gone.count
    }

    public func counts(owner: String?) -> [JobState: Int] {
        var counts: [JobState: Int] = [:]
        for job in jobs.values where owner == nil || job.owner == owner { counts[job.state, default: 0] += 1 }
        return counts
    }

    public func attemptSeconds(owner: String, since: Date) -> Int {
        jobs.values.filter { $0.owner == owner && $0.createdAt >= since }.reduce(0) { $0 + $1.attemptSeconds }
    }

    /// Forgets the oldest finished jobs beyond the limits.
    private func retire(_ id: String) {
        finishedOrder.append(id)
        var bytes = finishedOrder.reduce(0) { $0 + (jobs[$1].map(Self.size) ?? 0) }
        while finishedOrder.count > limits.maxRetained || (bytes > limits.maxRetainedBytes && finishedOrder.count > 1) {
            let oldest = finishedOrder[0]
            bytes -= jobs[oldest].map(Self.size) ?? 0
            forget(oldest)
        }
    }

    private func forget(_ id: String) {
        jobs.removeValue(forKey: id)
        finishedOrder.removeAll { $0 == id }
        order.removeAll { $0 == id }
    }

    private static func size(_ job: StoredJob) -> Int {
        job.input.count + (job.output?.count ?? 0) + (job.error?.utf8.count ?? 0)
    }
}
