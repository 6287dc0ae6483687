import FlakeboxService
import FlakeboxTestSupport
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `flakebox serve --database postgres://…` as a client sees it: the real binary, its key made
/// by `flakebox serve keys create` on the same URL, a job through `/runsync`.
@Suite(
    "flakebox serve on PostgreSQL end to end", .serialized,
    .enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipReason)),
    .enabled(if: ServiceTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct PostgresServiceEndToEndTests {
    @Test("runsync of a small job: the summary comes back, kept in PostgreSQL; the password is never printed")
    func runsync() async throws {
        try await withPostgresSchema { schema in
            let repo = try TestRepository(files: ["t.sh": "[ $((TEST_SEED % 3)) -ne 0 ]\n"])
            let service = try await ServiceHarness(database: schema.url)
            defer { service.removeFiles() }
            let key = try await service.createKey("ci")
            let body = ServiceHarness.text([
                "input": ["repo": repo.path, "test_command": "sh t.sh", "runs": 6, "parallelism": 3, "seed_start": 1]
            ])
            let reply = try await service.send(
                .POST, "/v2/flakebox/runsync?wait=120000", json: body, key: key.secret, timeout: 300)
            var json = try #require(reply.json, "\(reply)")
            if json["status"] as? String != "COMPLETED", let id = json["id"] as? String {
                // Still running when the wait ended (a loaded machine): follow it to its end.
                json = try await service.waitForFinal(id, key: key.secret)
            }
            #expect(json["status"] as? String == "COMPLETED", "\(json)")
            let output = try #require(json["output"] as? [String: Any], "\(json)")
            #expect(output["total_runs"] as? Int == 6)
            #expect(output["failures"] as? Int == 2)
            let id = try #require(json["id"] as? String)
            let stored = try await TestPostgres.psql(
                "SELECT state || '|' || starts FROM \(schema.name).jobs WHERE id = '\(id)'")
            #expect(stored == "COMPLETED|1")
            service.process.send(SIGTERM)
            #expect(await service.process.waitForExit(timeout: 60) == .exited(0), "\(service.process.logTail)")
            let password = try #require(try PostgresURL(schema.url).password)
            #expect(!service.process.stdout.contains(password) && !service.process.stderr.contains(password))
        }
    }

    /// The node that holds `id`'s lease, of `nodes` (by the pid in its node id), or nil.
    static func holder(of id: String, schema: TestPostgres.Schema, among nodes: [ServiceHarness]) async throws
        -> ServiceHarness?
    {
        let owner = try await TestPostgres.psql(
            "SELECT coalesce(lease_owner, '') FROM \(schema.name).jobs WHERE id = '\(id)'")
        return ServiceHarness.node(named: owner, among: nodes)
    }

    @Test(
        "two nodes on one database: kill -9 of the node running a job, the other runs it after the lease; a cancel sent to one node stops the job on the other"
    )
    func twoNodes() async throws {
        try await withPostgresSchema { schema in
            let marker = 42_000 + Int.random(in: 100...999)
            let repo = try TestRepository(files: ["slow.sh": "sleep 4\n", "hang.sh": "sleep \(marker)\n"])
            let lease = ["--lease-seconds", "3"]
            let a = try await ServiceHarness(arguments: lease, database: schema.url)
            let b = try await ServiceHarness(arguments: lease, database: schema.url)
            defer {
                a.removeFiles()
                b.removeFiles()
            }
            let key = try await a.createKey("ci")

            // A job submitted to one node; whichever claimed it is killed mid-job.
            let id = try await a.submit(["repo": repo.path, "test_command": "sh slow.sh", "runs": 1], key: key.secret)
            _ = try await b.waitForStatus(id, key: key.secret) { $0["status"] as? String == "IN_PROGRESS" }
            let running = try #require(try await Self.holder(of: id, schema: schema, among: [a, b]), "no lease holder")
            let survivor = running === a ? b : a
            running.process.kill()
            _ = await running.process.waitForExit(timeout: 60)
            let final = try await survivor.waitForFinal(id, key: key.secret)
            #expect(final["status"] as? String == "COMPLETED", "\(final)")
            #expect((final["output"] as? [String: Any])?["total_runs"] as? Int == 1, "\(final)")
            let starts = try await TestPostgres.psql("SELECT starts FROM \(schema.name).jobs WHERE id = '\(id)'")
            #expect(starts == "2", "the job ran on both nodes: \(starts) starts")

            // A third node; a job running on one of the two is cancelled through the other.
            let c = try await ServiceHarness(arguments: lease, database: schema.url)
            defer { c.removeFiles() }
            let hang = try await survivor.submit(
                ["repo": repo.path, "test_command": "sh hang.sh", "runs": 1], key: key.secret)
            _ = try await c.waitForStatus(hang, key: key.secret) { $0["status"] as? String == "IN_PROGRESS" }
            let holder = try #require(try await Self.holder(of: hang, schema: schema, among: [survivor, c]))
            let other = holder === c ? survivor : c
            let deadline = ContinuousClock.now + .seconds(60)
            while ServiceHarness.processes(containing: "sleep \(marker)").isEmpty, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(!ServiceHarness.processes(containing: "sleep \(marker)").isEmpty, "the job's sandbox never started")
            let cancelled = try await other.send(.POST, "/v2/flakebox/cancel/\(hang)", key: key.secret)
            #expect(cancelled.json?["status"] as? String == "CANCELLED", "\(cancelled)")
            // The holder learns it when renewing its lease (every second here) and kills the sandbox.
            let gone = ContinuousClock.now + .seconds(30)
            while !ServiceHarness.processes(containing: "sleep \(marker)").isEmpty, ContinuousClock.now < gone {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(
                ServiceHarness.processes(containing: "sleep \(marker)").isEmpty,
                "the cancelled job's sandbox still runs on the other node")
            for node in [survivor, c] { node.process.send(SIGTERM) }
            for node in [survivor, c] { _ = await node.process.waitForExit(timeout: 60) }
        }
    }

    @Test(
        "an idle node is woken by another node's job (NOTIFY): it claims it long before it would look by itself; a cancel reaches the runner at once too"
    )
    func notifyWakes() async throws {
        try await withPostgresSchema { schema in
            let marker = 43_000 + Int.random(in: 100...999)
            let repo = try TestRepository(files: ["hang.sh": "sleep \(marker)\n"])
            // Neither node looks for work on its own within the test: only a notification wakes it.
            let quiet = ["--lease-seconds", "1200", "--poll-seconds", "1200"]
            let a = try await ServiceHarness(arguments: quiet, database: schema.url)
            let b = try await ServiceHarness(arguments: quiet, database: schema.url)
            defer {
                a.removeFiles()
                b.removeFiles()
            }
            let key = try await a.createKey("ci")
            let input: [String: Any] = ["repo": repo.path, "test_command": "sh hang.sh", "runs": 1]
            let first = try await a.submit(input, key: key.secret)
            _ = try await a.waitForStatus(first, key: key.secret) { $0["status"] as? String == "IN_PROGRESS" }
            // Either node may take the first (the other is notified of it too); the busy one then
            // gets the second, which can only start on the idle one, and only by a notification.
            let busy = try #require(try await Self.holder(of: first, schema: schema, among: [a, b]))
            let idle = busy === a ? b : a
            let second = try await busy.submit(input, key: key.secret)
            _ = try await idle.waitForStatus(second, key: key.secret, timeout: 120) {
                $0["status"] as? String == "IN_PROGRESS"
            }
            let holder = try await Self.holder(of: second, schema: schema, among: [a, b])
            #expect(holder === idle, "the second job should run on the idle node")
            let started = ContinuousClock.now + .seconds(60)
            while ServiceHarness.processes(containing: "sleep \(marker)").count < 2, ContinuousClock.now < started {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(ServiceHarness.processes(containing: "sleep \(marker)").count == 2, "both jobs' sandboxes")
            // Each job cancelled through the node that does not run it: the runner hears of it at once
            // (a notification), not at its next lease renewal (400 s away here).
            for (id, through, left) in [(first, idle, 1), (second, busy, 0)] {
                _ = try await through.send(.POST, "/v2/flakebox/cancel/\(id)", key: key.secret)
                let deadline = ContinuousClock.now + .seconds(20)
                while ServiceHarness.processes(containing: "sleep \(marker)").count > left,
                    ContinuousClock.now < deadline
                {
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(
                    ServiceHarness.processes(containing: "sleep \(marker)").count == left,
                    "a job cancelled on one node still runs on the other")
            }
            for node in [a, b] { node.process.send(SIGTERM) }
            for node in [a, b] { _ = await node.process.waitForExit(timeout: 60) }
        }
    }
}
