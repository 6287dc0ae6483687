import FlakeboxJobs
import Foundation

/// A `MemoryJobStore` whose claims take `claimDelay`, as a database's do: while one is on its
/// way, the service's claiming runs again (a submit, a job's end) and must still count it.
struct SlowClaimStore: JobStore {
    let base = MemoryJobStore()
    var claimDelay: Duration

    func claimNext(now: Date, skipping: Set<String>) async throws(JobStoreError) -> StoredJob? {
        try? await Task.sleep(for: claimDelay)
        return await base.claimNext(now: now, skipping: skipping)
    }

    func insert(_ job: StoredJob) async throws(JobStoreError) { try await base.insert(job) }
    func job(id: String) async throws(JobStoreError) -> StoredJob? { await base.job(id: id) }
    func jobs(owner: String, limit: Int, before: Date?) async throws(JobStoreError) -> [StoredJob] {
        await base.jobs(owner: owner, limit: limit, before: before)
    }
    func finish(id: String, state: JobState, output: Data?, error: String?, at: Date, keepUntil: Date)
        async throws(JobStoreError) -> Bool
    {
        await base.finish(id: id, state: state, output: output, error: error, at: at, keepUntil: keepUntil)
    }
    func cancel(id: String, at: Date, keepUntil: Date) async throws(JobStoreError) -> StoredJob? {
        await base.cancel(id: id, at: at, keepUntil: keepUntil)
    }
    func requeue(id: String, now: Date) async throws(JobStoreError) -> Bool { await base.requeue(id: id, now: now) }
    func purgeQueue(owner: String, at: Date, keepUntil: Date) async throws(JobStoreError) -> Int {
        await base.purgeQueue(owner: owner, at: at, keepUntil: keepUntil)
    }
    func expireQueued(now: Date, keepUntil: Date) async throws(JobStoreError) -> [String] {
        await base.expireQueued(now: now, keepUntil: keepUntil)
    }
    func recoverInterrupted(now: Date, maxStarts: Int, reason: String, keepUntil: Date) async throws(JobStoreError)
        -> (requeued: [String], failed: [String])
    {
        await base.recoverInterrupted(now: now, maxStarts: maxStarts, reason: reason, keepUntil: keepUntil)
    }
    func handBack(id: String) async throws(JobStoreError) -> Bool { await base.handBack(id: id) }
    func keep(id: String, until: Date) async throws(JobStoreError) { await base.keep(id: id, until: until) }
    func prune(now: Date) async throws(JobStoreError) -> Int { await base.prune(now: now) }
    func counts(owner: String?) async throws(JobStoreError) -> [JobState: Int] { await base.counts(owner: owner) }
    func attemptSeconds(owner: String, since: Date) async throws(JobStoreError) -> Int {
        await base.attemptSeconds(owner: owner, since: since)
    }
}
