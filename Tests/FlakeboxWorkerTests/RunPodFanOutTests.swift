import FlakeboxCore
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `flakebox run --runpod-endpoint EP --shards K` against a stand-in of RunPod's client API.
@Suite("RunPod fan-out from the CLI", .serialized)
struct RunPodFanOutTests {
    static let url = "https://git.example/flaky.git"
    static let script = """
        echo "checking seed $TEST_SEED"
        if [ $((TEST_SEED % 5)) -eq 0 ]; then echo "AssertionError: balance was $((TEST_SEED % 9)) not 3" >&2; exit 1; fi
        if [ $((TEST_SEED % 7)) -eq 0 ]; then echo "ConnectionError: peer reset" >&2; exit 2; fi
        """

    /// The CLI fanning the job out to `standIn`; the ref is resolved in `repo` (the stand-in's jobs
    /// run on it in place of the URL; a debug build's `FLAKEBOX_DEBUG_PIN_REPOSITORY`).
    func fanOut(_ standIn: EndpointStandIn, repo: TestRepository, key: String = "test-key", extra: [String] = [])
        throws -> FlakeboxProcess
    {
        try FlakeboxProcess(
            arguments: [
                "run", "--repo", Self.url, "--runs", "12", "--seed-start", "100", "--parallelism", "2", "--rerun",
                "0", "--json", "--runpod-endpoint", "EP", "--shards", "3", "--runpod-api-url", standIn.baseURL,
            ] + extra + ["--", "sh", "check.sh"],
            environment: [
                "RUNPOD_API_KEY": key, "PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(),
                "FLAKEBOX_DEBUG_PIN_REPOSITORY": repo.path,
            ],
            directory: NSTemporaryDirectory())
    }

