import FlakeboxCore
import FlakeboxTestSupport
import Foundation
import Synchronization
import Testing

/// A repository whose run order comes from `TEST_SEED` (a conftest sorts the tests by a hash of
/// the seed and the node id, so every subset keeps its relative order), with three kinds of flake:
/// - `test_z_registry_empty` (victim) fails when `test_a_registers` (polluter) ran before it;
/// - `test_b_needs_setter` (brittle) fails unless `test_setter` ran before it;
/// - `test_coin` (NOD) fails for odd seeds, whatever the order;
/// and four fillers. With seeds 3…10 the victim fails at 3, 4, 5 and 8, the brittle test at 5, the
/// coin at every odd seed (worked out from the conftest's hash; the test checks the attempts).
enum OrderRepository {
    static let files: [String: String] = [
        "conftest.py": """
        import hashlib, os

        def pytest_collection_modifyitems(items):
            seed = os.environ.get("TEST_SEED", "0")
            items.sort(key=lambda item: hashlib.sha256(f"{seed}:{item.nodeid}".encode()).hexdigest())
        """,
        "tests/state.py": "REGISTRY = []\nFLAGS = {}\n",
        "tests/test_alpha.py": "import state\n\ndef test_a_registers():\n    state.REGISTRY.append('a')\n",
        "tests/test_zeta.py": "import state\n\ndef test_z_registry_empty():\n    assert state.REGISTRY == []\n",
        "tests/test_setup.py": "import state\n\ndef test_setter():\n    state.FLAGS['ready'] = True\n",
        "tests/test_brittle.py": "import state\n\ndef test_b_needs_setter():\n    assert state.FLAGS.get('ready')\n",
        "tests/test_nod.py": "import os\n\ndef test_coin():\n    assert int(os.environ['TEST_SEED']) % 2 == 0\n",
        "tests/test_fill.py": (1...4).map { "def test_f\($0)():\n    pass\n" }.joined(separator: "\n"),
    ]

    static let victim = "tests.test_zeta::test_z_registry_empty"
    static let polluter = "tests.test_alpha::test_a_registers"
    static let brittle = "tests.test_brittle::test_b_needs_setter"
    static let setter = "tests.test_setup::test_setter"
    static let coin = "tests.test_nod::test_coin"
}

@Suite(
    "Order-dependency classification end to end",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
    .enabled(if: JobTestMachine.hasPytest, "needs Debian's python3-pytest (scripts/bootstrap.sh installs it)"))
struct ClassificationEndToEndTests {
    static func job(_ repo: TestRepository, rerun: Int) -> JobInput {
        JobInput(
            repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: 8, parallelism: 4, seedStart: 3,
            rerun: rerun)
    }

    /// Counts the progress reports of classification runs (one per run).
    final class ClassifyingReports: Sendable {
        let count = Mutex(0)
    }

    /// Runs `input` and returns its summary and how many classification runs reported progress.
    static func run(_ input: JobInput) async throws -> (summary: [String: Any], classifyingRuns: Int) {
        let reports = ClassifyingReports()
        let runner = JobRunner(
            options: .init(progress: { progress in
                if progress.phase == .classifying { reports.count.withLock { $0 += 1 } }
            }))
        let summary = try await runner.run(input, origin: .commandLine)
        let object = try #require(try JSONSerialization.jsonObject(with: summary.encodedJSON()) as? [String: Any])
        return (object, reports.count.withLock { $0 })
    }

    static func entry(_ summary: [String: Any], _ name: String) throws -> [String: Any] {
        let tests = summary["tests"] as? [[String: Any]] ?? []
        return try #require(tests.first { $0["name"] as? String == name }, "\(name) not in \(tests)")
    }

    /// Runs what a test entry's `replay` names (`flakebox replay … --seed S … -- 'command'`) 3
    /// times, as one-run jobs with that seed, and returns the statuses.
    static func replayStatuses(_ replay: String, repo: TestRepository) async throws -> [String] {
        let seedText = try #require(replay.components(separatedBy: "--seed ").last?.split(separator: " ").first)
        let seed = try #require(UInt64(seedText))
        let quoted = try #require(replay.components(separatedBy: " -- '").last)
        let command = String(quoted.dropLast())
        #expect(!command.contains("'"), "\(command)")
        var statuses: [String] = []
        for _ in 0..<3 {
            let summary = try await runJob(
                JobInput(repo: repo.path, testCommand: command, runs: 1, seedStart: seed, rerun: 0))
            statuses += results(summary).compactMap { $0["status"] as? String }
        }
        return statuses
    }

    @Test("victim and polluter, brittle test and state-setter, and a NOD test are told apart and named")
    func classifies() async throws {
        let repo = try TestRepository(files: OrderRepository.files)
        let (summary, classifyingRuns) = try await Self.run(Self.job(repo, rerun: 8))

        // The attempts show each flake as the conftest's order and the seeds say.
        let victim = try Self.entry(summary, OrderRepository.victim)
        #expect(victim["failing_attempts"] as? [Int] == [0, 1, 2, 5])
        let brittle = try Self.entry(summary, OrderRepository.brittle)
        #expect(brittle["failing_attempts"] as? [Int] == [2])
        let coin = try Self.entry(summary, OrderRepository.coin)
        #expect(coin["failing_attempts"] as? [Int] == [0, 2, 4, 6])

        #expect(victim["kind"] as? String == "OD-victim", "\(victim["kind_reason"] ?? "")")
        #expect(victim["polluter"] as? String == OrderRepository.polluter)
        let victimAlone = try #require(victim["rate_alone"] as? [String: Any])
        #expect(victimAlone["estimate"] as? Double == 0)
        #expect((victimAlone["wilson_95_high"] as? Double ?? 1) < 0.4)
        let victimReplay = try #require(victim["replay"] as? String)
        #expect(
            victimReplay.contains("tests/test_alpha.py::test_a_registers tests/test_zeta.py::test_z_registry_empty"),
            "\(victimReplay)")
        #expect(victimReplay.contains("--seed 3 "), "\(victimReplay)")

