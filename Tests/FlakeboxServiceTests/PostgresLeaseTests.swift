import FlakeboxJobs
import FlakeboxService
import Foundation
import Testing

/// Fenced leases on the PostgreSQL store: a node that lost its lease cannot renew it nor write a
/// result over the next holder's.
@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipReason)))
struct PostgresLeaseTests {
    @Test("a finish or renewal with an old fence is refused; the current holder's is taken")
    func staleFenceRefused() async throws {
        try await withPostgresDatabase { database in
            let store = try #require(database.jobs as? PostgresJobStore)
            try await store.insert(storedJob("j"))
            let first = try #require(
                try await store.claimNext(now: t0, skipping: [], holder: "node-1", duration: .seconds(30)))
            // Leases run by the database's clock, not by the `now` a node passes (t0 is years away).
            let claimed = Date()
            #expect(first.lease.holder == "node-1")
            #expect(abs(first.lease.expires.timeIntervalSince(claimed) - 30) < 5, "\(first.lease.expires)")
            #expect(try await store.renewLease(id: "j", fence: first.lease.fence, duration: .seconds(60)))
            let renewed = try #require(try await store.lease(id: "j")).expires
            #expect(abs(renewed.timeIntervalSince(claimed) - 60) < 5, "\(renewed)")
            // Not expired by the database's clock, whatever the node's says.
            let swept = try await store.requeueExpired(
                now: t0.addingTimeInterval(86_400 * 365), maxStarts: 2, reason: "", keepUntil: t0)
            #expect(swept.requeued.isEmpty && swept.failed.isEmpty)
            // node-1 stalls; its job goes back to the queue (as an expired lease will) and node-2 takes it.
            #expect(try await store.handBack(id: "j"))
            let second = try #require(
                try await store.claimNext(now: t0, skipping: [], holder: "node-2", duration: .seconds(30)))
            #expect(second.lease.fence > first.lease.fence)
            let keep = t0.addingTimeInterval(3_600)
            #expect(
                try await !store.finish(
                    id: "j", fence: first.lease.fence, state: .completed, output: Data("{\"stale\": 1}".utf8),
                    error: nil, at: t0, keepUntil: keep))
            #expect(try await !store.renewLease(id: "j", fence: first.lease.fence, duration: .seconds(60)))
            #expect(try await store.job(id: "j")?.state == .inProgress)
            #expect(try await store.lease(id: "j")?.holder == "node-2")
            let output = Data("{\"current\": 2}".utf8)
            #expect(
                try await store.finish(
                    id: "j", fence: second.lease.fence, state: .completed, output: output, error: nil, at: t0,
                    keepUntil: keep))
            let job = try #require(try await store.job(id: "j"))
            #expect(job.state == .completed && job.output == output)
            // A plain claim bumps the fence too.
            try await store.insert(storedJob("k", at: 1))
            _ = try await store.claimNext(now: t0, skipping: [])
            #expect(
                try await !store.finish(
                    id: "k", fence: 0, state: .completed, output: nil, error: nil, at: t0, keepUntil: keep))
            // A lease that ran out by the database's clock is swept, though the node's `now` is long before.
            try await store.insert(storedJob("m", at: 2))
            let short = try #require(
                try await store.claimNext(now: t0, skipping: [], holder: "node-3", duration: .milliseconds(200)))
            #expect(short.job.id == "m")
            try await Task.sleep(for: .milliseconds(600))
            let ranOut = try await store.requeueExpired(now: t0, maxStarts: 2, reason: "", keepUntil: keep)
            #expect(ranOut.requeued == ["m"])
        }
    }

    @Test(
        "a split replaces the job by queued shards only for its lease's holder; shards are hidden, settled, cancelled and pruned with it"
    )
    func splitShards() async throws {
        try await withPostgresDatabase { database in
            let store = try #require(database.jobs as? PostgresJobStore)
            let keep = t0.addingTimeInterval(3_600)
            try await store.insert(storedJob("p"))
            let claim = try #require(
                try await store.claimNext(now: t0, skipping: [], holder: "node-1", duration: .seconds(30)))
            let shards = (1...3).map { StoredJob(id: "p-\($0)", owner: "a", input: Data("{}".utf8), parentID: "p") }
            #expect(try await !store.split(id: "p", fence: claim.lease.fence + 1, shards: shards))
            #expect(try await store.shards(of: "p", withOutputs: true).isEmpty)
            #expect(try await store.split(id: "p", fence: claim.lease.fence, shards: shards))
            #expect(try await store.shards(of: "p", withOutputs: true).map(\.id) == ["p-1", "p-2", "p-3"])
            #expect(try await store.lease(id: "p") == nil)
            // The parent is no one's to claim, take back or hand back; its shards are everyone's.
            #expect(try await !store.handBack(id: "p"))
            #expect(
                try await store.requeueExpired(now: keep, maxStarts: 2, reason: "", keepUntil: keep).requeued.isEmpty)
            #expect(try await store.jobs(owner: "a", limit: 10, before: nil).map(\.id) == ["p"])
            #expect(try await store.counts(owner: "a") == [.inProgress: 1])
            var claimed: [String] = []
            while let next = try await store.claimNext(now: t0, skipping: [], holder: "node-2", duration: .seconds(30))
            {
                claimed.append(next.job.id)
                #expect(next.job.parentID == "p")
                _ = try await store.finish(
                    id: next.job.id, fence: next.lease.fence, state: .completed, output: Data("{}".utf8), error: nil,
                    at: t0, keepUntil: t0)
                #expect(try await store.unsettledSplits() == (claimed.count == 3 ? ["p"] : []))
            }
            #expect(claimed == ["p-1", "p-2", "p-3"])
            // Shards are pruned with their job, not before it.
            #expect(try await store.prune(now: keep) == 0)
            #expect(try await store.shards(of: "p", withOutputs: true).allSatisfy { $0.output == Data("{}".utf8) })
            #expect(try await store.shards(of: "p", withOutputs: false).map(\.output) == [nil, nil, nil])
            #expect(try await store.finish(id: "p", state: .completed, output: nil, error: nil, at: t0, keepUntil: t0))
            #expect(try await store.prune(now: keep) == 1)
            #expect(try await store.shards(of: "p", withOutputs: true).isEmpty)

            // A cancelled job's shards are cancelled with it; a failed shard makes its job unsettled.
            try await store.insert(storedJob("q", at: 1))
            let second = try #require(
                try await store.claimNext(now: t0, skipping: [], holder: "node-1", duration: .seconds(30)))
            let parts = (1...2).map { StoredJob(id: "q-\($0)", owner: "a", input: Data("{}".utf8), parentID: "q") }
            #expect(try await store.split(id: "q", fence: second.lease.fence, shards: parts))
            let running = try #require(
                try await store.claimNext(now: t0, skipping: [], holder: "node-2", duration: .seconds(30)))
            #expect(
                try await store.finish(
                    id: running.job.id, fence: running.lease.fence, state: .failed, output: nil, error: "boom", at: t0,
                    keepUntil: keep))
            #expect(try await store.unsettledSplits() == ["q"])
            #expect(try await store.cancel(id: "q", at: t0, keepUntil: keep)?.state == .inProgress)
            #expect(try await store.shards(of: "q", withOutputs: true).map(\.state) == [.failed, .cancelled])

            // A split job that failed and is retried is a whole job again until it is split anew.
            try await store.insert(storedJob("r", at: 2))
            let third = try #require(
                try await store.claimNext(now: t0, skipping: [], holder: "node-1", duration: .seconds(30)))
            #expect(third.job.id == "r")
            let old = [StoredJob(id: "r-1", owner: "a", input: Data("{}".utf8), parentID: "r")]
            #expect(try await store.split(id: "r", fence: third.lease.fence, shards: old))
            #expect(try await store.cancelShards(of: "r", at: t0, keepUntil: keep) == 1)
            #expect(try await store.finish(id: "r", state: .failed, output: nil, error: "x", at: t0, keepUntil: keep))
            #expect(try await store.requeue(id: "r", now: t0))
            let again = try #require(
                try await store.claimNext(now: t0, skipping: [], holder: "node-1", duration: .seconds(30)))
            #expect(again.job.id == "r")
            #expect(try await store.handBack(id: "r"))
            let last = try #require(
                try await store.claimNext(now: t0, skipping: [], holder: "node-1", duration: .seconds(30)))
            #expect(last.job.id == "r")
            let new = (1...2).map { StoredJob(id: "r-new-\($0)", owner: "a", input: Data("{}".utf8), parentID: "r") }
            #expect(try await store.split(id: "r", fence: last.lease.fence, shards: new))
            #expect(try await store.shards(of: "r", withOutputs: true).map(\.id) == ["r-new-1", "r-new-2"])
        }
    }

    @Test("a key's maxRunning counts every node's claims: 8 claimers at once take exactly its 3 slots")
    func runningLimitAcrossNodes() async throws {
        try await withPostgresDatabase { database in
            let store = try #require(database.jobs as? PostgresJobStore)
            try await database.keys.insert(
                APIKey(
                    id: "a", name: "a", secretHash: String(repeating: "a", count: 64), scopes: [.submit, .read],
                    quotas: .init(maxRunning: 3), webhookSecret: "whsec_a", createdAt: t0))
            for index in 0..<20 { try await store.insert(storedJob("j\(index)", at: Double(index))) }
            // A key the database does not know is not limited.
            for index in 0..<2 { try await store.insert(storedJob("u\(index)", owner: "unknown", at: Double(index))) }
            let claimed = try await withThrowingTaskGroup(of: [String].self) { group in
                for claimer in 0..<8 {
                    group.addTask {
                        var mine: [String] = []
                        while let lease = try await store.claimNext(
                            now: t0, skipping: [], holder: "node-\(claimer)", duration: .seconds(30))
                        {
                            mine.append(lease.job.id)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.filter { $0.hasPrefix("j") }.sorted() == ["j0", "j1", "j2"], "\(claimed)")
            #expect(claimed.filter { $0.hasPrefix("u") }.sorted() == ["u0", "u1"], "\(claimed)")
            // A slot freed on one node is taken on another.
            let lease = try #require(try await store.lease(id: "j1"))
            #expect(
                try await store.finish(
                    id: "j1", fence: lease.fence, state: .completed, output: nil, error: nil, at: t0, keepUntil: t0))
            let next = try await store.claimNext(now: t0, skipping: [], holder: "node-9", duration: .seconds(30))
            #expect(next?.job.id == "j3")
            #expect(try await store.claimNext(now: t0, skipping: [], holder: "node-9", duration: .seconds(30)) == nil)
        }
    }
}
