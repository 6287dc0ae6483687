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
            #expect(first.lease.holder == "node-1" && first.lease.expires == t0.addingTimeInterval(30))
            #expect(try await store.renewLease(id: "j", fence: first.lease.fence, until: t0.addingTimeInterval(60)))
            #expect(try await store.lease(id: "j")?.expires == t0.addingTimeInterval(60))
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
            #expect(try await !store.renewLease(id: "j", fence: first.lease.fence, until: keep))
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
        }
    }
}
