import FlakeboxCore
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

func interference(_ summary: [String: Any]) -> [String: Any] { summary["interference"] as? [String: Any] ?? [:] }

/// Each test holds its resource for two seconds, so that two copies started together overlap
/// even on a loaded machine (pytest itself starts in well under a second).
let collidingTests: [(name: String, file: String, resource: String, kind: String)] = [
    (
        "a fixed port",
        """
        import socket, time

        def test_serves_on_fixed_port():
            s = socket.socket()
            s.bind(("127.0.0.1", 47123))
            s.listen()
            time.sleep(2)
            s.close()
        """, "47123", "port"
    ),
    (
        "./state.txt",
        """
        import os, time

        def test_keeps_state_file():
            with open("state.txt", "x") as f:
                f.write(os.environ["TEST_SEED"])
            try:
                time.sleep(2)
            finally:
                os.remove("state.txt")
        """, "state.txt", "file"
    ),
    (
        "/tmp/x",
        """
        import os, time

        def test_uses_tmp_directory():
            os.mkdir("/tmp/x")
            try:
                time.sleep(2)
            finally:
                os.rmdir("/tmp/x")
        """, "/tmp/x", "file"
    ),
]

@Suite(
    "Interference mode: collisions told apart from intrinsic flakes",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
    .enabled(if: JobTestMachine.hasPytest, "needs Debian's python3-pytest (scripts/bootstrap.sh installs it)"))
struct InterferenceEndToEndTests {
    @Test("a test holding a shared resource passes alone and collides on it when shared", arguments: collidingTests)
    func collides(_ known: (name: String, file: String, resource: String, kind: String)) async throws {
        let repo = try TestRepository(files: ["tests/test_shared.py": known.file])
        var input = JobInput(repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: 4, parallelism: 2)
        input.interference = true
        input.rerun = 0
        let summary = try await runJob(input)
        #expect(summary["failures"] as? Int == 0, "alone, every run passes: \(summary["advice"] ?? "")")
        let finding = interference(summary)
        #expect(finding["collides"] as? Bool == true, "\(known.name): \(finding)")
        #expect(finding["runs"] as? Int == 4 && finding["copies_at_once"] as? Int == 2)
        let shared = finding["shared_only_failures"] as? Int ?? 0
        #expect(shared >= 1 && shared <= 2, "one copy of each pair loses: \(finding)")
        let resources = finding["resources"] as? [[String: Any]] ?? []
        #expect(
            resources.first.map { $0["name"] as? String == known.resource && $0["kind"] as? String == known.kind }
                == true, "\(resources)")
        #expect((finding["tests"] as? [String])?.contains { $0.contains("test_") } == true, "\(finding)")
        let sentence = finding["sentence"] as? String ?? ""
        #expect(sentence.hasPrefix("Collides when run in parallel") && sentence.contains(known.resource))
        #expect((summary["advice"] as? String)?.hasPrefix("Collides when run in parallel") == true)
    }

    @Test("a test that fails for odd seeds, alone or shared, is not called a collision")
    func intrinsic() async throws {
        let repo = try TestRepository(files: [
            "tests/test_coin.py": """
            import os

            def test_odd_seeds_fail():
                assert int(os.environ["TEST_SEED"]) % 2 == 0, "odd seed"
            """
        ])
        var input = JobInput(repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: 4, parallelism: 2)
        input.interference = true
        input.rerun = 0
        let summary = try await runJob(input)
        #expect(summary["failures"] as? Int == 2 && summary["verdict"] as? String == "flaky")
        let finding = interference(summary)
        #expect(finding["collides"] as? Bool == false && finding["failures"] as? Int == 2, "\(finding)")
        #expect(finding["shared_only_failures"] as? Int == 0 && finding["isolated_failures"] as? Int == 2)
        #expect((finding["sentence"] as? String)?.hasPrefix("Not a collision") == true, "\(finding)")
        #expect((summary["advice"] as? String)?.contains("Collides") == false)
    }
}

