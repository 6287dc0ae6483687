import FlakeboxCore
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What the machine allows, probed once (a skipped suite says why).
enum JobTestMachine {
    static let fullTier: Bool = {
        guard let helper = HelperLocator.helperPath() else {
            print("[flakebox tests] helper flakebox-sandbox not found: job tests are skipped")
            return false
        }
        let report = CapabilityProbe.shared(helperPath: helper, identity: .current())
        print("[flakebox tests] jobs run at the \(report.tier) tier; missing: \(report.missingSummary)")
        return report.tier == .full
    }()

    static let hasPytest = FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/pytest")
}

/// Runs a job and returns the summary as the worker would send it.
func runJob(_ input: JobInput) async throws -> [String: Any] {
    let summary = try await JobRunner().run(input, origin: .commandLine)
    let object = try JSONSerialization.jsonObject(with: summary.encodedJSON()) as? [String: Any]
    return try #require(object)
}

func results(_ summary: [String: Any]) -> [[String: Any]] { summary["results"] as? [[String: Any]] ?? [] }

@Suite(
    "Jobs end to end",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct JobEndToEndTests {
    @Test("a seeded flake fails exactly as often as its seeds say")
    func seededFlake() async throws {
        let repo = try TestRepository(files: [
            "check.sh": "[ $((TEST_SEED % 5)) -ne 0 ] || { echo \"seed $TEST_SEED\" >&2; exit 1; }\n"
        ])
        let summary = try await runJob(
            JobInput(repo: repo.path, testCommand: "sh check.sh", runs: 20, parallelism: 4, seedStart: 100))
        #expect(summary["total_runs"] as? Int == 20)
        #expect(summary["parallelism"] as? Int == 4)
        #expect(summary["failures"] as? Int == 4)
        #expect(summary["repro_rate"] as? Double == 0.2)
        #expect(summary["verdict"] as? String == "flaky")
        let failing = results(summary).filter { $0["status"] as? String == "failed" }.compactMap { $0["seed"] as? Int }
        #expect(Set(failing) == [100, 105, 110, 115])
        #expect((summary["replay"] as? String)?.contains("--seed 100") == true)
    }

    @Test(
        "a command of plain words runs without a shell; one not found, not executable or without #! ends as under sh -c"
    )
    func plainCommands() async throws {
        let repo = try TestRepository(files: [
            "noshebang.sh": "echo ran by sh: $TEST_SEED\n", "t.py": "import os; print(os.getppid() == 1)\n",
        ])
        // PID 1 is the parent of a command it started itself: no shell between them.
        let direct = try await runJob(JobInput(repo: repo.path, testCommand: "python3 t.py", runs: 1))
        #expect(results(direct).first?["status"] as? String == "passed", "\(direct)")
        #expect((results(direct).first?["stdout"] as? String)?.contains("True") == true, "\(direct)")
        let shelled = try await runJob(JobInput(repo: repo.path, testCommand: "python3 t.py; true", runs: 1))
        #expect((results(shelled).first?["stdout"] as? String)?.contains("False") == true, "\(shelled)")
        let missing = try await runJob(JobInput(repo: repo.path, testCommand: "no-such-command-fb --x", runs: 1))
        #expect(results(missing).first?["exit_code"] as? Int == 127, "\(missing)")
        #expect((results(missing).first?["stderr"] as? String)?.contains("not found") == true, "\(missing)")
        let notExecutable = try await runJob(JobInput(repo: repo.path, testCommand: "./t.py", runs: 1))
        #expect(results(notExecutable).first?["exit_code"] as? Int == 126, "\(notExecutable)")
        let script = try await runJob(JobInput(repo: repo.path, testCommand: "sh noshebang.sh", runs: 1, seedStart: 7))
        #expect((results(script).first?["stdout"] as? String)?.contains("ran by sh: 7") == true, "\(script)")
    }

    @Test("tests that collide on a port, a file in the checkout and /tmp do not fail at parallelism 4")
    func collisionsDoNotFlake() async throws {
        let script = """
            import os, socket, time
            s = socket.socket(); s.bind(("127.0.0.1", 8080)); s.listen(1)
            mine = os.environ["TEST_SEED"]
            for path in ("state.txt", "/tmp/shared.txt"):
                open(path, "w").write(mine)
            time.sleep(0.3)
            for path in ("state.txt", "/tmp/shared.txt"):
                assert open(path).read() == mine, path
            """
        let repo = try TestRepository(files: ["collide.py": script])
        let summary = try await runJob(
            JobInput(repo: repo.path, testCommand: "python3 collide.py", runs: 8, parallelism: 4))
        #expect(summary["failures"] as? Int == 0, "\(results(summary).map { $0["stderr"] ?? "" })")
        #expect(summary["verdict"] as? String == "no_failure_seen")
    }

    @Test("an always-failing test is always_fails with one signature")
    func alwaysFails() async throws {
        let script =
            #"echo "Traceback: AssertionError at 0x7f$(printf %x $TEST_SEED)ab in /tmp/tmp$TEST_SEED/x.py after ${TEST_SEED}.5s" >&2; exit 1"#
        let repo = try TestRepository(files: ["fail.sh": script + "\n"])
        let summary = try await runJob(JobInput(repo: repo.path, testCommand: "sh fail.sh", runs: 6, parallelism: 3))
        #expect(summary["verdict"] as? String == "always_fails")
        #expect((summary["failure_signatures"] as? [Any])?.count == 1)
    }

    @Test("a hang becomes a timeout and the job still finishes")
    func hangTimesOut() async throws {
        let repo = try TestRepository(files: ["hang.sh": "sleep 600\n"])
        let summary = try await runJob(
            JobInput(repo: repo.path, testCommand: "sh hang.sh", runs: 2, parallelism: 2, timeoutSeconds: 1))
        #expect(results(summary).allSatisfy { $0["status"] as? String == "timeout" })
        #expect(summary["failures"] as? Int == 2)
    }

    @Test("stop_after_failures and deadline_s stop early and say the summary is incomplete")
    func stopsEarly() async throws {
        let repo = try TestRepository(files: ["fail.sh": "exit 1\n"])
        let stopped = try await runJob(
            JobInput(repo: repo.path, testCommand: "sh fail.sh", runs: 40, parallelism: 2, stopAfterFailures: 3))
        #expect(stopped["complete"] as? Bool == false)
        #expect((stopped["total_runs"] as? Int ?? 0) < 40)
        let slow = try TestRepository(files: ["slow.sh": "sleep 0.4\n"])
        let late = try await runJob(
            JobInput(repo: slow.path, testCommand: "sh slow.sh", runs: 50, parallelism: 1, deadlineSeconds: 1))
        #expect(late["complete"] as? Bool == false)
        #expect((late["total_runs"] as? Int ?? 0) < 10)
        #expect((late["incomplete_reason"] as? String)?.contains("deadline") == true)
    }

    @Test(
        "per-test results name the one flaky test among several (pytest's JUnit XML)",
        .enabled(if: JobTestMachine.hasPytest, "needs Debian's python3-pytest (scripts/bootstrap.sh installs it)"))
    func perTestResults() async throws {
        let tests = """
            import os
            def test_stable_one(): assert True
            def test_stable_two(): assert 1 + 1 == 2
            def test_flaky():
                assert int(os.environ["TEST_SEED"]) % 4 != 1, "unlucky seed"
            """
        let repo = try TestRepository(files: ["tests/test_mix.py": tests])
        let summary = try await runJob(
            JobInput(repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: 8, parallelism: 4))
        #expect(summary["failures"] as? Int == 2)
        let flaky = try #require(summary["tests"] as? [[String: Any]])
        #expect(flaky.count == 1)
        #expect((flaky.first?["name"] as? String)?.hasSuffix("test_flaky") == true, "\(flaky)")
        #expect(flaky.first?["failures"] as? Int == 2)
    }

    @Test("the example's flake is found, and a failing seed replays to the same failure")
    func exampleReplays() async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/flaky-python/tests/test_registry.py")
        let repo = try TestRepository(files: [
            "tests/test_registry.py": try String(contentsOf: example, encoding: .utf8)
        ])
        let input = JobInput(repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: 30, parallelism: 4)
        let summary = try await runJob(input)
        let failing = results(summary).filter { $0["status"] as? String == "failed" }
        #expect(!failing.isEmpty && failing.count < 30)
        let seed = try #require(failing.first?["seed"] as? Int)
        var again = input
        again.runs = 3
        again.seedStart = UInt64(seed)
        again.parallelism = 1
        let replay = try await runJob(again)
        #expect(results(replay).first?["status"] as? String == "failed")
    }
}

