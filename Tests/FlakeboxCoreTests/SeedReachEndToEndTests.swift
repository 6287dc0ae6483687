import FlakeboxCore
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

/// The seeds `/usr/bin/python3` says fail `expression` (true = fails) when the generators are
/// seeded with each one: the known answer, computed outside flakebox.
func hostFailingSeeds(_ setup: String, failsWhen expression: String, seeds: Range<Int>) throws -> Set<Int> {
    let script =
        "\(setup)\nfor s in range(\(seeds.lowerBound), \(seeds.upperBound)):\n    seed(s)\n"
        + "    if \(expression): print(s)\n"
    let python = Process()
    python.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    python.arguments = ["-c", script]
    let out = Pipe()
    python.standardOutput = out
    try python.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    python.waitUntilExit()
    return Set(String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { Int($0) })
}

func seedReach(_ summary: [String: Any]) -> [String: Any] { summary["seed_reach"] as? [String: Any] ?? [:] }

let moduleSeededTest = """
    import random
    random.seed(3)  # the module seeds once: without reseeding every run draws the same 0.238

    def test_coin():
        assert random.random() < 0.5, "unlucky draw"
    """

@Suite(
    "Seeds that reach the generators (pytest plugin)",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
    .enabled(if: JobTestMachine.hasPytest, "needs Debian's python3-pytest (scripts/bootstrap.sh installs it)"))
struct SeedReachEndToEndTests {
    @Test("a module-seeded RNG fails for the seeds that say so with the plugin, never without; replays 3 of 3")
    func moduleSeededRandom() async throws {
        let repo = try TestRepository(files: ["tests/test_coin.py": moduleSeededTest])
        var input = JobInput(repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: 16, parallelism: 2)
        let expected = try hostFailingSeeds(
            "from random import seed, random", failsWhen: "random() >= 0.5", seeds: 0..<16)
        #expect(expected.count >= 3 && expected.count <= 13, "the known answer itself: \(expected.sorted())")
        let summary = try await runJob(input)
        let failing = Set(
            results(summary).filter { $0["status"] as? String == "failed" }.compactMap { $0["seed"] as? Int })
        #expect(failing == expected, "\(summary["advice"] ?? "")")
        #expect(summary["verdict"] as? String == "flaky")
        let reach = seedReach(summary)
        #expect(reach["plugin_active"] as? Int == 16 && reach["generators"] as? [String] == ["random"], "\(reach)")
        #expect(reach["reseeded_by"] as? [String] == ["flakebox"] && reach["reached_nothing"] as? Bool == false)

        let seed = try #require(expected.min())
        for _ in 0..<3 {
            var replay = input
            replay.runs = 1
            replay.seedStart = UInt64(seed)
            #expect(results(try await runJob(replay)).first?["status"] as? String == "failed")
        }

        input.reseed = false
        let off = try await runJob(input)
        #expect(off["failures"] as? Int == 0, "\(results(off).map { $0["stdout"] ?? "" })")
        #expect(off["verdict"] as? String == "no_failure_seen")
        #expect(seedReach(off)["reached_nothing"] as? Bool == true)
        #expect((off["advice"] as? String)?.contains("weak evidence") == true, "\(off["advice"] ?? "")")
    }

    @Test(
        "a module-seeded numpy RNG is reseeded too",
        .enabled(
            if: FileManager.default.fileExists(atPath: "/usr/lib/python3/dist-packages/numpy"),
            "needs numpy for the sandbox's /usr/bin/python3 (apt-get install python3-numpy; scripts/bootstrap.sh)"))
    func moduleSeededNumpy() async throws {
        let test = """
            import numpy as np
            np.random.seed(1)  # first draw 0.417: passes every time unless reseeded

            def test_draw():
                assert np.random.rand() < 0.5, "unlucky draw"
            """
        let repo = try TestRepository(files: ["tests/test_np.py": test])
        let expected = try hostFailingSeeds(
            "import numpy as np\nseed = np.random.seed", failsWhen: "np.random.rand() >= 0.5", seeds: 0..<12)
        let summary = try await runJob(
            JobInput(repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: 12, parallelism: 2))
        let failing = Set(
            results(summary).filter { $0["status"] as? String == "failed" }.compactMap { $0["seed"] as? Int })
        #expect(!expected.isEmpty && failing == expected, "\(results(summary).map { $0["stdout"] ?? "" })")
        #expect((seedReach(summary)["generators"] as? [String])?.contains("numpy") == true, "\(seedReach(summary))")
    }