/// A timing test as real suites write them, made robust: it times a short busy computation against
/// its own CPU time (a calibration measured in the same run, not a wall-clock constant), five
/// times, and fails when the median try took over 30× its CPU time in wall time.
///
/// Host load slows it as a whole cgroup: unloaded the ratio is about 1.5; with this suite running
/// in parallel beside other builds on 2 cores (load average 35) it reached 6–14. Noise inside the
/// attempt divides what the cgroup gets among 66 processes (64 spinners, a writer, the test), under
/// the policy's one-CPU quota: ratios of 66 and more, whatever the host does. The median, so that
/// neither one lucky try under stress nor one starved try unloaded decides.
let timingCheck = """
    import time

    def work():
        x = 0
        for i in range(120000):
            x += i * i
        return x

    ratios = []
    for _ in range(5):
        c0, w0 = time.thread_time(), time.perf_counter()
        work()
        c1, w1 = time.thread_time(), time.perf_counter()
        ratios.append((w1 - w0) / max(c1 - c0, 1e-6))
    median = sorted(ratios)[len(ratios) // 2]
    print("wall/cpu ratios", " ".join("%.2f" % r for r in ratios))
    assert median < 30, "too slow: the computation took %.1fx its CPU time" % median
    """

@Suite(
    "Stress mode: noise inside the attempt exposes timing flakes",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct StressEndToEndTests {
    @Test("a timing test passes without stress and fails with it; the summary names the noise")
    func timingFlake() async throws {
        let repo = try TestRepository(files: ["timing_check.py": timingCheck])
        var input = JobInput(repo: repo.path, testCommand: "python3 timing_check.py", runs: 3, parallelism: 1)
        input.rerun = 0
        let calm = try await runJob(input)
        #expect(
            calm["failures"] as? Int == 0,
            "unloaded: \(results(calm).map { $0["stdout"] as? String ?? "" })")
        #expect(calm["stress"] == nil)

        input.stress = BackgroundNoise(cpuWorkers: 64, ioWorkers: 1)
        input.runs = 2
        let stressed = try await runJob(input)
        #expect(
            stressed["failures"] as? Int == 2,
            "under stress: \(results(stressed).map { $0["stdout"] as? String ?? "" })")
        let stress = try #require(stressed["stress"] as? [String: Any])
        #expect(stress["cpu_workers"] as? Int == 64 && stress["io_workers"] as? Int == 1)
        #expect(stress["cpu_limit"] as? Double == 1, "the default policy's quota: \(stress)")
        #expect((stress["sentence"] as? String)?.contains("64 CPU spinners") == true)
    }

    @Test("the noise runs inside the attempt's sandbox as processes of its own, its scratch file unnamed")
    func noiseLivesInside() async throws {
        let repo = try TestRepository(files: ["README": "x\n"])
        var input = JobInput(
            repo: repo.path,
            testCommand: "sleep 0.5; cat /proc/[0-9]*/comm | grep -c '^fb-noise' ; test -z \"$(ls -A /tmp)\"",
            runs: 2, parallelism: 1)
        input.rerun = 0
        input.stress = BackgroundNoise(cpuWorkers: 2, ioWorkers: 1)
        let summary = try await runJob(input)
        #expect(summary["failures"] as? Int == 0, "\(results(summary).map { $0["stderr"] as? String ?? "" })")
        for result in results(summary) {
            #expect((result["stdout"] as? String)?.hasPrefix("3") == true, "\(result)")
        }
    }
}

@Suite("flakebox run --interference, --stress: flags and the human report")
struct ModesCommandLineTests {
    @Test("bad noise is bad input (64), naming the field")
    func badNoise() async throws {
        let repo = try TestRepository(files: ["t.sh": "true\n"])
        let run = try await flakebox(["run", "--repo", repo.path, "--stress-cpu", "99", "--", "sh t.sh"])
        #expect(run.status == 64 && run.stderr.contains("stress.cpu"), "\(run.stderr)")
    }

    @Test(
        "the report has a line for each mode",
        .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
    func reportLines() async throws {
        let repo = try TestRepository(files: ["t.sh": "true\n"])
        let run = try await flakebox([
            "run", "--repo", repo.path, "--runs", "2", "--parallelism", "2", "--rerun", "0", "--interference",
            "--stress-cpu", "1", "--stress-io", "0", "--", "sh t.sh",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("interference: No collision seen: 2 runs of the same seeds"), "\(run.stdout)")
        #expect(run.stdout.contains("Stress: every run had 1 CPU spinner beside the test"), "\(run.stdout)")
    }
}
