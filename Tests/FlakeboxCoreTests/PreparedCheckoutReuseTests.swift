import FlakeboxCore
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

/// Jobs that take their checkout from the cache: a replay starts without cloning or setting up.
@Suite(
    "Prepared checkouts: reuse by jobs",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct PreparedCheckoutReuseTests {
    private static func runner(cacheRoot: String, includeWorkingTree: Bool = false) -> JobRunner {
        var options = JobRunner.Options()
        options.preparedCache = PreparedCheckoutCache(root: cacheRoot)
        options.includeWorkingTree = includeWorkingTree
        options.checkSeedControl = false
        return JobRunner(options: options)
    }

    private static func summary(_ runner: JobRunner, _ input: JobInput) async throws -> [String: Any] {
        let summary = try await runner.run(input, origin: .commandLine)
        return try #require(try JSONSerialization.jsonObject(with: summary.encodedJSON()) as? [String: Any])
    }

    private static func cached(_ summary: [String: Any]) -> Bool? {
        (summary["timings"] as? [String: Any])?["checkout_cached"] as? Bool
    }

    /// What every attempt printed (the setup's stamp), as a set.
    private static func outputs(_ summary: [String: Any]) -> Set<String> {
        Set(results(summary).compactMap { $0["stdout"] as? String })
    }

    @Test("the same commit and setup reuse the prepared checkout, even with the repository gone")
    func reuse() async throws {
        let cacheRoot = NSTemporaryDirectory() + "flakebox-cache-test-\(UUID().uuidString.prefix(8))"
        defer { WorkspaceFiles.removeTree(cacheRoot) }
        var repo: TestRepository? = try TestRepository(files: ["check.sh": "cat stamp\n"])
        let path = try #require(repo?.path)
        // Setup leaves a stamp no second setup could repeat.
        var input = JobInput(
            repo: path, testCommand: "sh check.sh", runs: 2, parallelism: 2,
            setupCommand: "cat /proc/sys/kernel/random/uuid > stamp")
        let runner = Self.runner(cacheRoot: cacheRoot)

        let first = try await Self.summary(runner, input)
        #expect(Self.cached(first) == false)
        let stamp = Self.outputs(first)
        #expect(stamp.count == 1 && stamp.first?.count == 37, "\(stamp)")

        let second = try await Self.summary(runner, input)
        #expect(Self.cached(second) == true)
        #expect(Self.outputs(second) == stamp, "setup ran again")
        #expect((second["setup"] as? [String: Any])?["command"] as? String != nil, "setup's report is kept")

        // A replay names the commit in full: found without fetching, so the repository may be gone.
        let commit = try #require(first["commit"] as? String)
        repo = nil
        #expect(!FileManager.default.fileExists(atPath: path))
        input.ref = commit
        let replay = try await Self.summary(runner, input)
        #expect(Self.cached(replay) == true)
        #expect(Self.outputs(replay) == stamp)

        // Another setup is another checkout (and, the repository gone, cannot be made).
        input.setupCommand = "echo other > stamp"
        await #expect(throws: JobError.self) { try await Self.summary(runner, input) }
    }

    @Test("a reused checkout's summary says what of the working tree was taken, as a fresh one's does")
    func workingTreeRecorded() async throws {
        let cacheRoot = NSTemporaryDirectory() + "flakebox-cache-test-\(UUID().uuidString.prefix(8))"
        defer { WorkspaceFiles.removeTree(cacheRoot) }
        let repo = try TestRepository(files: ["check.sh": "cat note\n", "note": "committed\n"])
        let input = JobInput(repo: repo.path, testCommand: "sh check.sh", runs: 1, parallelism: 1)
        let runner = Self.runner(cacheRoot: cacheRoot, includeWorkingTree: true)
        let fresh = try await Self.summary(runner, input)
        let reused = try await Self.summary(runner, input)
        #expect(Self.cached(fresh) == false && Self.cached(reused) == true)
        let taken = try #require(fresh["working_tree"] as? [String: Any], "\(fresh["working_tree"] ?? "absent")")
        #expect(taken["base_commit"] as? String == fresh["commit"] as? String)
        #expect(taken["copied_files"] as? Int == 0 && taken["deleted_files"] as? Int == 0)
        let again = try #require(reused["working_tree"] as? [String: Any], "\(reused["working_tree"] ?? "absent")")
        #expect(NSDictionary(dictionary: again).isEqual(to: taken), "\(again) vs \(taken)")
    }

    @Test("a working tree with changes is neither reused nor kept")
    func workingTree() async throws {
        let cacheRoot = NSTemporaryDirectory() + "flakebox-cache-test-\(UUID().uuidString.prefix(8))"
        defer { WorkspaceFiles.removeTree(cacheRoot) }
        let repo = try TestRepository(files: ["check.sh": "cat note\n", "note": "committed\n"])
        let input = JobInput(repo: repo.path, testCommand: "sh check.sh", runs: 1, parallelism: 1)
        let runner = Self.runner(cacheRoot: cacheRoot, includeWorkingTree: true)
        _ = try await Self.summary(runner, input)  // clean: kept
        try Data("changed\n".utf8).write(to: URL(fileURLWithPath: "\(repo.path)/note"))
        let changed = try await Self.summary(runner, input)
        #expect(Self.cached(changed) == false)
        #expect(Self.outputs(changed) == ["changed\n"])
        let entries = try FileManager.default.contentsOfDirectory(atPath: cacheRoot).filter { $0.hasPrefix("entry-") }
        #expect(entries.count == 1, "only the clean checkout is kept: \(entries)")
    }
}