    @Test("shuffle permutes modules, classes and functions by the seed, recorded per attempt, the same for a seed")
    func shuffledOrder() async throws {
        let repo = try TestRepository(files: [
            "tests/test_a.py":
                "def test_a1(): pass\ndef test_a2(): pass\nclass TestK:\n    def test_k1(self): pass\n    def test_k2(self): pass\n",
            "tests/test_b.py": "def test_b1(): pass\ndef test_b2(): pass\n",
        ])
        var input = JobInput(repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: 6, parallelism: 2)
        input.shuffle = true
        let summary = try await runJob(input)
        let orders = results(summary).compactMap { $0["order"] as? [String] }
        #expect(orders.count == 6, "\(results(summary).map { $0["stdout"] ?? "" })")
        let all: Set<String> = [
            "tests/test_a.py::test_a1", "tests/test_a.py::test_a2", "tests/test_a.py::TestK::test_k1",
            "tests/test_a.py::TestK::test_k2", "tests/test_b.py::test_b1", "tests/test_b.py::test_b2",
        ]
        for order in orders {
            #expect(Set(order) == all && order.count == 6)
            // A class's tests stay together.
            let k = order.indices.filter { order[$0].contains("TestK") }
            #expect(k.count == 2 && k[1] == k[0] + 1, "\(order)")
        }
        #expect(Set(orders).count > 1, "six seeds gave one order: \(orders)")
        #expect(seedReach(summary)["order_shuffled_by"] as? [String] == ["flakebox"])

        var again = input
        again.runs = 1
        again.seedStart = 3
        let replay = try await runJob(again)
        #expect(results(replay).first?["order"] as? [String] == orders[3])

        input.shuffle = false
        input.runs = 2
        let plain = try await runJob(input)
        #expect(results(plain).allSatisfy { $0["order"] == nil })
        #expect(seedReach(plain)["order_shuffled_by"] as? [String] == [])
    }

    @Test("with pytest-randomly installed (a package on top), it reseeds and shuffles, and the plugin says so")
    func withPytestRandomly() async throws {
        let repo = try TestRepository(files: [
            "tests/test_coin.py": moduleSeededTest, "tests/test_more.py": "def test_m1(): pass\ndef test_m2(): pass\n",
        ])
        var input = JobInput(repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: 8, parallelism: 2)
        input.packages = ["pytest-randomly==3.12.0"]
        let summary = try await runJob(input)
        let reach = seedReach(summary)
        #expect(reach["plugin_active"] as? Int == 8, "\(reach) \(summary["setup"] ?? "")")
        #expect(reach["reseeded_by"] as? [String] == ["pytest-randomly"], "\(reach)")
        #expect(reach["order_shuffled_by"] as? [String] == ["pytest-randomly"], "\(reach)")
        let failures = summary["failures"] as? Int ?? 0
        #expect(failures > 0 && failures < 8, "\(results(summary).map { $0["stdout"] ?? "" })")
        #expect(results(summary).allSatisfy { ($0["order"] as? [String])?.count == 3 })
    }

    @Test("one cause is one signature, though pytest's progress line varies with the shuffled order")
    func oneSignatureAcrossOrders() async throws {
        let repo = try TestRepository(files: [
            "tests/test_coin.py": moduleSeededTest + "\ndef test_p1(): pass\ndef test_p2(): pass\ndef test_p3(): pass\n"
        ])
        var input = JobInput(repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: 16, parallelism: 2)
        input.shuffle = true
        let summary = try await runJob(input)
        let failing = results(summary).filter { $0["status"] as? String == "failed" }
        // The progress lines really differ (the failing test's place in the order moves).
        let progress = Set(failing.compactMap { ($0["stdout"] as? String)?.split(separator: "\n").first })
        #expect(failing.count >= 3 && progress.count > 1, "\(progress)")
        let signatures = summary["failure_signatures"] as? [[String: Any]] ?? []
        #expect(signatures.count == 1, "\(signatures.map { $0["signature"] ?? "" })")
        let text = signatures.first?["signature"] as? String ?? ""
        #expect(text.contains("AssertionError: unlucky draw") && text.contains("at tests/test_coin.py:"), "\(text)")
    }

    @Test("the plugin reaches the minimal tier too (no mount namespace: paths point at the attempt's copy)")
    func minimalTier() async throws {
        let repo = try TestRepository(files: ["tests/test_coin.py": moduleSeededTest])
        let expected = try hostFailingSeeds(
            "from random import seed, random", failsWhen: "random() >= 0.5", seeds: 0..<6)
        var input = JobInput(repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: 6, parallelism: 2)
        input.policy = "runpod"
        let runner = JobRunner(options: .init(sandbox: .init(tier: .minimal), defaultPolicy: "runpod"))
        let summary = try await runner.run(input, origin: .commandLine)
        let object = try #require(try JSONSerialization.jsonObject(with: summary.encodedJSON()) as? [String: Any])
        let failing = Set(
            results(object).filter { $0["status"] as? String == "failed" }.compactMap { $0["seed"] as? Int })
        #expect(failing == expected, "\(results(object).map { ($0["stdout"] ?? "", $0["stderr"] ?? "") })")
        #expect(seedReach(object)["plugin_active"] as? Int == 6)
    }
}