    /// The summary without what carries time or a measurement (see FlakeboxCoreTests' `TimeFree`).
    static func timeFree(_ data: Data) throws -> String {
        func strip(_ value: Any) -> Any {
            if var object = value as? [String: Any] {
                for key in ["timings", "durations_s", "duration_s", "cpu_s", "peak_memory_bytes", "memory_budget"] {
                    object[key] = nil
                }
                if var truncation = object["truncation"] as? [String: Any] {
                    truncation["json_bytes"] = nil
                    truncation["sentence"] = nil
                    object["truncation"] = truncation
                }
                return object.mapValues(strip)
            }
            if let array = value as? [Any] { return array.map(strip) }
            return value
        }
        let object = strip(try JSONSerialization.jsonObject(with: data))
        let text = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: text, as: UTF8.self)
    }

    @Test(
        "three shards on the endpoint, one failing once and retried, merge into the local unsplit run's summary",
        .enabled(if: WorkerTestMachine.fullTier, "needs the full isolation tier to run the shards"))
    func mergedEqualsLocal() async throws {
        let repo = try TestRepository(files: ["check.sh": Self.script + "\n"])
        let head = try repo.head()
        let standIn = try await EndpointStandIn.start(repositories: [Self.url: repo.path], failures: [104: 1])
        let process = try fanOut(standIn, repo: repo)
        let termination = await process.waitForExit(timeout: 300)
        let inputs = await standIn.submissions()
        await standIn.shutdown()
        #expect(termination == .exited(1), "\(process.stderr)")
        // Three shards of 4 runs, the one at seed 104 twice.
        #expect(inputs.map(\.seedStart) == [100, 104, 108, 104])
        #expect(inputs.allSatisfy { $0.runs == 4 && $0.repo == Self.url && $0.ref == head }, "\(inputs)")

        var local = JobInput(repo: repo.path, testCommand: "sh check.sh", runs: 12, parallelism: 2, seedStart: 100)
        local.rerun = 0
        let unsplit = try await JobRunner().run(local, origin: .commandLine)
        let merged = try Self.timeFree(Data(process.stdout.utf8))
        #expect(merged == (try Self.timeFree(unsplit.encodedJSON())))
        let summary = try JSONDecoder().decode(JobSummary.self, from: Data(process.stdout.utf8))
        #expect(summary.failingSeeds == [100, 105, 110])
        #expect(summary.totalRuns == 12 && summary.verdict == .flaky)
    }

    @Test(
        "every shard gets the commit the branch named before any was submitted, though it moves after",
        .enabled(if: WorkerTestMachine.fullTier, "needs the full isolation tier to run the shards"))
    func refPinned() async throws {
        let repo = try TestRepository(files: ["check.sh": Self.script + "\n"])
        let head = try repo.head()
        let standIn = try await EndpointStandIn.start(
            repositories: [Self.url: repo.path],
            onFirstJob: {
                // A push after the ref was resolved, before any shard clones: every attempt of
                // the new commit would fail.
                try? Data("exit 1\n".utf8).write(to: URL(fileURLWithPath: repo.path + "/check.sh"))
                try? repo.commitAll(message: "pushed meanwhile")
            })
        let process = try fanOut(standIn, repo: repo)
        let termination = await process.waitForExit(timeout: 300)
        let inputs = await standIn.submissions()
        await standIn.shutdown()
        #expect(try repo.head() != head, "the branch moved")
        #expect(termination == .exited(1), "\(process.stderr)")
        #expect(inputs.count == 3 && inputs.allSatisfy { $0.ref == head }, "\(inputs)")
        let summary = try JSONDecoder().decode(JobSummary.self, from: Data(process.stdout.utf8))
        #expect(summary.commit == head)
        #expect(summary.failingSeeds == [100, 105, 110] && summary.totalRuns == 12)
    }

    @Test(
        "SIGINT cancels every shard's job on the endpoint, then exits 130",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox binary"))
    func interruptCancelsShards() async throws {
        let repo = try TestRepository(files: ["check.sh": "true\n"])
        let standIn = try await EndpointStandIn.start(mode: .hold)
        let process = try fanOut(standIn, repo: repo)
        var waited = 0
        while await standIn.submitted.count < 3, waited < 600, process.termination == nil {
            try await Task.sleep(for: .milliseconds(100))
            waited += 1
        }
        // Submitted, and followed a little (an IN_PROGRESS progress object comes back).
        try await Task.sleep(for: .seconds(1))
        process.send(SIGINT)
        let termination = await process.waitForExit(timeout: 60)
        let submitted = await standIn.submitted
        let cancelled = await standIn.cancelled
        await standIn.shutdown()
        #expect(submitted.count == 3, "\(process.stderr)")
        #expect(termination == .exited(128 + SIGINT), "\(process.stderr)")
        #expect(cancelled.sorted() == submitted.sorted())
        #expect(process.stderr.contains("every shard's RunPod job was cancelled"), "\(process.stderr)")
    }

    @Test(
        "a shard whose jobs keep failing is tried three times; the others are cancelled; exit 3",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox binary"))
    func retriesRunOut() async throws {
        let repo = try TestRepository(files: ["check.sh": "true\n"])
        let standIn = try await EndpointStandIn.start(mode: .hold, failures: [108: 5])
        let process = try fanOut(standIn, repo: repo)
        let termination = await process.waitForExit(timeout: 120)
        let inputs = await standIn.submissions()
        let submitted = await standIn.submitted
        let cancelled = await standIn.cancelled
        await standIn.shutdown()
        #expect(termination == .exited(3), "\(process.stderr)")
        #expect(inputs.map(\.seedStart) == [100, 104, 108, 108, 108])
        #expect(process.stderr.contains("the shard of seeds 108–111 failed 3 times"), "\(process.stderr)")
        #expect(process.stderr.contains("worker exited unexpectedly"))
        #expect(cancelled.sorted() == Array(submitted.prefix(2)).sorted(), "the held shards are cancelled")
    }

    @Test(
        "a shard whose clone fails ends the fan-out with git's error, exit 3, and is not tried again",
        .enabled(if: WorkerTestMachine.fullTier, "needs the full isolation tier to start the shards' jobs"))
    func cloneFails() async throws {
        let repo = try TestRepository(files: ["check.sh": "true\n"])
        // The ref resolves, but the workers clone a path that is no repository.
        let standIn = try await EndpointStandIn.start(repositories: [Self.url: repo.path + "-gone"])
        let process = try fanOut(standIn, repo: repo)
        let termination = await process.waitForExit(timeout: 120)
        let submitted = await standIn.submitted
        await standIn.shutdown()
        #expect(termination == .exited(3), "\(process.stderr)")
        #expect(submitted.count == 3, "a shard was submitted again: \(submitted)")
        #expect(process.stderr.contains("ended with a job error"), "\(process.stderr)")
        #expect(process.stderr.contains("fetch_failed: "), "\(process.stderr)")
        #expect(!process.stderr.contains("times; the last job"), "\(process.stderr)")
    }

    @Test(
        "a job the workers refuse (invalid job input) ends the fan-out with their words, exit 3, no retry",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox binary"))
    func inputRefused() async throws {
        let repo = try TestRepository(files: ["check.sh": "true\n"])
        // The handler of a production worker: the local path the URL maps to is refused.
        let standIn = try await EndpointStandIn.start(repositories: [Self.url: repo.path], allowLocal: false)
        let process = try fanOut(standIn, repo: repo)
        let termination = await process.waitForExit(timeout: 120)
        let submitted = await standIn.submitted
        await standIn.shutdown()
        #expect(termination == .exited(3), "\(process.stderr)")
        #expect(submitted.count == 3, "a shard was submitted again: \(submitted)")
        #expect(process.stderr.contains("ended with a job error"), "\(process.stderr)")
        #expect(process.stderr.contains("invalid job input: repo"), "\(process.stderr)")
    }

    @Test(
        "a key the endpoint refuses (401) is a clear error, exit 3",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox binary"))
    func badKey() async throws {
        let repo = try TestRepository(files: ["check.sh": "true\n"])
        let standIn = try await EndpointStandIn.start(key: "the-right-key")
        let process = try fanOut(standIn, repo: repo, key: "a-wrong-key")
        let termination = await process.waitForExit(timeout: 60)
        let submitted = await standIn.submitted
        let refused = await standIn.unauthorized
        await standIn.shutdown()
        #expect(termination == .exited(3))
        #expect(process.stderr.contains("RunPod refused the API key (HTTP 401)"), "\(process.stderr)")
        #expect(process.stderr.contains("RUNPOD_API_KEY"))
        #expect(!process.stderr.contains("a-wrong-key"), "the key is never printed")
        #expect(submitted.isEmpty && refused == 1)
    }

    @Test(
        "a key flag and a local repository are refused before anything is sent",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox binary"))
    func refusals() async throws {
        let standIn = try await EndpointStandIn.start()
        let repo = try TestRepository(files: ["check.sh": "true\n"])
        let flag = try fanOut(standIn, repo: repo, extra: ["--runpod-api-key", "secret"])
        #expect(await flag.waitForExit(timeout: 60) == .exited(64))
        #expect(flag.stderr.contains("set RUNPOD_API_KEY instead"), "\(flag.stderr)")
        let local = try FlakeboxProcess(
            arguments: [
                "run", "--repo", repo.path, "--runpod-endpoint", "EP", "--runpod-api-url", standIn.baseURL, "--",
                "true",
            ],
            environment: ["RUNPOD_API_KEY": "test-key", "PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()],
            directory: NSTemporaryDirectory())
        #expect(await local.waitForExit(timeout: 60) == .exited(64))
        #expect(local.stderr.contains("a local path is refused"), "\(local.stderr)")
        #expect(await standIn.submitted.isEmpty)
        await standIn.shutdown()
    }
}