@Suite(
    "Jobs with dependencies",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct JobSetupTests {
    @Test("a requirements.txt dependency installs from PyPI into a virtualenv and is importable")
    func requirementsInstall() async throws {
        let repo = try TestRepository(files: [
            "requirements.txt": "tabulate==0.9.0\n",
            "check.py": "import tabulate, sys; print(tabulate.__version__, sys.prefix)\n",
        ])
        let summary = try await runJob(
            JobInput(repo: repo.path, testCommand: "python3 check.py", runs: 2, parallelism: 2))
        #expect(
            summary["failures"] as? Int == 0, "\(summary["setup"] ?? "") \(results(summary).map { $0["stderr"] ?? "" })"
        )
        #expect((results(summary).first?["stdout"] as? String)?.contains("0.9.0 /workspace/.venv") == true)
    }

    @Test("a failing setup is one job error with the log's tail, not N failures")
    func failingSetup() async throws {
        let repo = try TestRepository(files: ["x": ""])
        await #expect(throws: JobError.self) {
            _ = try await JobRunner().run(
                JobInput(repo: repo.path, testCommand: "true", runs: 5, setupCommand: "echo broken-setup >&2; exit 7"),
                origin: .commandLine)
        }
        do {
            _ = try await JobRunner().run(
                JobInput(repo: repo.path, testCommand: "true", runs: 5, setupCommand: "echo broken-setup >&2; exit 7"),
                origin: .commandLine)
        } catch {
            #expect(error.code == .setupFailed && (error.logTail ?? "").contains("broken-setup"))
        }
    }

    @Test("a repository that does not exist is one job error with git's message")
    func missingRepository() async throws {
        do {
            _ = try await JobRunner().run(
                JobInput(repo: "/nonexistent/flakebox-repo", testCommand: "true", runs: 3), origin: .commandLine)
            Issue.record("expected a fetch error")
        } catch {
            #expect(error.code == .fetchFailed)
        }
    }
}
