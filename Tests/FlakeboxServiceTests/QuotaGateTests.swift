import FlakeboxCore
import FlakeboxJobs
import FlakeboxService
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// Each quota refused over HTTP (429, `Retry-After`, the quota named), on a real server.
@Suite struct QuotaGateTests {
    func key(_ quotas: APIKey.Quotas) -> (key: APIKey, secret: String) {
        APIKeySecret.newKey(name: "ci", scopes: [.submit, .read], quotas: quotas)
    }

    func expectRefused(_ reply: TestResponse, quota: String, retryAfter: ClosedRange<Int>? = nil) {
        #expect(reply.status == .tooManyRequests)
        let seconds = reply.headers[.retryAfter].flatMap { Int($0) }
        #expect(seconds != nil && seconds! > 0, "Retry-After: \(reply.headers[.retryAfter] ?? "none")")
        if let retryAfter, let seconds { #expect(retryAfter.contains(seconds), "Retry-After \(seconds)") }
        #expect(errorText(reply.body)?.contains(quota) == true, "\(errorText(reply.body) ?? "no error")")
    }

    @Test("attempt-seconds are runs × the per-attempt timeout, the policy's when none is given")
    func attemptSeconds() throws {
        let input = try JobInput.parse(
            json: Data(
                #"{"repo": "https://example.com/r.git", "test_command": "true", "runs": 7, "timeout_s": 2.5}"#.utf8),
            origin: .remote)
        #expect(QuotaGate.attemptSeconds(of: input) == 21)
        let defaulted = try JobInput.parse(
            json: Data(#"{"repo": "https://example.com/r.git", "test_command": "true", "runs": 3}"#.utf8),
            origin: .remote)
        #expect(QuotaGate.attemptSeconds(of: defaulted) == 1_800)
    }

    @Test("over maxQueued: 429; a started job makes room")
    func maxQueued() async throws {
        let made = key(.init(maxQueued: 2))
        let jobs = MemoryJobStore(limits: .init(maxQueued: 100))
        try await makeAuthApp(keys: MemoryAPIKeyStore([made.key]), jobs: jobs).app.test(.live) { client in
            for _ in 0..<2 {
                let reply = try await client.execute(
                    uri: "/v2/flakebox/run", method: .post, headers: bearer(made.secret),
                    body: runBody(runs: 1, timeout: 10))
                #expect(reply.status == .ok)
            }
            let refused = try await client.execute(
                uri: "/v2/flakebox/run", method: .post, headers: bearer(made.secret),
                body: runBody(runs: 1, timeout: 10))
            expectRefused(refused, quota: "maxQueued")
            #expect(try await jobs.counts(owner: made.key.id) == [.inQueue: 2])
            _ = await jobs.claimNext(now: Date(), skipping: [])
            let after = try await client.execute(
                uri: "/v2/flakebox/run", method: .post, headers: bearer(made.secret),
                body: runBody(runs: 1, timeout: 10))
            #expect(after.status == .ok)
        }
    }

    @Test("over maxAttemptSecondsPerJob: 429, nothing queued")
    func perJob() async throws {
        let made = key(.init(maxAttemptSecondsPerJob: 500))
        let jobs = MemoryJobStore()
        try await makeAuthApp(keys: MemoryAPIKeyStore([made.key]), jobs: jobs).app.test(.live) { client in
            let refused = try await client.execute(
                uri: "/v2/flakebox/run", method: .post, headers: bearer(made.secret),
                body: runBody(runs: 10, timeout: 60))
            expectRefused(refused, quota: "maxAttemptSecondsPerJob")
            #expect(try await jobs.counts(owner: nil).isEmpty)
            let fits = try await client.execute(
                uri: "/v2/flakebox/run", method: .post, headers: bearer(made.secret),
                body: runBody(runs: 10, timeout: 50))
            #expect(fits.status == .ok)
        }
    }

    @Test("over maxAttemptSecondsPerDay: 429, Retry-After until the day's first job leaves the window")
    func perDay() async throws {
        let made = key(.init(maxAttemptSecondsPerJob: 1_000, maxAttemptSecondsPerDay: 1_500))
        let jobs = MemoryJobStore()
        // A job of two hours ago counts; one of 25 hours ago does not.
        try await jobs.insert(
            StoredJob(
                id: "old", owner: made.key.id, input: Data("{}".utf8), createdAt: Date().addingTimeInterval(-7_200),
                attemptSeconds: 1_000))
        try await jobs.insert(
            StoredJob(
                id: "older", owner: made.key.id, input: Data("{}".utf8),
                createdAt: Date().addingTimeInterval(-90_000), attemptSeconds: 1_000))
        try await makeAuthApp(keys: MemoryAPIKeyStore([made.key]), jobs: jobs).app.test(.live) { client in
            let fits = try await client.execute(
                uri: "/v2/flakebox/run", method: .post, headers: bearer(made.secret),
                body: runBody(runs: 5, timeout: 100))
            #expect(fits.status == .ok, "1000 + 500 is the limit, not over it")
            let refused = try await client.execute(
                uri: "/v2/flakebox/run", method: .post, headers: bearer(made.secret),
                body: runBody(runs: 1, timeout: 100))
            // The two-hour-old job leaves the window in 22 hours (79 200 s); that frees enough.
            expectRefused(refused, quota: "maxAttemptSecondsPerDay", retryAfter: 79_000...79_300)
        }
    }

    @Test("over maxSyncWaits: 429 while the key's runsync waits; released, it passes again")
    func syncWaits() async throws {
        let made = key(.init(maxSyncWaits: 1))
        let latch = Latch()
        let (app, gate) = makeAuthApp(keys: MemoryAPIKeyStore([made.key]), latch: latch)
        // AsyncHTTPClient: a connection per request in flight (the live client has one connection,
        // which would queue the second request behind the first).
        try await app.test(.ahc(.http)) { client in
            async let first = client.execute(uri: "/v2/flakebox/runsync", method: .post, headers: bearer(made.secret))
            let deadline = ContinuousClock.now + .seconds(60)
            while await gate.syncWaitCount(keyID: made.key.id) == 0, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            let refused = try await client.execute(
                uri: "/v2/flakebox/runsync", method: .post, headers: bearer(made.secret))
            expectRefused(refused, quota: "maxSyncWaits")
            await latch.release()
            #expect(try await first.status == .ok)
            #expect(await gate.syncWaitCount(keyID: made.key.id) == 0)
            let again = try await client.execute(
                uri: "/v2/flakebox/runsync", method: .post, headers: bearer(made.secret))
            #expect(again.status == .ok)
        }
    }

    @Test("eight submits at once against maxQueued 1 queue exactly one (SQLite store)")
    func concurrentSubmits() async throws {
        let made = key(.init(maxQueued: 1))
        try await withDatabase { database in
            try await database.keys.insert(made.key)
            let (app, _) = makeAuthApp(keys: database.keys, jobs: database.jobs)
            // AsyncHTTPClient: requests on connections of their own, so they reach the gate at once;
            // eight, its connections per host, so that none waits for the pool (a loaded machine's
            // slow submits made a twentieth time out there).
            try await app.test(.ahc(.http)) { client in
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            try await client.execute(
                                uri: "/v2/flakebox/run", method: .post, headers: bearer(made.secret),
                                body: runBody(runs: 1, timeout: 10)
                            ).status
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == .ok }.count == 1)
                #expect(statuses.filter { $0 == .tooManyRequests }.count == 7)
            }
            #expect(try await database.jobs.counts(owner: made.key.id) == [.inQueue: 1])
        }
    }

    @Test("the running limit: claiming skips a key at its maxRunning")
    func runningLimit() async throws {
        let made = key(.init(maxRunning: 1))
        let store = MemoryJobStore()
        let gate = QuotaGate(jobs: store)
        let executor = ScriptedExecutor()
        let service = JobService(
            store: store, executor: executor,
            configuration: .init(concurrency: 3, housekeepingInterval: .milliseconds(100)))
        await service.setRunningLimit(gate.runningLimit)
        gate.remember([made.key])
        try await service.start()
        for i in 0..<3 {
            try await gate.submit(key: made.key, attemptSeconds: 1) {
                try await service.submit(
                    StoredJob(
                        id: "j\(i)", owner: made.key.id, input: Data(#"{"sleep": 200}"#.utf8),
                        createdAt: Date().addingTimeInterval(Double(i))))
            }
        }
        try await service.submit(StoredJob(id: "other", owner: "key_other", input: Data(#"{"sleep": 200}"#.utf8)))
        for id in ["j0", "j1", "j2", "other"] { await service.waitUntilFinal(id: id, timeout: .seconds(60)) }
        for id in ["j0", "j1", "j2", "other"] { #expect(try await service.job(id: id)?.state == .completed) }
        #expect(executor.concurrent.withLock { $0.peak } == 2, "one of the key's jobs and the other key's at once")
        await service.shutdown(grace: .seconds(1))
    }
}
