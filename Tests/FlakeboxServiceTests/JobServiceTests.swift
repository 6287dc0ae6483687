import FlakeboxCore
import FlakeboxJobs
import Foundation
import Synchronization
import Testing

/// A stand-in engine: each job's input names what it does (`{"sleep": ms}` or `{"fail": true}`), and
/// every start and every cancellation it saw is recorded, so that the service's own logic (timeouts,
/// cancellation, shutdown, recovery, limits) is tested apart from the sandboxes.
final class ScriptedExecutor: JobExecutor {
    let started = Mutex<[String]>([])
    let cancelled = Mutex<[String]>([])
    let concurrent = Mutex<(now: Int, peak: Int)>((0, 0))

    func execute(_ job: StoredJob, progress: @escaping @Sendable (JobProgress) -> Void) async -> HandlerResult {
        started.withLock { $0.append(job.id) }
        concurrent.withLock {
            $0.now += 1
            $0.peak = max($0.peak, $0.now)
        }
        defer { concurrent.withLock { $0.now -= 1 } }
        let object = (try? JSONSerialization.jsonObject(with: job.input)) as? [String: Any] ?? [:]
        if object["fail"] as? Bool == true { return .failure("asked to fail") }
        let ms = object["sleep"] as? Int ?? 0
        do {
            try await Task.sleep(for: .milliseconds(ms))
        } catch {
            cancelled.withLock { $0.append(job.id) }
            return .output(Data(#"{"complete": false}"#.utf8))
        }
        return .output(Data(#"{"complete": true}"#.utf8))
    }
}

@Suite struct JobServiceTests {
    func job(_ id: String, owner: String = "k", _ input: String, timeoutMs: Int = 60_000) -> StoredJob {
        StoredJob(id: id, owner: owner, input: Data(input.utf8), policy: JobPolicy(executionTimeoutMs: timeoutMs))
    }

    func service(_ executor: ScriptedExecutor, store: MemoryJobStore = MemoryJobStore(), concurrency: Int = 1)
        -> JobService
    {
        JobService(
            store: store, executor: executor,
            configuration: .init(concurrency: concurrency, housekeepingInterval: .milliseconds(100)))
    }

    @Test("a job runs to COMPLETED with its output, delay and execution time")
    func completes() async throws {
        let executor = ScriptedExecutor()
        let jobs = service(executor)
        try await jobs.start()
        try await jobs.submit(job("a", #"{"sleep": 10}"#))
        await jobs.waitUntilFinal(id: "a", timeout: .seconds(30))
        let done = try #require(try await jobs.job(id: "a"))
        #expect(done.state == .completed)
        #expect(done.output == Data(#"{"complete": true}"#.utf8))
        #expect(done.executionTimeMs != nil && done.delayTimeMs != nil && done.keepUntil != nil)
        await jobs.shutdown(grace: .seconds(1))
    }

    @Test("a refused job is FAILED with the handler's message")
    func fails() async throws {
        let jobs = service(ScriptedExecutor())
        try await jobs.start()
        try await jobs.submit(job("a", #"{"fail": true}"#))
        await jobs.waitUntilFinal(id: "a", timeout: .seconds(30))
        let done = try #require(try await jobs.job(id: "a"))
        #expect(done.state == .failed && done.error == "asked to fail")
        #expect(try await jobs.retry(id: "a"))
        await jobs.waitUntilFinal(id: "a", timeout: .seconds(30))
        #expect(try await jobs.job(id: "a")?.retries == 1)
        await jobs.shutdown(grace: .seconds(1))
    }

    @Test("past its executionTimeout a job is cancelled and TIMED_OUT, keeping what it produced")
    func timesOut() async throws {
        let executor = ScriptedExecutor()
        let jobs = service(executor)
        try await jobs.start()
        try await jobs.submit(job("slow", #"{"sleep": 60000}"#, timeoutMs: 200))
        await jobs.waitUntilFinal(id: "slow", timeout: .seconds(30))
        let done = try #require(try await jobs.job(id: "slow"))
        #expect(done.state == .timedOut)
        #expect(done.output == Data(#"{"complete": false}"#.utf8))
        #expect(executor.cancelled.withLock { $0 } == ["slow"])
        await jobs.shutdown(grace: .seconds(1))
    }

    @Test("cancelling a running job cancels its task; the next job then starts")
    func cancelsRunning() async throws {
        let executor = ScriptedExecutor()
        let finished = Mutex<[String]>([])
        let jobs = service(executor)
        await jobs.setOnFinish { job in finished.withLock { $0.append("\(job.id):\(job.state.rawValue)") } }
        try await jobs.start()
        try await jobs.submit(job("long", #"{"sleep": 60000}"#))
        try await jobs.submit(job("next", #"{"sleep": 1}"#))
        while executor.started.withLock({ $0 }).isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try await jobs.cancel(id: "long")?.state == .cancelled)
        await jobs.waitUntilFinal(id: "next", timeout: .seconds(30))
        #expect(executor.cancelled.withLock { $0 } == ["long"])
        #expect(try await jobs.job(id: "long")?.state == .cancelled, "the late result does not overwrite it")
        #expect(finished.withLock { $0 } == ["long:CANCELLED", "next:COMPLETED"])
        #expect(try await jobs.cancel(id: "long")?.state == .cancelled, "a final job is returned unchanged")
        await jobs.shutdown(grace: .seconds(1))
    }

    @Test("shutdown lets a job finish within the grace, and hands back one that does not")
    func shutdownHandsBack() async throws {
        let executor = ScriptedExecutor()
        let store = MemoryJobStore()
        let jobs = service(executor, store: store, concurrency: 2)
        try await jobs.start()
        try await jobs.submit(job("quick", #"{"sleep": 50}"#))
        try await jobs.submit(job("long", #"{"sleep": 60000}"#))
        while executor.started.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(10)) }
        // A grace far above the quick job's 50 ms, so that a loaded machine still sees it finish;
        // the long one outlasts any grace.
        await jobs.shutdown(grace: .seconds(5))
        #expect(try await store.job(id: "quick")?.state == .completed)
        let long = try #require(try await store.job(id: "long"))
        #expect(long.state == .inQueue && long.starts == 0, "handed back, its start not counted")
        #expect(await jobs.isAccepting == false)
    }

    @Test("a restart runs an interrupted job again once, and fails it the second time with the reason")
    func recovery() async throws {
        let store = MemoryJobStore()
        try await store.insert(job("once", #"{"sleep": 1}"#))
        try await store.insert(job("twice", #"{"sleep": 1}"#))
        _ = await store.claimNext(now: Date(), skipping: [])
        _ = await store.claimNext(now: Date(), skipping: [])
        _ = await store.handBack(id: "twice")
        _ = await store.claimNext(now: Date(), skipping: [])
        // "twice" has been started twice over its life (a hand-back does not count): simulate that.
        let twice = try #require(try await store.job(id: "twice"))
        #expect(twice.starts == 1)
        let jobs = JobService(
            store: store, executor: ScriptedExecutor(), configuration: .init(maxStarts: 1))
        let recovered = try await jobs.start()
        #expect(Set(recovered.failed) == ["once", "twice"], "maxStarts 1: nothing runs again")
        #expect(await store.job(id: "once")?.error == JobService.interruptedTwiceReason)

        let store2 = MemoryJobStore()
        try await store2.insert(job("again", #"{"sleep": 1}"#))
        _ = await store2.claimNext(now: Date(), skipping: [])
        let jobs2 = JobService(store: store2, executor: ScriptedExecutor())
        #expect(try await jobs2.start().requeued == ["again"])
        await jobs2.waitUntilFinal(id: "again", timeout: .seconds(30))
        let again = try #require(try await store2.job(id: "again"))
        #expect(again.state == .completed && again.starts == 2)
        await jobs.shutdown(grace: .seconds(1))
        await jobs2.shutdown(grace: .seconds(1))
    }

    @Test("concurrency and a per-key running limit hold")
    func limits() async throws {
        let executor = ScriptedExecutor()
        let jobs = service(executor, concurrency: 3)
        await jobs.setRunningLimit { owner in owner == "a" ? 1 : nil }
        try await jobs.start()
        for i in 0..<4 { try await jobs.submit(job("a\(i)", owner: "a", #"{"sleep": 100}"#)) }
        for i in 0..<4 { try await jobs.submit(job("b\(i)", owner: "b", #"{"sleep": 100}"#)) }
        for i in 0..<4 {
            await jobs.waitUntilFinal(id: "a\(i)", timeout: .seconds(60))
            await jobs.waitUntilFinal(id: "b\(i)", timeout: .seconds(60))
        }
        #expect(executor.concurrent.withLock { $0.peak } <= 3)
        #expect(executor.started.withLock { $0.count } == 8)
        await jobs.shutdown(grace: .seconds(1))
    }

    @Test("a queued job past its ttl is TIMED_OUT without running")
    func ttlExpiry() async throws {
        let executor = ScriptedExecutor()
        let jobs = service(executor)
        try await jobs.start()
        try await jobs.submit(job("blocker", #"{"sleep": 1500}"#))
        var short = job("short", #"{"sleep": 1}"#)
        short.policy.ttlMs = 300
        try await jobs.submit(short)
        await jobs.waitUntilFinal(id: "short", timeout: .seconds(30))
        #expect(try await jobs.job(id: "short")?.state == .timedOut)
        #expect(!executor.started.withLock { $0 }.contains("short"))
        await jobs.shutdown(grace: .seconds(3))
    }

    @Test("claims still on their way count: submits arriving together never run more jobs than the concurrency")
    func claimsInFlightCount() async throws {
        let executor = ScriptedExecutor()
        let jobs = JobService(
            store: SlowClaimStore(claimDelay: .milliseconds(50)), executor: executor,
            configuration: .init(concurrency: 2, housekeepingInterval: .milliseconds(100)))
        try await jobs.start()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<8 {
                group.addTask { try await jobs.submit(self.job("j\(index)", #"{"sleep": 100}"#)) }
            }
            try await group.waitForAll()
        }
        for index in 0..<8 { await jobs.waitUntilFinal(id: "j\(index)", timeout: .seconds(60)) }
        #expect(executor.started.withLock { $0.count } == 8)
        #expect(executor.concurrent.withLock { $0.peak } == 2, "at most 2 at once")
        await jobs.shutdown(grace: .seconds(1))
    }
}
