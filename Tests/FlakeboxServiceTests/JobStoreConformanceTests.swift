import FlakeboxJobs
import FlakeboxService
import Foundation
import Testing

/// What every `JobStore` must do, run over the in-memory reference and the SQLite store alike.
@Suite struct JobStoreConformanceTests {
    let later = t0.addingTimeInterval(3_600)

    @Test("a job reads back as inserted; a second insert of its id is refused", arguments: StoreKind.allCases)
    func insertAndDuplicate(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            var job = storedJob("j1", owner: "key_1", at: 1.25, low: true, ttlMs: 20_000, attemptSeconds: 600)
            job.webhook = "https://example.com/hook"
            job.policy.executionTimeoutMs = 12_345
            job.input = Data(#"{"repo": "https://example.com/r.git", "runs": 3, "ünïcode": "✓"}"#.utf8)
            try await store.insert(job)
            #expect(try await store.job(id: "j1") == job)
            #expect(try await store.job(id: "nope") == nil)
            let error = await #expect(throws: JobStoreError.self) { try await store.insert(job) }
            #expect(error?.code == .duplicate)
        }
    }

    @Test("one key's hundred queued jobs do not starve another key's one", arguments: StoreKind.allCases)
    func fairness(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            for i in 0..<100 { try await store.insert(storedJob("a\(i)", owner: "a", at: Double(i))) }
            try await store.insert(storedJob("b0", owner: "b", at: 500))
            let first = try await store.claimNext(now: later, skipping: [])
            let second = try await store.claimNext(now: later, skipping: [])
            let third = try await store.claimNext(now: later, skipping: [])
            #expect(first?.id == "a0")
            #expect(second?.id == "b0", "b has nothing running, a has one: b goes next")
            #expect(third?.id == "a1")
            #expect(second?.state == .inProgress && second?.starts == 1 && second?.startedAt == later)
            #expect(try await store.job(id: "b0")?.state == .inProgress)
        }
    }

    @Test("low priority jobs go after the same key's others; skipped owners are left", arguments: StoreKind.allCases)
    func lowPriorityAndSkipping(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            try await store.insert(storedJob("low", owner: "a", at: 1, low: true))
            try await store.insert(storedJob("normal", owner: "a", at: 2))
            try await store.insert(storedJob("other", owner: "b", at: 3))
            #expect(try await store.claimNext(now: later, skipping: ["a"])?.id == "other")
            #expect(try await store.claimNext(now: later, skipping: ["a", "b"]) == nil)
            #expect(try await store.claimNext(now: later, skipping: [])?.id == "normal")
            #expect(try await store.claimNext(now: later, skipping: [])?.id == "low")
            #expect(try await store.claimNext(now: later, skipping: []) == nil)
        }
    }

    @Test("finish writes only over a job in progress", arguments: StoreKind.allCases)
    func finishFromInProgressOnly(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            try await store.insert(storedJob("j"))
            let keep = later.addingTimeInterval(1_800)
            #expect(
                try await !store.finish(id: "j", state: .completed, output: nil, error: nil, at: later, keepUntil: keep)
            )
            #expect(try await store.claimNext(now: later, skipping: [])?.id == "j")
            let output = Data(#"{"complete": true}"#.utf8)
            #expect(
                try await store.finish(
                    id: "j", state: .completed, output: output, error: nil, at: later, keepUntil: keep))
            #expect(
                try await !store.finish(id: "j", state: .failed, output: nil, error: "x", at: later, keepUntil: keep))
            #expect(
                try await !store.finish(id: "gone", state: .failed, output: nil, error: "x", at: later, keepUntil: keep)
            )
            let job = try #require(try await store.job(id: "j"))
            #expect(job.state == .completed && job.output == output && job.error == nil)
            #expect(job.finishedAt == later && job.keepUntil == keep && job.executionTimeMs == 0)
        }
    }

    @Test("cancel changes only a job not yet final, and returns it as it was", arguments: StoreKind.allCases)
    func cancelNonFinalOnly(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            try await store.insert(storedJob("running", at: 1))
            try await store.insert(storedJob("done", at: 2))
            #expect(try await store.claimNext(now: later, skipping: [])?.id == "running")
            #expect(try await store.claimNext(now: later, skipping: [])?.id == "done")
            #expect(
                try await store.finish(
                    id: "done", state: .completed, output: nil, error: nil, at: later, keepUntil: later))

            let before = try #require(try await store.cancel(id: "running", at: later, keepUntil: later))
            #expect(before.state == .inProgress && before.id == "running")
            let after = try #require(try await store.job(id: "running"))
            #expect(after.state == .cancelled && after.finishedAt == later && after.keepUntil == later)
            #expect(try await store.cancel(id: "running", at: later, keepUntil: later) == nil)
            #expect(try await store.cancel(id: "done", at: later, keepUntil: later) == nil)
            #expect(try await store.job(id: "done")?.state == .completed)
            #expect(try await store.cancel(id: "unknown", at: later, keepUntil: later) == nil)
            // A runner finishing a cancelled job loses.
            #expect(
                try await !store.finish(
                    id: "running", state: .completed, output: nil, error: nil, at: later, keepUntil: later))
        }
    }

    @Test("a queued job is cancelled as it was queued", arguments: StoreKind.allCases)
    func cancelQueued(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            try await store.insert(storedJob("q"))
            #expect(try await store.cancel(id: "q", at: later, keepUntil: later)?.state == .inQueue)
            #expect(try await store.job(id: "q")?.state == .cancelled)
            #expect(try await store.claimNext(now: later, skipping: []) == nil)
        }
    }

    @Test(
        "requeue takes only FAILED and TIMED_OUT jobs, counts the retry and drops the output",
        arguments: StoreKind.allCases)
    func requeueFailedOrTimedOutOnly(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            for (i, id) in ["failed", "timedOut", "completed", "queued"].enumerated() {
                try await store.insert(storedJob(id, at: Double(i)))
            }
            for (id, state) in [("failed", JobState.failed), ("timedOut", .timedOut), ("completed", .completed)] {
                #expect(try await store.claimNext(now: later, skipping: [])?.id == id)
                #expect(
                    try await store.finish(
                        id: id, state: state, output: Data("{}".utf8), error: "why", at: later, keepUntil: later))
            }
            #expect(try await store.requeue(id: "failed", now: later))
            #expect(try await store.requeue(id: "timedOut", now: later))
            #expect(try await !store.requeue(id: "completed", now: later))
            #expect(try await !store.requeue(id: "queued", now: later))
            #expect(try await !store.requeue(id: "unknown", now: later))
            let job = try #require(try await store.job(id: "failed"))
            #expect(job.state == .inQueue && job.retries == 1 && job.output == nil && job.error == nil)
            #expect(job.finishedAt == nil && job.keepUntil == nil && job.startedAt == nil)
            #expect(try await store.job(id: "completed")?.retries == 0)
            // Queued again, it is claimed again, and counted as a second start.
            #expect(try await store.claimNext(now: later, skipping: [])?.id == "failed")
            #expect(try await store.job(id: "failed")?.starts == 2)
        }
    }

    @Test("purge cancels only the owner's queued jobs", arguments: StoreKind.allCases)
    func purge(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            try await store.insert(storedJob("a-running", owner: "a", at: 0))
            try await store.insert(storedJob("a1", owner: "a", at: 1))
            try await store.insert(storedJob("a2", owner: "a", at: 2))
            try await store.insert(storedJob("b1", owner: "b", at: 3))
            #expect(try await store.claimNext(now: later, skipping: ["b"])?.id == "a-running")
            #expect(try await store.purgeQueue(owner: "a", at: later, keepUntil: later) == 2)
            #expect(try await store.job(id: "a1")?.state == .cancelled)
            #expect(try await store.job(id: "a2")?.keepUntil == later)
            #expect(try await store.job(id: "a-running")?.state == .inProgress)
            #expect(try await store.job(id: "b1")?.state == .inQueue)
            #expect(try await store.purgeQueue(owner: "a", at: later, keepUntil: later) == 0)
        }
    }

    @Test("a queued job past its ttl is TIMED_OUT; a running one is not", arguments: StoreKind.allCases)
    func ttlExpiry(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            try await store.insert(storedJob("short", at: 0, ttlMs: 10_000))
            try await store.insert(storedJob("long", at: 0, ttlMs: 60_000))
            try await store.insert(storedJob("running", owner: "b", at: 0, ttlMs: 10_000))
            #expect(try await store.claimNext(now: t0, skipping: ["a"])?.id == "running")
            #expect(try await store.expireQueued(now: t0.addingTimeInterval(5), keepUntil: later) == [])
            let expired = try await store.expireQueued(now: t0.addingTimeInterval(11), keepUntil: later)
            #expect(expired == ["short"])
            let job = try #require(try await store.job(id: "short"))
            #expect(job.state == .timedOut && job.error != nil && job.keepUntil == later)
            #expect(try await store.job(id: "long")?.state == .inQueue)
            #expect(try await store.job(id: "running")?.state == .inProgress)
        }
    }

    @Test(
        "recovery requeues jobs started fewer than maxStarts times and fails the others", arguments: StoreKind.allCases)
    func recoverInterrupted(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            try await store.insert(storedJob("once", at: 0))
            var twice = storedJob("twice", owner: "b", at: 1)
            twice.starts = 1
            try await store.insert(twice)
            try await store.insert(storedJob("queued", owner: "c", at: 2))
            #expect(try await store.claimNext(now: later, skipping: ["c"]) != nil)
            #expect(try await store.claimNext(now: later, skipping: ["c"]) != nil)
            let reason = "stopped twice"
            let recovered = try await store.recoverInterrupted(
                now: later, maxStarts: 2, reason: reason, keepUntil: later)
            #expect(recovered.requeued == ["once"])
            #expect(recovered.failed == ["twice"])
            let failed = try #require(try await store.job(id: "twice"))
            #expect(
                failed.state == .failed && failed.error == reason && failed.finishedAt == later && failed.starts == 2)
            let requeued = try #require(try await store.job(id: "once"))
            #expect(requeued.state == .inQueue && requeued.starts == 1)
            #expect(try await store.job(id: "queued")?.state == .inQueue)
            let again = try await store.recoverInterrupted(now: later, maxStarts: 2, reason: reason, keepUntil: later)
            #expect(again.requeued.isEmpty && again.failed.isEmpty)
        }
    }

    @Test("a job handed back is queued again without its start counted", arguments: StoreKind.allCases)
    func handBack(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            try await store.insert(storedJob("j"))
            #expect(try await !store.handBack(id: "j"))
            #expect(try await store.claimNext(now: later, skipping: [])?.starts == 1)
            #expect(try await store.handBack(id: "j"))
            let job = try #require(try await store.job(id: "j"))
            #expect(job.state == .inQueue && job.starts == 0 && job.startedAt == nil)
            #expect(try await !store.handBack(id: "j"))
            #expect(try await store.claimNext(now: later, skipping: [])?.id == "j")
        }
    }

    @Test(
        "keep moves a finished job's end; prune forgets finished jobs past it, never unfinished ones",
        arguments: StoreKind.allCases)
    func keepAndPrune(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            try await store.insert(storedJob("done", at: 0))
            try await store.insert(storedJob("queued", at: 1))
            _ = try await store.claimNext(now: t0, skipping: [])
            #expect(
                try await store.finish(
                    id: "done", state: .completed, output: nil, error: nil, at: t0, keepUntil: t0.addingTimeInterval(10)
                ))
            try await store.keep(id: "done", until: t0.addingTimeInterval(100))
            try await store.keep(id: "queued", until: t0.addingTimeInterval(1))
            #expect(try await store.job(id: "queued")?.keepUntil == nil)
            #expect(try await store.prune(now: t0.addingTimeInterval(50)) == 0)
            #expect(try await store.job(id: "done") != nil)
            #expect(try await store.prune(now: t0.addingTimeInterval(100)) == 1)
            #expect(try await store.job(id: "done") == nil)
            #expect(try await store.job(id: "queued")?.state == .inQueue)
            #expect(try await store.prune(now: t0.addingTimeInterval(1_000_000)) == 0)
        }
    }

    @Test("counts per state, for one owner or all; attempt-seconds since an instant", arguments: StoreKind.allCases)
    func countsAndAttemptSeconds(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            try await store.insert(storedJob("a1", owner: "a", at: 0, attemptSeconds: 100))
            try await store.insert(storedJob("a2", owner: "a", at: 10, attemptSeconds: 20))
            try await store.insert(storedJob("a3", owner: "a", at: 20, attemptSeconds: 3))
            try await store.insert(storedJob("b1", owner: "b", at: 30, attemptSeconds: 1_000))
            #expect(try await store.claimNext(now: later, skipping: ["b"])?.id == "a1")
            #expect(try await store.counts(owner: "a") == [.inProgress: 1, .inQueue: 2])
            #expect(try await store.counts(owner: "b") == [.inQueue: 1])
            #expect(try await store.counts(owner: nil) == [.inProgress: 1, .inQueue: 3])
            #expect(try await store.counts(owner: "nobody") == [:])
            #expect(try await store.attemptSeconds(owner: "a", since: t0) == 123)
            #expect(try await store.attemptSeconds(owner: "a", since: t0.addingTimeInterval(10)) == 23)
            #expect(try await store.attemptSeconds(owner: "a", since: later) == 0)
            #expect(try await store.attemptSeconds(owner: "b", since: t0) == 1_000)
        }
    }

    @Test("a key's jobs page newest first, before an instant", arguments: StoreKind.allCases)
    func paging(kind: StoreKind) async throws {
        try await withJobStore(kind) { store in
            for i in 1...5 { try await store.insert(storedJob("a\(i)", owner: "a", at: Double(i))) }
            try await store.insert(storedJob("b6", owner: "b", at: 6))
            let first = try await store.jobs(owner: "a", limit: 2, before: nil)
            #expect(first.map(\.id) == ["a5", "a4"])
            let next = try await store.jobs(owner: "a", limit: 2, before: first.last?.createdAt)
            #expect(next.map(\.id) == ["a3", "a2"])
            let last = try await store.jobs(owner: "a", limit: 2, before: next.last?.createdAt)
            #expect(last.map(\.id) == ["a1"])
            #expect(try await store.jobs(owner: "a", limit: 0, before: nil).isEmpty)
            #expect(try await store.jobs(owner: "b", limit: 10, before: nil).map(\.id) == ["b6"])
        }
    }
}
