import FlakeboxJobs
import FlakeboxService
import Foundation
import Testing

/// The job engine over the SQLite store: what `flakebox serve` runs.
@Suite struct SQLiteJobServiceTests {
    @Test("a job runs to COMPLETED through JobService over the SQLite store")
    func completes() async throws {
        try await withDatabase { database in
            let jobs = JobService(
                store: database.jobs, executor: ScriptedExecutor(),
                configuration: .init(housekeepingInterval: .milliseconds(100)))
            try await jobs.start()
            try await jobs.submit(StoredJob(id: "a", owner: "key_1", input: Data(#"{"sleep": 10}"#.utf8)))
            await jobs.waitUntilFinal(id: "a", timeout: .seconds(60))
            let done = try #require(try await database.jobs.job(id: "a"))
            #expect(done.state == .completed && done.output == Data(#"{"complete": true}"#.utf8))
            #expect(done.starts == 1 && done.keepUntil != nil)
            await jobs.shutdown(grace: .seconds(1))
        }
    }

    @Test("a job a dead service left running is run again by the next start on the same file")
    func recoversAfterRestart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("service.db")
        // The "dead" service: it claimed the job and never finished it.
        let before = try await ServiceDatabase.open(path: path)
        try await before.jobs.insert(StoredJob(id: "a", owner: "key_1", input: Data(#"{"sleep": 10}"#.utf8)))
        #expect(try await before.jobs.claimNext(now: Date(), skipping: [])?.id == "a")
        try await before.close()

        let after = try await ServiceDatabase.open(path: path)
        let jobs = JobService(
            store: after.jobs, executor: ScriptedExecutor(),
            configuration: .init(housekeepingInterval: .milliseconds(100)))
        let recovery = try await jobs.start()
        #expect(recovery.requeued == ["a"] && recovery.failed.isEmpty)
        await jobs.waitUntilFinal(id: "a", timeout: .seconds(60))
        let done = try #require(try await after.jobs.job(id: "a"))
        #expect(done.state == .completed && done.starts == 2)
        await jobs.shutdown(grace: .seconds(1))
        try await after.close()
    }
}
