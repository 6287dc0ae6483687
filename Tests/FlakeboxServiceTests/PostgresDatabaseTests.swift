import FlakeboxJobs
import FlakeboxService
import Foundation
import Testing

/// What only PostgreSQL has to show: nodes (pools) claiming at once, migrations under the
/// advisory lock, a newer schema refused, a password never shown. The store's semantics are the
/// conformance suites' (JobStoreConformanceTests, APIKeyStoreTests), which run over it too.
@Suite(.enabled(if: TestPostgres.available, Comment(rawValue: TestPostgres.skipReason)))
struct PostgresDatabaseTests {
    @Test("two nodes' pools claiming 200 jobs at once claim every job exactly once")
    func concurrentClaims() async throws {
        try await withPostgresSchema { schema in
            let first = try await ServiceDatabase.open(location: schema.url)
            let second = try await ServiceDatabase.open(location: schema.url)
            let owners = ["a", "b", "c", "d"]
            let claimed = try await first.withPool {
                try await second.withPool {
                    for i in 0..<200 {
                        try await first.jobs.insert(storedJob("j\(i)", owner: owners[i % 4], at: Double(i)))
                    }
                    let started = ContinuousClock.now
                    defer {
                        // A figure, not an assertion (scripts/bench-nodes.sh measures the nodes).
                        let seconds =
                            Double((ContinuousClock.now - started).components.attoseconds) / 1e18
                            + Double((ContinuousClock.now - started).components.seconds)
                        print(
                            "[flakebox tests] PostgreSQL: 200 claims by 8 claimers on 2 pools, \(Int(200 / seconds)) claims/s"
                        )
                    }
                    return try await withThrowingTaskGroup(of: [String].self) { group in
                        // Four claimers per node, each until the queue is empty.
                        for store in [first.jobs, second.jobs] {
                            for _ in 0..<4 {
                                group.addTask {
                                    var mine: [String] = []
                                    while let job = try await store.claimNext(now: t0, skipping: []) {
                                        mine.append(job.id)
                                    }
                                    return mine
                                }
                            }
                        }
                        var all: [String] = []
                        for try await ids in group { all += ids }
                        return all
                    }
                }
            }
            #expect(claimed.count == 200, "claimed \(claimed.count) times")
            #expect(Set(claimed).count == 200, "a job was claimed twice")
            let starts = try await TestPostgres.psql(
                "SELECT count(*) FILTER (WHERE state = 'IN_PROGRESS' AND starts = 1), count(*) FROM \(schema.name).jobs"
            )
            #expect(starts == "200|200")
        }
    }

    @Test("four nodes opening a new database at the same moment migrate it once, and share one report secret")
    func migrationsOnce() async throws {
        try await withPostgresSchema { schema in
            let opened = try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                for _ in 0..<4 { group.addTask { try await ServiceDatabase.open(location: schema.url).reportSecret } }
                var secrets: [[UInt8]?] = []
                for try await secret in group { secrets.append(secret) }
                return secrets
            }
            #expect(opened.count == 4)
            #expect(Set(opened.compactMap { $0 }).count == 1 && opened.allSatisfy { $0?.count == 32 })
            let versions = try await TestPostgres.psql(
                "SELECT string_agg(version || ':' || n, ',') FROM (SELECT version, count(*) AS n FROM "
                    + "\(schema.name).flakebox_schema GROUP BY version ORDER BY version) v")
            #expect(versions.hasPrefix("1:1"), "\(versions)")
            #expect(!versions.contains(":2"), "a version applied twice: \(versions)")
            // Opened again, nothing is applied and the data stays.
            let again = try await ServiceDatabase.open(location: schema.url)
            try await again.withPool { try await again.jobs.insert(storedJob("kept")) }
            let reopened = try await ServiceDatabase.open(location: schema.url)
            let kept = try await reopened.withPool { try await reopened.jobs.job(id: "kept") }
            #expect(kept?.id == "kept")
        }
    }

    @Test("a database with a newer schema than this flakebox knows is refused, and left as it was")
    func newerSchemaRefused() async throws {
        try await withPostgresSchema { schema in
            _ = try await ServiceDatabase.open(location: schema.url)
            try await TestPostgres.psql("INSERT INTO \(schema.name).flakebox_schema (version) VALUES (999)")
            let error = await #expect(throws: ServiceDatabaseError.self) {
                _ = try await ServiceDatabase.open(location: schema.url)
            }
            #expect(error?.code == .newerSchema, "\(String(describing: error))")
            #expect(error?.message.contains("999") == true)
            #expect(try await TestPostgres.psql("SELECT max(version) FROM \(schema.name).flakebox_schema") == "999")
        }
    }

    @Test("a refused password, or an unreachable server, is reported without the password")
    func passwordNeverShown() async throws {
        try await withPostgresSchema { schema in
            let error = await #expect(throws: ServiceDatabaseError.self) {
                _ = try await ServiceDatabase.open(location: schema.wrongPassword)
            }
            #expect(error?.code == .cannotOpen)
            #expect(error?.description.contains("wrong-secret-7f3a") == false, "\(String(describing: error))")
            #expect(error?.description.contains("***") == true, "\(String(describing: error))")
            let closed = "postgres://flakebox:closed-port-secret@127.0.0.1:1/flakebox?sslmode=disable"
            let unreachable = await #expect(throws: ServiceDatabaseError.self) {
                _ = try await ServiceDatabase.open(location: closed)
            }
            #expect(unreachable?.description.contains("closed-port-secret") == false)
            let url = try PostgresURL(schema.url)
            #expect(!url.description.contains(url.password ?? "-"))
            #expect(throws: ServiceDatabaseError.self) { try PostgresURL("postgres://host/db?sslmode=sometimes") }
        }
    }

    @Test("URLs are read as libpq reads them; PGPASSWORD stands in for a password left out")
    func urls() throws {
        let full = try PostgresURL("postgresql://fb:p%40ss@db.example:6543/jobs?sslmode=verify-full", environment: [:])
        #expect(full.endpoint == .tcp(host: "db.example", port: 6543) && full.user == "fb")
        #expect(full.password == "p@ss" && full.database == "jobs" && full.tls == .verifyFull)
        #expect(full.description == "postgres://fb:***@db.example:6543/jobs")
        let socket = try PostgresURL("postgres://fb@/jobs?host=/run/pg&port=5433", environment: ["PGPASSWORD": "env"])
        #expect(socket.endpoint == .socket(path: "/run/pg/.s.PGSQL.5433") && socket.password == "env")
        #expect(socket.tls == .prefer)
        #expect(throws: ServiceDatabaseError.self) { try PostgresURL("postgres://db.example/jobs", environment: [:]) }
        #expect(throws: ServiceDatabaseError.self) { try PostgresURL("postgres://u@h/d?schema=x", environment: [:]) }
    }
}
