import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

/// go `stress`'s stopping and filtering, through the real binary: `--until-failure`,
/// `--duration`, `--failure-pattern`, `--ignore-pattern`.
@Suite(
    "flakebox run: stopping and filtering",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct CommandLineStoppingTests {
    /// Seeds 0 and 3 fail saying "Timeout" (stdout), 1 and 4 fail with an assertion (stderr), the
    /// rest pass.
    static let twoKinds = """
        case $((TEST_SEED % 3)) in
        0) echo "Timeout waiting for the server"; exit 1 ;;
        1) echo "AssertionError: 2 != 3" >&2; exit 1 ;;
        esac
        """

    static func summary(_ stdout: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any], "\(stdout)")
    }

    @Test("--until-failure stops after the first failing attempt (seed 4: exactly 5 runs), runs defaulting to 1000")
    func untilFailure() async throws {
        let repo = try TestRepository(files: ["t.sh": "[ \"$TEST_SEED\" != 4 ]\n"])
        let run = try await flakebox([
            "run", "--repo", repo.path, "--until-failure", "--parallelism", "1", "--json", "--quiet", "--", "sh t.sh",
        ])
        #expect(run.status == 1, "\(run.stderr)")
        let summary = try Self.summary(run.stdout)
        #expect(summary["total_runs"] as? Int == 5)
        #expect(summary["failures"] as? Int == 1)
        #expect(summary["runs_requested"] as? Int == 1000)
        #expect(summary["complete"] as? Bool == false)
        #expect((summary["incomplete_reason"] as? String)?.contains("stop_after_failures = 1") == true)
        #expect(summary["failing_seeds"] as? [Int] == [4])

        let both = try await flakebox([
            "run", "--repo", repo.path, "--until-failure", "--stop-after-failures", "2", "--", "sh t.sh",
        ])
        #expect(both.status == 64 && both.stderr.contains("--until-failure"), "\(both.stderr)")
    }

    @Test("--duration 2s on a 1 s test stops starting attempts at the deadline: complete false, a few runs")
    func duration() async throws {
        let repo = try TestRepository(files: ["t.sh": "sleep 1\n"])
        let run = try await flakebox([
            "run", "--repo", repo.path, "--duration", "2s", "--runs", "20", "--json", "--quiet", "--", "sh t.sh",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        let summary = try Self.summary(run.stdout)
        let total = summary["total_runs"] as? Int ?? 0
        #expect((1...4).contains(total), "\(total) runs")
        #expect(summary["complete"] as? Bool == false)
        #expect((summary["incomplete_reason"] as? String)?.contains("deadline_s (2.0 s)") == true, "\(summary)")

        for bad in ["10x", "0s", "m", "-5s"] {
            let refused = try await flakebox(["run", "--repo", repo.path, "--duration", bad, "--", "sh t.sh"])
            #expect(refused.status == 64, "--duration \(bad): \(refused.stderr)")
        }
        let twice = try await flakebox([
            "run", "--repo", repo.path, "--duration", "1m", "--deadline", "60", "--", "sh t.sh",
        ])
        #expect(twice.status == 64 && twice.stderr.contains("--deadline"), "\(twice.stderr)")
    }

    @Test("--failure-pattern counts only the failures whose output matches; the others pass, marked filtered")
    func failurePattern() async throws {
        let repo = try TestRepository(files: ["t.sh": Self.twoKinds])
        let run = try await flakebox([
            "run", "--repo", repo.path, "--runs", "6", "--failure-pattern", "Time[o]ut", "--json", "--quiet", "--",
            "sh t.sh",
        ])
        #expect(run.status == 1, "\(run.stderr)")
        let summary = try Self.summary(run.stdout)
        #expect(summary["failures"] as? Int == 2)
        #expect(summary["filtered_failures"] as? Int == 2)
        #expect(summary["failing_seeds"] as? [Int] == [0, 3])
        #expect((summary["status_counts"] as? [String: Int])?["passed"] == 4)
        let results = summary["results"] as? [[String: Any]] ?? []
        let filtered = results.filter { $0["filtered"] != nil }
        #expect(filtered.map { $0["seed"] as? Int } == [1, 4])
        for result in filtered {
            #expect(result["status"] as? String == "passed")
            #expect(result["exit_code"] as? Int == 1, "the real exit code stays")
            let note = result["filtered"] as? [String: Any] ?? [:]
            #expect(note["status"] as? String == "failed")
            #expect(note["reason"] as? String == "output does not match failure_pattern")
        }

        // Stopping counts what the pattern counts: seed 1's failure does not stop the job, seed 3's does.
        let until = try await flakebox([
            "run", "--repo", repo.path, "--until-failure", "--seed-start", "1", "--failure-pattern", "Timeout",
            "--json", "--quiet", "--", "sh t.sh",
        ])
        let stopped = try Self.summary(until.stdout)
        #expect(stopped["total_runs"] as? Int == 3, "\(until.stderr)")
        #expect(stopped["failing_seeds"] as? [Int] == [3])

        // The human report says it.
        let human = try await flakebox([
            "run", "--repo", repo.path, "--runs", "3", "--failure-pattern", "Timeout", "--quiet", "--", "sh t.sh",
        ])
        #expect(human.stdout.contains("filtered: 1 failing run counted as passed"), "\(human.stdout)")
    }

    @Test("--ignore-pattern leaves out the failures whose output matches (stderr searched too)")
    func ignorePattern() async throws {
        let repo = try TestRepository(files: ["t.sh": Self.twoKinds])
        let run = try await flakebox([
            "run", "--repo", repo.path, "--runs", "6", "--ignore-pattern", "^AssertionError", "--json", "--quiet",
            "--", "sh t.sh",
        ])
        #expect(run.status == 1, "\(run.stderr)")
        let summary = try Self.summary(run.stdout)
        #expect(summary["failures"] as? Int == 2)
        #expect(summary["filtered_failures"] as? Int == 2)
        #expect(summary["failing_seeds"] as? [Int] == [0, 3])
        let results = summary["results"] as? [[String: Any]] ?? []
        let reasons = results.compactMap { ($0["filtered"] as? [String: Any])?["reason"] as? String }
        #expect(reasons == ["output matches ignore_pattern", "output matches ignore_pattern"])

        // Everything ignored: no failure seen, exit 0.
        let all = try await flakebox([
            "run", "--repo", repo.path, "--runs", "3", "--ignore-pattern", "Timeout|Assertion", "--json", "--quiet",
            "--", "sh t.sh",
        ])
        #expect(all.status == 0, "\(all.stdout)")
        #expect(try Self.summary(all.stdout)["verdict"] as? String == "no_failure_seen")
    }
}

/// Input checks that need no sandbox.
@Suite("flakebox run: pattern input and JSON key style")
struct CommandLinePatternInputTests {
    @Test("a bad regular expression exits 64 naming its field, from a flag or from --input")
    func badRegex() async throws {
        let repo = try TestRepository(files: ["t.sh": "true\n"])
        let flag = try await flakebox(["run", "--repo", repo.path, "--failure-pattern", "(unclosed", "--", "sh t.sh"])
        #expect(flag.status == 64)
        #expect(
            flag.stderr.contains("failure_pattern") && flag.stderr.contains("not a valid regular expression"),
            "\(flag.stderr)")
        let file = NSTemporaryDirectory() + "flakebox-job-\(UUID().uuidString.prefix(8)).json"
        try Data(#"{"test_command": "sh t.sh", "ignore_pattern": "[z-a]"}"#.utf8).write(
            to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let input = try await flakebox(["run", "--repo", repo.path, "--input", file])
        #expect(input.status == 64)
        #expect(input.stderr.contains("ignore_pattern"), "\(input.stderr)")
    }

    @Test("doctor --json writes snake_case keys only")
    func doctorKeys() async throws {
        let run = try await flakebox(["doctor", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
        let keys = Self.keys(object)
        #expect(keys.contains("cgroups_usable"))
        #expect(keys.allSatisfy(Self.isSnakeCase), "\(keys.filter { !Self.isSnakeCase($0) })")
    }

    @Test(
        "exec --json writes snake_case keys only",
        .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
    func execKeys() async throws {
        let directory = NSTemporaryDirectory() + "flakebox-exec-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try await flakebox(["exec", "--workspace", directory, "--json", "--", "echo hi"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8))
        let keys = Self.keys(object)
        #expect(keys.contains("exit_code") && keys.contains("wall_seconds"), "\(keys)")
        #expect(keys.allSatisfy(Self.isSnakeCase), "\(keys.filter { !Self.isSnakeCase($0) })")
    }

    static func keys(_ value: Any) -> Set<String> {
        if let object = value as? [String: Any] {
            return object.reduce(into: Set(object.keys)) { $0.formUnion(keys($1.value)) }
        }
        if let array = value as? [Any] { return array.reduce(into: []) { $0.formUnion(keys($1)) } }
        return []
    }

    static func isSnakeCase(_ key: String) -> Bool {
        !key.isEmpty && key.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
