import FlakeboxCore
import FlakeboxJobs
import Foundation
import Synchronization

/// Checks a key's `Quotas` before its jobs are queued and while its `/runsync` requests wait.
///
/// A submit's check and insert run under a lock of that key, so that two submits at once cannot
/// both pass a limit of 1; keys do not wait for each other. The running limit is not checked
/// here: `runningLimit` goes to `JobService.setRunningLimit`, whose claiming skips a key at it.
public actor QuotaGate {
    public let jobs: any JobStore
    private let now: @Sendable () -> Date
    private var submitLocks: [String: AsyncLock] = [:]
    private var syncWaits: [String: Int] = [:]
    /// Each key's `maxRunning`, read synchronously by the job service's claiming.
    private let runningLimits = RunningLimits()

    /// What a job costs when its input names no per-attempt timeout: the default policy's.
    public static let defaultAttemptTimeoutSeconds = 600.0
    static let day = 86_400

    public init(jobs: any JobStore, now: @escaping @Sendable () -> Date = { Date() }) {
        self.jobs = jobs
        self.now = now
    }

    /// runs × per-attempt timeout (rounded up), what `StoredJob.attemptSeconds` records.
    public static func attemptSeconds(of input: JobInput) -> Int {
        let timeout = input.timeoutSeconds ?? defaultAttemptTimeoutSeconds
        return input.runs * Int(timeout.rounded(.up))
    }

    /// For `JobService.setRunningLimit`: a key's `maxRunning` once the gate has seen the key (at
    /// a submit, or from `remember`); nil (no limit) for an owner it has not.
    public nonisolated var runningLimit: @Sendable (String) -> Int? {
        { [runningLimits] owner in runningLimits.limits.withLock { $0[owner] } }
    }

    /// Records keys' running limits (at start: every key, so that jobs queued before a restart
    /// are limited too).
    public nonisolated func remember(_ keys: [APIKey]) {
        runningLimits.limits.withLock { limits in
            for key in keys { limits[key.id] = key.quotas.maxRunning }
        }
    }

    /// Checks `key`'s queue and attempt-second quotas for a job costing `attemptSeconds`, then
    /// runs `insert` before any other submit of the same key is checked.
    /// - Throws: `QuotaRefusal` over a quota (nothing inserted), or what the store or `insert` threw.
    public func submit<T: Sendable>(
        key: APIKey, attemptSeconds: Int, insert: @Sendable () async throws -> T
    ) async throws -> T {
        remember([key])
        let quotas = key.quotas
        if attemptSeconds > quotas.maxAttemptSecondsPerJob {
            throw QuotaRefusal(
                quota: "maxAttemptSecondsPerJob", limit: quotas.maxAttemptSecondsPerJob, retryAfter: Self.day,
                message: "this job may use \(attemptSeconds) attempt-seconds (runs × timeout_s), over this key's "
                    + "maxAttemptSecondsPerJob (\(quotas.maxAttemptSecondsPerJob)): ask for fewer runs or a shorter "
                    + "timeout_s")
        }
        let lock = submitLock(key.id)
        await lock.lock()
        defer { lock.unlock() }

        let queued = try await jobs.counts(owner: key.id)[.inQueue] ?? 0
        if queued >= quotas.maxQueued {
            throw QuotaRefusal(
                quota: "maxQueued", limit: quotas.maxQueued, retryAfter: 30,
                message: "this key has \(queued) jobs queued, its limit (maxQueued \(quotas.maxQueued)); "
                    + "submit again when some have started")
        }
        let start = now()
        let used = try await jobs.attemptSeconds(owner: key.id, since: start.addingTimeInterval(-Double(Self.day)))
        if used + attemptSeconds > quotas.maxAttemptSecondsPerDay {
            let wait = try await secondsUntilFits(
                key: key.id, attemptSeconds: attemptSeconds, limit: quotas.maxAttemptSecondsPerDay, now: start)
            throw QuotaRefusal(
                quota: "maxAttemptSecondsPerDay", limit: quotas.maxAttemptSecondsPerDay, retryAfter: wait,
                message: "this key's jobs of the last 24 hours may use \(used) attempt-seconds; this one's "
                    + "\(attemptSeconds) more would pass its maxAttemptSecondsPerDay "
                    + "(\(quotas.maxAttemptSecondsPerDay))")
        }
        return try await insert()
    }

    /// Counts a `/runsync` wait of `key`; refused at `maxSyncWaits`. Pair with `releaseSyncWait`.
    public func acquireSyncWait(key: APIKey) throws(QuotaRefusal) {
        let waiting = syncWaits[key.id, default: 0]
        guard waiting < key.quotas.maxSyncWaits else {
            throw QuotaRefusal(
                quota: "maxSyncWaits", limit: key.quotas.maxSyncWaits, retryAfter: 10,
                message: "this key has \(waiting) /runsync requests waiting, its limit (maxSyncWaits "
                    + "\(key.quotas.maxSyncWaits)); use /run and /status, or wait for one to return")
        }
        syncWaits[key.id] = waiting + 1
    }

    public func releaseSyncWait(keyID: String) {
        let waiting = syncWaits[keyID, default: 0] - 1
        syncWaits[keyID] = waiting > 0 ? waiting : nil
    }

    public func syncWaitCount(keyID: String) -> Int { syncWaits[keyID, default: 0] }

    private func submitLock(_ keyID: String) -> AsyncLock {
        if let lock = submitLocks[keyID] { return lock }
        let lock = AsyncLock()
        submitLocks[keyID] = lock
        return lock
    }

    /// The fewest seconds until jobs leave the 24-hour window enough for this one to fit (if no
    /// other is submitted): a binary search over the window's start, at most 17 indexed sums.
    private func secondsUntilFits(key: String, attemptSeconds: Int, limit: Int, now: Date) async throws -> Int {
        guard attemptSeconds <= limit else { return Self.day }
        var low = 1
        var high = Self.day
        while low < high {
            let middle = (low + high) / 2
            let since = now.addingTimeInterval(Double(middle - Self.day))
            if try await jobs.attemptSeconds(owner: key, since: since) + attemptSeconds <= limit {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }
}

/// Each key's `maxRunning`, shared with the closure the job service calls (a `Mutex` cannot be
/// captured by itself).
private final class RunningLimits: Sendable {
    let limits = Mutex<[String: Int]>([:])
}
