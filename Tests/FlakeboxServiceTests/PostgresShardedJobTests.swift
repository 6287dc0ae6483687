import FlakeboxService
import FlakeboxTestSupport
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One job over three `flakebox serve` nodes on one PostgreSQL database: cut into shards that any
/// node claims, merged into the summary the job run whole gives.
@Suite(
    "one job split over three service nodes", .serialized,
    .enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipReason)),
    .enabled(if: ServiceTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct PostgresShardedJobTests {
    static func nodes(_ schema: TestPostgres.Schema, shardRuns: Int, count: Int = 3) async throws -> [ServiceHarness] {
        var nodes: [ServiceHarness] = []
        for _ in 0..<count {
            nodes.append(
                try await ServiceHarness(
                    arguments: ["--lease-seconds", "6", "--shard-runs", String(shardRuns)], database: schema.url))
        }
        return nodes
    }

    static func psqlWait(
        _ sql: String, schema: TestPostgres.Schema, timeout: Double = 120, until done: (String) -> Bool
    ) async throws -> String {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        var last = ""
        while ContinuousClock.now < deadline {
            last = try await TestPostgres.psql(sql)
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        let jobs = try await TestPostgres.psql(
            "SELECT string_agg(concat_ws(' ', id, state, starts, lease_owner, error), E'\\n' ORDER BY seq) FROM \(schema.name).jobs"
        )
        throw ProcessError(message: "never true of \(sql): last \(last); the jobs:\n\(jobs)")
    }

    @Test(
        "200 runs in 8 shards on 3 nodes, one killed with kill -9 mid-shard: `flakebox run`'s summary but for time, every seed once; progress on any node"
    )
    func splitAndKill() async throws {
        try await withPostgresSchema { schema in
            // Seed 1150 (the 7th shard's) takes 6 s: that shard's node is killed while it runs.
            let repo = try TestRepository(files: [
                "t.sh": "[ \"$TEST_SEED\" = 1150 ] && sleep 6\n[ $((TEST_SEED % 7)) -ne 0 ]\n"
            ])
            let nodes = try await Self.nodes(schema, shardRuns: 25)
            defer { for node in nodes { node.removeFiles() } }
            let key = try await nodes[0].createKey("ci")
            let input: [String: Any] = [
                "repo": repo.path, "test_command": "sh t.sh", "runs": 200, "parallelism": 2, "seed_start": 1000,
            ]
            let id = try await nodes[0].submit(input, key: key.secret)
            let shards = "\(schema.name).jobs WHERE parent_id = '\(id)'"
            let owner = try await Self.psqlWait(
                "SELECT coalesce(lease_owner, '') FROM \(schema.name).jobs WHERE id = '\(id)-7' AND state = 'IN_PROGRESS'",
                schema: schema
            ) { !$0.isEmpty }
            let victim = try #require(ServiceHarness.node(named: owner, among: nodes), "no node holds \(owner)")
            try await Task.sleep(for: .seconds(1))
            victim.process.kill()
            _ = await victim.process.waitForExit(timeout: 60)
            let survivors = nodes.filter { $0 !== victim }
            // While the 7th shard waits for its lease to run out and runs again (6 s at least), the
            // job's progress on any node counts the other shards' runs, recorded by their nodes.
            let status = try await survivors[0].waitForStatus(id, key: key.secret, timeout: 60) { json in
                ((json["output"] as? [String: Any])?["completed"] as? Int ?? 0) >= 25
            }
            let progress = try #require(status["output"] as? [String: Any], "\(status)")
            #expect(status["status"] as? String == "IN_PROGRESS" && progress["total"] as? Int == 200, "\(status)")

            let final = try await survivors[0].waitForFinal(id, key: key.secret, timeout: 600)
            #expect(final["status"] as? String == "COMPLETED", "\(final)")
            let output = try #require(final["output"] as? [String: Any], "\(final)")
            #expect(output["total_runs"] as? Int == 200)
            let seeds = (output["results"] as? [[String: Any]] ?? []).compactMap { ($0["seed"] as? NSNumber)?.intValue }
            #expect(seeds.sorted() == Array(1000..<1200), "every seed once: \(seeds.count) results")
            let failing = (output["failing_seeds"] as? [NSNumber] ?? []).map(\.intValue)
            #expect(failing.sorted() == (1000..<1200).filter { $0 % 7 == 0 }, "\(failing)")
            let starts = try await TestPostgres.psql(
                "SELECT string_agg(state || ':' || starts, ',' ORDER BY seq) FROM \(shards)")
            #expect(
                starts == (1...8).map { $0 == 7 ? "COMPLETED:2" : "COMPLETED:1" }.joined(separator: ","),
                "the killed node's shard runs again elsewhere, the others once: \(starts)")
            let holders = try await TestPostgres.psql(
                "SELECT count(DISTINCT lease_owner) FROM \(schema.name).jobs WHERE parent_id = '\(id)'")
            #expect(holders == "0", "finished shards hold no lease: \(holders)")

            // The same job run whole by `flakebox run`.
            let jobFile = survivors[0].directory + "/job.json"
            try Data(ServiceHarness.text(input).utf8).write(to: URL(fileURLWithPath: jobFile))
            let run = try await ServiceHarness.flakebox(
                ["run", "--input", jobFile, "--committed-only", "--json", "--quiet"], in: survivors[0].directory)
            let whole = try #require(try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)), "\(run)")
            #expect(
                sameJSON(output, whole),
                "nodes:\n\(ServiceHarness.text(timeless(output)))\nrun:\n\(ServiceHarness.text(timeless(whole)))")
            for node in survivors { node.process.send(SIGTERM) }
            for node in survivors { _ = await node.process.waitForExit(timeout: 60) }
        }
    }

    @Test(
        "a cancel sent to one node stops the job's shards on all three, and the job ends CANCELLED; /status sums their progress"
    )
    func cancelEverywhere() async throws {
        try await withPostgresSchema { schema in
            let marker = 44_000 + Int.random(in: 100...999)
            let repo = try TestRepository(files: ["hang.sh": "sleep \(marker)\n"])
            let nodes = try await Self.nodes(schema, shardRuns: 1)
            defer { for node in nodes { node.removeFiles() } }
            let key = try await nodes[0].createKey("ci", quotas: ["max-running": 3])
            let id = try await nodes[0].submit(
                ["repo": repo.path, "test_command": "sh hang.sh", "runs": 3], key: key.secret)
            // Each node (concurrency 1) runs one of the three shards.
            let owners = try await Self.psqlWait(
                """
                SELECT count(DISTINCT lease_owner) FROM \(schema.name).jobs
                WHERE parent_id = '\(id)' AND state = 'IN_PROGRESS'
                """, schema: schema
            ) { $0 == "3" }
            #expect(owners == "3")
            let deadline = ContinuousClock.now + .seconds(60)
            while ServiceHarness.processes(containing: "sleep \(marker)").count < 3, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(ServiceHarness.processes(containing: "sleep \(marker)").count == 3, "three shards' sandboxes")
            // Any node's /status sums the shards' progress, as their nodes recorded it.
            let status = try await nodes[2].waitForStatus(id, key: key.secret, timeout: 30) { json in
                let output = json["output"] as? [String: Any]
                return output?["running"] as? Int == 3
            }
            let progress = try #require(status["output"] as? [String: Any], "\(status)")
            #expect(progress["total"] as? Int == 3 && progress["completed"] as? Int == 0, "\(progress)")
            let cancelled = try await nodes[1].send(.POST, "/v2/flakebox/cancel/\(id)", key: key.secret)
            #expect(cancelled.json?["status"] as? String == "CANCELLED", "\(cancelled)")
            let gone = ContinuousClock.now + .seconds(30)
            while !ServiceHarness.processes(containing: "sleep \(marker)").isEmpty, ContinuousClock.now < gone {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(
                ServiceHarness.processes(containing: "sleep \(marker)").isEmpty, "a shard's sandbox still runs")
            let states = try await TestPostgres.psql(
                "SELECT string_agg(DISTINCT state, ',') FROM \(schema.name).jobs WHERE id = '\(id)' OR parent_id = '\(id)'"
            )
            #expect(states == "CANCELLED", "\(states)")
            for node in nodes { node.process.send(SIGTERM) }
            for node in nodes { #expect(await node.process.waitForExit(timeout: 60) == .exited(0)) }
        }
    }

    @Test(
        "a node stopped past its lease loses the job to another; continued, it writes nothing: the result is the other node's run"
    )
    func stalledNodeWritesNothing() async throws {
        try await withPostgresSchema { schema in
            // The attempt prints when it started: the result says which node's run it is.
            let repo = try TestRepository(files: ["t.sh": "date +%s.%N\nsleep 5\n"])
            let nodes = try await Self.nodes(schema, shardRuns: 0, count: 2)
            defer { for node in nodes { node.removeFiles() } }
            let key = try await nodes[0].createKey("ci")
            let id = try await nodes[0].submit(
                ["repo": repo.path, "test_command": "sh t.sh", "runs": 1], key: key.secret)
            let table = "\(schema.name).jobs WHERE id = '\(id)'"
            let owner = try await Self.psqlWait(
                "SELECT coalesce(lease_owner, '') FROM \(table) AND state = 'IN_PROGRESS'", schema: schema
            ) { !$0.isEmpty }
            let stalled = try #require(ServiceHarness.node(named: owner, among: nodes), "no node holds \(owner)")
            let other = try #require(nodes.first { $0 !== stalled })
            try await Task.sleep(for: .seconds(1))
            stalled.process.send(SIGSTOP)
            // Its lease runs out; the other node claims the job (a new fence) and runs it again.
            let claimed = try await Self.psqlWait(
                "SELECT starts || ' ' || started_at FROM \(table) AND lease_owner NOT LIKE '%-\(stalled.process.pid)-%'",
                schema: schema
            ) { $0.hasPrefix("2 ") }
            let secondStart = try #require(Double(claimed.split(separator: " ")[1])) + 978_307_200
            stalled.process.send(SIGCONT)
            let final = try await other.waitForFinal(id, key: key.secret)
            #expect(final["status"] as? String == "COMPLETED", "\(final)")
            let output = try #require(final["output"] as? [String: Any], "\(final)")
            let stdout = (output["results"] as? [[String: Any]])?.first?["stdout"] as? String ?? ""
            let started = try #require(Double(stdout.split(separator: "\n").first.map(String.init) ?? ""), "\(output)")
            #expect(
                started >= secondStart - 0.5,
                "the result is from a run started at \(started), before the second claim at \(secondStart): the stalled node wrote it"
            )
            #expect(try await TestPostgres.psql("SELECT starts FROM \(table)") == "2")
            for node in nodes { node.process.send(SIGTERM) }
            for node in nodes { _ = await node.process.waitForExit(timeout: 60) }
        }
    }
}
