import FlakeboxJobs
import FlakeboxService
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What only the SQLite file does: it outlives the process, survives one killed mid-write, is
/// private to its user, and refuses a schema it does not know.
@Suite struct SQLiteDatabaseTests {
    @Test("jobs and keys survive close and reopen")
    func survivesReopen() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("state/service.db")
        var database = try await ServiceDatabase.open(path: path)
        var job = storedJob("j1", owner: "key_1", at: 1, attemptSeconds: 42)
        job.webhook = "https://example.com/h"
        try await database.jobs.insert(job)
        try await database.jobs.insert(storedJob("j2", owner: "key_1", at: 2))
        let claimed = try #require(try await database.jobs.claimNext(now: t0, skipping: []))
        let key = APIKey(
            id: "key_1", name: "ci", secretHash: String(repeating: "f", count: 64), scopes: [.submit],
            webhookSecret: "whsec_x", createdAt: t0)
        try await database.keys.insert(key)
        try await database.close()

        database = try await ServiceDatabase.open(path: path)
        #expect(try await database.jobs.job(id: "j1") == claimed)
        #expect(try await database.jobs.job(id: "j2")?.state == .inQueue)
        #expect(try await database.keys.key(id: "key_1") == key)
        try await database.close()
    }

    @Test("two connections to one file claiming at once take every job exactly once")
    func twoConnectionsClaim() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("service.db")
        let first = try await ServiceDatabase.open(path: path)
        let second = try await ServiceDatabase.open(path: path)
        let count = 200
        for i in 0..<count {
            try await first.jobs.insert(storedJob("j\(i)", owner: "key_\(i % 7)", at: Double(i)))
        }
        // Each connection claims and finishes until the queue is empty; SQLite's write lock (with
        // busy_timeout) is all that keeps them from taking the same job.
        let claims = try await withThrowingTaskGroup(of: [String].self) { group in
            for database in [first, second] {
                group.addTask {
                    var mine: [String] = []
                    while let job = try await database.jobs.claimNext(now: t0, skipping: []) {
                        mine.append(job.id)
                        #expect(
                            try await database.jobs.finish(
                                id: job.id, state: .completed, output: nil, error: nil, at: t0, keepUntil: t0))
                    }
                    return mine
                }
            }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        let all = claims.flatMap { $0 }
        #expect(all.count == count && Set(all).count == count)
        #expect(try await second.jobs.counts(owner: nil) == [.completed: count])
        print("two connections claimed \(claims.map(\.count)) of \(count) jobs")
        try await first.close()
        try await second.close()
    }

    @Test("the directory is made 0700 and the database file (and its WAL) 0600")
    func filesArePrivate() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("made/service.db")
        let previous = umask(0o022)
        defer { umask(previous) }
        let database = try await ServiceDatabase.open(path: path)
        try await database.jobs.insert(storedJob("j"))
        #expect(try mode(directory.file("made")) == 0o700)
        #expect(try mode(path) == 0o600)
        #expect(try mode(path + "-wal") == 0o600, "SQLite gives the WAL the database's mode")
        try await database.close()
        // An existing file with a wider mode is narrowed at open.
        chmod(path, 0o644)
        let again = try await ServiceDatabase.open(path: path)
        #expect(try mode(path) == 0o600)
        try await again.close()
    }

    @Test(
        "a database killed (SIGKILL) mid-transaction opens consistent, with what was committed",
        .enabled(if: python3Available, "needs /usr/bin/python3 (its sqlite3 module plays the dying process)"))
    func survivesKilledWriter() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("service.db")
        let database = try await ServiceDatabase.open(path: path)
        try await database.jobs.insert(storedJob("committed", at: 1))
        try await database.close()

        // The child writes far more than its page cache holds (so uncommitted pages reach the
        // WAL), says so through a file, and waits in the transaction to be killed.
        let marker = directory.file("mid-transaction")
        let script = """
            import sqlite3, sys, time
            db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            db.execute("PRAGMA cache_size = 10")
            db.execute("BEGIN IMMEDIATE")
            db.execute("UPDATE jobs SET state = 'COMPLETED', output = randomblob(4000)")
            for i in range(3000):
                db.execute("INSERT INTO jobs (id, owner, input, execution_timeout_ms, ttl_ms, low_priority, state, "
                           "created_at, expires_at) VALUES (?, 'x', randomblob(2000), 1, 1, 0, 'IN_QUEUE', 0, 0)",
                           ("uncommitted-%d" % i,))
            open(sys.argv[2], "w").close()
            time.sleep(120)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, path, marker]
        try process.run()
        let deadline = ContinuousClock.now + .seconds(120)
        while !FileManager.default.fileExists(atPath: marker), process.isRunning, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(FileManager.default.fileExists(atPath: marker), "the child reached the middle of its transaction")
        let walBytes = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        kill(process.processIdentifier, SIGKILL)
        await waitForExit(process)
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
        #expect(walBytes > 1_000_000, "uncommitted pages were in the WAL when it died (\(walBytes) bytes)")

        let reopened = try await ServiceDatabase.open(path: path)
        #expect(try await reopened.jobs.job(id: "committed")?.state == .inQueue)
        #expect(try await reopened.jobs.job(id: "uncommitted-0") == nil)
        #expect(try await reopened.jobs.counts(owner: nil) == [.inQueue: 1])
        try await reopened.jobs.insert(storedJob("after", at: 2))
        try await reopened.close()
        let check = try await runPython(
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0])",
            [path])
        #expect(check.status == 0 && check.output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
    }

    @Test(
        "a database from a newer schema version is refused, and left as it was",
        .enabled(if: python3Available, "needs /usr/bin/python3 to write a newer user_version"))
    func refusesNewerSchema() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("service.db")
        try await ServiceDatabase.open(path: path).close()
        let version =
            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA user_version').fetchone()[0])"
        #expect(try await runPython(version, [path]).output.hasPrefix("1"), "a new file is migrated to version 1")
        let bump = try await runPython(
            "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.execute('PRAGMA user_version = 99'); db.close()",
            [path])
        #expect(bump.status == 0, "\(bump.output)")
        do {
            let database = try await ServiceDatabase.open(path: path)
            try await database.close()
            Issue.record("a database of schema version 99 was opened")
        } catch let error as ServiceDatabaseError {
            #expect(error.code == .newerSchema)
            #expect(error.message.contains("99"))
        }
        #expect(try await runPython(version, [path]).output.hasPrefix("99"))
    }

    @Test("claim+finish cycles per second on a file (printed; no assertion on the figure)")
    func claimFinishRate() async throws {
        for full in [true, false] {
            let directory = try TemporaryDirectory()
            defer { directory.remove() }
            let database = try await ServiceDatabase.open(
                path: directory.file("service.db"), options: .init(synchronousFull: full))
            let count = 300
            for i in 0..<count {
                try await database.jobs.insert(storedJob("j\(i)", owner: "key_\(i % 5)", at: Double(i)))
            }
            let clock = ContinuousClock()
            var cycles = 0
            let elapsed = try await clock.measure {
                while let job = try await database.jobs.claimNext(now: t0, skipping: []) {
                    let finished = try await database.jobs.finish(
                        id: job.id, state: .completed, output: Data("{}".utf8), error: nil, at: t0, keepUntil: t0)
                    if finished { cycles += 1 }
                }
            }
            try await database.close()
            #expect(cycles == count)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print(
                "SQLiteJobStore (synchronous=\(full ? "FULL" : "NORMAL")): \(cycles) claim+finish cycles in "
                    + "\(String(format: "%.2f", seconds)) s = \(Int(Double(cycles) / seconds)) per second")
        }
    }

    private func mode(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
    }

    private func waitForExit(_ process: Process) async {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        process.waitUntilExit()
    }
}