        #expect(brittle["kind"] as? String == "OD-brittle", "\(brittle["kind_reason"] ?? "")")
        #expect(brittle["state_setter"] as? String == OrderRepository.setter)
        #expect(brittle["polluter"] is NSNull)
        #expect((brittle["rate_alone"] as? [String: Any])?["estimate"] as? Double == 1)

        #expect(coin["kind"] as? String == "NOD", "\(coin["kind_reason"] ?? "")")
        // Fresh seeds 11…18: the odd half fail.
        let coinAlone = try #require(coin["rate_alone"] as? [String: Any])
        #expect(coinAlone["estimate"] as? Double == 0.5)
        #expect((coinAlone["wilson_95_low"] as? Double ?? 0) > 0.1)
        #expect((coinAlone["wilson_95_high"] as? Double ?? 1) < 0.9)
        #expect((coin["replay"] as? String)?.contains("tests/test_nod.py::test_coin'") == true, "\(coin)")

        // The replays reproduce each failure, 3 of 3 (the seed replays the same attempt seed).
        #expect(try await Self.replayStatuses(victimReplay, repo: repo) == ["failed", "failed", "failed"])
        let brittleReplay = try #require(brittle["replay"] as? String)
        #expect(try await Self.replayStatuses(brittleReplay, repo: repo) == ["failed", "failed", "failed"])

        let phase = try #require(summary["classification"] as? [String: Any])
        #expect(phase["tests_classified"] as? Int == 3)
        let perTest = [victim, brittle, coin].compactMap { $0["classification_runs"] as? Int }
        #expect(phase["runs"] as? Int == perTest.reduce(0, +))
        #expect(phase["runs"] as? Int == classifyingRuns)
        // Each test: at most 3 + rerun + 16 runs.
        #expect(perTest.allSatisfy { $0 <= 3 + 8 + 16 })

        let advice = summary["advice"] as? String ?? ""
        #expect(
            advice.contains(
                "Order-dependent: `\(OrderRepository.polluter)` leaves state that `\(OrderRepository.victim)` depends on"
            ),
            "\(advice)")
        #expect(advice.contains("`\(OrderRepository.brittle)` fails unless `\(OrderRepository.setter)` runs before it"))
        #expect(summary["verdict"] as? String == "flaky")
    }

    @Test("rerun 0 turns the phase off: no classification fields, no extra runs")
    func phaseOff() async throws {
        let repo = try TestRepository(files: OrderRepository.files)
        let (summary, classifyingRuns) = try await Self.run(Self.job(repo, rerun: 0))
        #expect(classifyingRuns == 0)
        #expect(summary["classification"] == nil)
        #expect(summary["total_runs"] as? Int == 8)
        let tests = summary["tests"] as? [[String: Any]] ?? []
        #expect(tests.count == 3)
        for key in ["kind", "kind_reason", "polluter", "state_setter", "rate_alone", "replay", "classification_runs"] {
            #expect(tests.allSatisfy { $0[key] == nil }, "\(key) present")
        }
        #expect((summary["advice"] as? String)?.hasPrefix("Flaky: ") == true)
    }

    @Test("a command that is not pytest is found out in one run, and the phase stops there")
    func notPytest() async throws {
        // Writes its own JUnit report: `one` fails for odd seeds, `two` for seeds not divisible by 3.
        let script = """
            one=0; [ $((TEST_SEED % 2)) -eq 1 ] && one=1
            two=0; [ $((TEST_SEED % 3)) -ne 0 ] && two=1
            tc() { if [ "$2" = 1 ]; then echo "<testcase classname='suite' name='$1'><failure message='no'/></testcase>"; else echo "<testcase classname='suite' name='$1'/>"; fi; }
            { echo "<testsuite>"; tc one $one; tc two $two; echo "</testsuite>"; } > report.xml
            exit $((one | two))
            """
        let repo = try TestRepository(files: ["check.sh": script + "\n"])
        var input = JobInput(repo: repo.path, testCommand: "sh check.sh", runs: 6, parallelism: 3, rerun: 3)
        input.junitXML = "report.xml"
        let (summary, classifyingRuns) = try await Self.run(input)
        #expect(classifyingRuns == 1)
        let phase = try #require(summary["classification"] as? [String: Any])
        #expect(phase["runs"] as? Int == 1)
        #expect(phase["tests_classified"] as? Int == 1)
        #expect(phase["tests_skipped"] as? Int == 1)
        let two = try Self.entry(summary, "suite::two")
        #expect(two["kind"] as? String == "unknown")
        #expect((two["kind_reason"] as? String)?.contains("the selection plugin did not load") == true, "\(two)")
        #expect(try Self.entry(summary, "suite::one")["kind"] == nil)
    }
}
