import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

/// Runs the built `flakebox` executable on a thread of its own (a job takes seconds, and blocking
/// one of the cooperative pool's two threads here would starve the other suites' timing);
/// returns its exit code, stdout and stderr.
func flakebox(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await withCheckedThrowingContinuation { continuation in
        DetachedThread.start {
            continuation.resume(with: Result { try runFlakebox(arguments) })
        }
    }
}

private func runFlakebox(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    try runProgram(HelperLocator.executableDirectory().appendingPathComponent("flakebox").path, arguments)
}

@Suite(
    "flakebox run and replay",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct CommandLineTests {
    @Test("--json prints exactly the worker's summary; the exit code says flaky")
    func runJSON() async throws {
        let repo = try TestRepository(files: ["t.sh": "[ $((TEST_SEED % 3)) -ne 0 ]\n"])
        let run = try await flakebox([
            "run", "--repo", repo.path, "--runs", "6", "--parallelism", "3", "--json", "--", "sh", "t.sh",
        ])
        #expect(run.status == 1, "\(run.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        for key in ["total_runs", "parallelism", "failures", "repro_rate", "results"] {
            #expect(object?[key] != nil, "missing \(key)")
        }
        #expect(object?["failures"] as? Int == 2)
    }

    @Test("bad input exits 64 and names each problem")
    func badInput() async throws {
        let run = try await flakebox(["run", "--repo=--upload-pack=x", "--runs", "0", "--", "true"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("repo:") && run.stderr.contains("runs:"), "\(run.stderr)")
    }

    @Test("replay reruns one seed and shows its output")
    func replay() async throws {
        let repo = try TestRepository(files: [
            "t.sh": "echo \"seed=$TEST_SEED attempt=$ATTEMPT\"; [ $TEST_SEED -ne 7 ]\n"
        ])
        let run = try await flakebox([
            "replay", "--repo", repo.path, "--seed", "7", "--attempt", "3", "--", "sh", "t.sh",
        ])
        #expect(run.status == 1)
        #expect(run.stdout.contains("seed=7 attempt=3"), "\(run.stdout) \(run.stderr)")
    }

    @Test("a failure that only TEST_SEED decides: the summary's seed_control says the seed controls it")
    func seedControlsTheFailure() async throws {
        let repo = try TestRepository(files: ["t.sh": "[ $((TEST_SEED % 3)) -ne 1 ]\n"])
        let run = try await flakebox([
            "run", "--repo", repo.path, "--runs", "6", "--parallelism", "3", "--json", "--", "sh", "t.sh",
        ])
        #expect(run.status == 1, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["total_runs"] as? Int == 6, "the replay is not one of the job's runs")
        let control = try #require(object["seed_control"] as? [String: Any], "\(run.stdout)")
        #expect(control["seed"] as? Int == 1)
        #expect(control["attempt"] as? Int == 1)
        #expect(control["replays"] as? Int == 1)
        #expect(control["failed_again"] as? Bool == true)
        #expect((object["advice"] as? String)?.contains("The seed controls this failure") == true)

        // The human report: the replay line once, the seed-control line, one way to write the rate.
        let human = try await flakebox(["run", "--repo", repo.path, "--runs", "6", "--quiet", "--", "sh", "t.sh"])
        #expect(human.status == 1, "\(human.stderr)")
        let replay = try #require(object["replay"] as? String)
        #expect(human.stdout.components(separatedBy: replay).count == 2, "\(human.stdout)")
        #expect(
            human.stdout.contains("seed control: seed 1 (attempt 1) replayed once: failed again"), "\(human.stdout)")
        #expect(human.stdout.contains("failure rate: 33.3% (95% interval"), "\(human.stdout)")
        #expect(!human.stdout.contains("33.33"), "\(human.stdout)")
    }

    @Test("always failing or never failing: no seed-control replay (null)")
    func seedControlOnlyForFlaky() async throws {
        let repo = try TestRepository(files: ["t.sh": "exit 1\n"])
        let run = try await flakebox(["run", "--repo", repo.path, "--runs", "2", "--json", "--", "sh", "t.sh"])
        #expect(run.status == 2, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["seed_control"] is NSNull)
    }

    @Test("replay --runs 3 runs one seed and attempt three times and says the seed controls the failure")
    func replayRuns() async throws {
        let repo = try TestRepository(files: [
            "t.sh": "echo \"seed=$TEST_SEED attempt=$ATTEMPT\"; [ $TEST_SEED -ne 7 ]\n"
        ])
        let run = try await flakebox([
            "replay", "--runs", "3", "--repo", repo.path, "--seed", "7", "--attempt", "3", "--", "sh", "t.sh",
        ])
        #expect(run.status == 1)
        #expect(run.stdout.components(separatedBy: "seed=7 attempt=3").count == 4, "\(run.stdout) \(run.stderr)")
        #expect(run.stderr.contains("seed 7 failed 3 of 3 replays: the seed controls the failure"), "\(run.stderr)")

        let passing = try await flakebox([
            "replay", "--runs", "2", "--repo", repo.path, "--seed", "8", "--attempt", "4", "--", "sh", "t.sh",
        ])
        #expect(passing.status == 0, "\(passing.stderr)")
        #expect(passing.stderr.contains("seed 8 failed 0 of 2 replays: the seed does not control"), "\(passing.stderr)")
    }

    @Test("a failure outside the seed's control (the wall clock): the replay passes, seed_control says so")
    func seedDoesNotControlTheFailure() async throws {
        // Seed 1 fails in the first 40 s after T0; seed 0 passes, but only at T0 + 42 s, and the
        // replay starts after every attempt has ended: same seed, same attempt, and it passes. The
        // margin is wide so that a loaded machine (the whole suite on 2 cores) still starts the
        // attempts in time; it costs this test 42 s, in parallel with the others.
        let repo = try TestRepository(files: [
            "t.sh": """
            now=$(date +%s)
            if [ "$TEST_SEED" = 0 ]; then sleep $((T0 + 42 - now)) 2>/dev/null; exit 0; fi
            [ "$now" -ge $((T0 + 40)) ]

            """
        ])
        let t0 = Int(Date().timeIntervalSince1970)
        let run = try await flakebox([
            "run", "--repo", repo.path, "--runs", "2", "--parallelism", "2", "--env", "T0=\(t0)", "--json", "--",
            "sh", "t.sh",
        ])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        try #require(
            object["verdict"] as? String == "flaky",
            "seed 1 must fail within 40 s of the start: \(run.stdout) \(run.stderr)")
        let control = try #require(object["seed_control"] as? [String: Any], "\(run.stdout)")
        #expect(control["seed"] as? Int == 1)
        #expect(control["failed_again"] as? Bool == false)
        #expect(control["statuses"] as? [String] == ["passed"])
        let advice = try #require(object["advice"] as? String)
        #expect(advice.contains("Replaying seed 1 passed: the seed does not control this failure"), "\(advice)")
        #expect(advice.contains("flakebox replay --runs 20 "), "\(advice)")
    }
}
