import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `flakebox run` leaves no checkout behind: SIGTERM and SIGINT stop the job and remove it before
/// the process exits; what a `kill -9` leaves is removed by the next job that starts.
@Suite(
    "flakebox run: nothing left behind",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct CommandLineCleanupTests {
    /// A `flakebox run` of a test that sleeps, with its own TMPDIR (so its own work root).
    final class RunningJob {
        let process = Process()
        let workRoot: String
        let exit: AsyncStream<Int32>

        init(repo: String, tmp: String, seconds: Int = 600) throws {
            workRoot = "\(tmp)/flakebox-jobs-\(getuid())"
            process.executableURL = HelperLocator.executableDirectory().appendingPathComponent("flakebox")
            process.arguments = [
                "run", "--repo", repo, "--runs", "2", "--parallelism", "2", "--json", "--", "sleep \(seconds)",
            ]
            process.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "TMPDIR": tmp + "/", "HOME": tmp]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
            exit = stream
            process.terminationHandler = { continuation.yield($0.terminationStatus) }
            try process.run()
        }

        var pid: pid_t { process.processIdentifier }

        func exitStatus() async -> Int32 {
            for await status in exit { return status }
            return -1
        }

        /// The job directories under `workRoot`.
        static func jobDirectories(_ workRoot: String) -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: workRoot)) ?? []).filter { $0.hasPrefix("job-") }
        }

        /// Waits until the job's checkout exists and its attempts have had time to start, then sends
        /// `signal`, all on a thread of its own (the cooperative pool may be busy with other suites).
        func signalOnceStarted(_ signal: Int32) async -> Bool {
            let root = workRoot
            let pid = self.pid
            return await onOwnThread {
                for _ in 0..<1200 {
                    if let job = RunningJob.jobDirectories(root).first,
                        FileManager.default.fileExists(atPath: "\(root)/\(job)/checkout/t.txt")
                    {
                        usleep(1_500_000)
                        kill(pid, signal)
                        return true
                    }
                    usleep(100_000)
                }
                kill(pid, signal)
                return false
            }
        }
    }

    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "flakebox-cleanup-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        chmod(path, 0o755)
        return path
    }

    @Test(
        "SIGTERM and SIGINT: the job stops, its checkout is removed, the exit code is 128 + signal",
        arguments: [SIGTERM, SIGINT])
    func signalled(signal: Int32) async throws {
        let repo = try TestRepository(files: ["t.txt": "x\n"])
        let tmp = Self.temporaryDirectory()
        defer { WorkspaceFiles.removeTree(tmp) }
        let job = try RunningJob(repo: repo.path, tmp: tmp)
        #expect(await job.signalOnceStarted(signal), "the job's checkout never appeared")
        #expect(await job.exitStatus() == 128 + signal)
        let left = RunningJob.jobDirectories(job.workRoot)
        #expect(left.isEmpty, "left behind: \(left)")
    }

    @Test("kill -9: the next job removes the dead supervisor's checkout")
    func killed() async throws {
        let repo = try TestRepository(files: ["t.txt": "x\n"])
        let tmp = Self.temporaryDirectory()
        defer { WorkspaceFiles.removeTree(tmp) }
        let job = try RunningJob(repo: repo.path, tmp: tmp)
        #expect(await job.signalOnceStarted(SIGKILL), "the job's checkout never appeared")
        _ = await job.exitStatus()
        let orphaned = RunningJob.jobDirectories(job.workRoot)
        #expect(orphaned.count == 1, "a killed run cannot clean up: \(orphaned)")
        let next = try RunningJob(repo: repo.path, tmp: tmp, seconds: 0)
        #expect(await next.exitStatus() == 0)
        let left = RunningJob.jobDirectories(job.workRoot)
        #expect(left.isEmpty, "still there: \(left)")
    }
}
