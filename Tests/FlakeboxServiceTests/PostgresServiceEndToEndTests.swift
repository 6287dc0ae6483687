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
}
