import FlakeboxCore
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

/// Summaries compared without what carries time. Dropped, and why: `timings` and `durations_s`
/// (wall clock), each result's `duration_s`, `cpu_s` and `peak_memory_bytes` (measured per run),
/// the shard record's per-attempt durations (the same), `truncation.json_bytes` and its
/// `sentence` (the size counts the digits of those times), `setup.duration_s`, and
/// `memory_budget` (the machine's free memory at the time). The shard record keeps its durations
/// under `durations_s` too, apart from its rows.
enum TimeFree {
    /// - Parameter runnerTimes: also mask what differs from process to process in each result's
    ///   output: the runner's timing (pytest's `1 failed, 1 passed in 0.05s`) and object addresses
    ///   (`<… object at 0x151fe3b0>`).
    static func json(_ summary: JobSummary, runnerTimes: Bool = false) throws -> String {
        var object = try #require(try JSONSerialization.jsonObject(with: summary.encodedJSON()) as? [String: Any])
        if runnerTimes {
            let timing = try NSRegularExpression(pattern: #" in [0-9.]+s\b"#)
            let address = try NSRegularExpression(pattern: #"\b0x[0-9a-f]+\b"#)
            func masked(_ text: Any?) -> Any? {
                guard let text = text as? String else { return text }
                let timed = timing.stringByReplacingMatches(
                    in: text, range: NSRange(text.startIndex..., in: text), withTemplate: " in <t>s")
                return address.stringByReplacingMatches(
                    in: timed, range: NSRange(timed.startIndex..., in: timed), withTemplate: "0x<a>")
            }
            object["results"] = (object["results"] as? [[String: Any]])?.map { entry in
                var entry = entry
                entry["stdout"] = masked(entry["stdout"])
                entry["stderr"] = masked(entry["stderr"])
                return entry
            }
        }
        object["timings"] = nil
        object["durations_s"] = nil
        object["memory_budget"] = nil
        object["results"] = (object["results"] as? [[String: Any]])?.map { entry in
            var entry = entry
            for key in ["duration_s", "cpu_s", "peak_memory_bytes"] { entry[key] = nil }
            return entry
        }
        if var truncation = object["truncation"] as? [String: Any] {
            truncation["json_bytes"] = nil
            truncation["sentence"] = nil
            object["truncation"] = truncation
        }
        if var setup = object["setup"] as? [String: Any] {
            setup["duration_s"] = nil
            object["setup"] = setup
        }
        if var shard = object["shard"] as? [String: Any] {
            shard["durations_s"] = nil
            object["shard"] = shard
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// The first key path where two JSON texts differ, for a readable failure.
    static func firstDifference(_ a: String, _ b: String) -> String {
        let x = try? JSONSerialization.jsonObject(with: Data(a.utf8))
        let y = try? JSONSerialization.jsonObject(with: Data(b.utf8))
        return difference(x, y, path: "") ?? "none"
    }

    private static func difference(_ a: Any?, _ b: Any?, path: String) -> String? {
        if let a = a as? [String: Any], let b = b as? [String: Any] {
            for key in Set(a.keys).union(b.keys).sorted() {
                if let found = difference(a[key], b[key], path: path + "." + key) { return found }
            }
            return nil
        }
        if let a = a as? [Any], let b = b as? [Any] {
            guard a.count == b.count else { return "\(path): \(a.count) vs \(b.count) entries" }
            for (index, pair) in zip(a, b).enumerated() {
                if let found = difference(pair.0, pair.1, path: path + "[\(index)]") { return found }
            }
            return nil
        }
        let left = a.map { "\($0)" } ?? "nil"
        let right = b.map { "\($0)" } ?? "nil"
        return left == right ? nil : "\(path): \(left) vs \(right)"
    }
}

@Suite(
    "Shards of a real job merged",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct ShardMergeEndToEndTests {
    /// Fails on seeds divisible by 5 (one way) and by 7 (another), whatever the attempt number.
    static let script = """
        echo "checking seed $TEST_SEED"
        if [ $((TEST_SEED % 5)) -eq 0 ]; then echo "AssertionError: balance was $((TEST_SEED % 9)) not 3" >&2; exit 1; fi
        if [ $((TEST_SEED % 7)) -eq 0 ]; then echo "ConnectionError: peer reset" >&2; exit 2; fi
        """

    func job(_ repo: String, seedStart: UInt64, runs: Int, command: String = "sh check.sh") -> JobInput {
        var input = JobInput(repo: repo, testCommand: command, runs: runs, parallelism: 4, seedStart: seedStart)
        input.rerun = 0
        return input
    }

    @Test("one job of 36 runs and its three shards give the same summary, but for time")
    func realShards() async throws {
        let repo = try TestRepository(files: ["check.sh": Self.script + "\n"])
        let runner = JobRunner()
        let unsplit = try await runner.run(job(repo.path, seedStart: 100, runs: 36), origin: .commandLine)
        var shards: [JobSummary] = []
        for (start, runs) in [(100 as UInt64, 13), (113, 11), (124, 12)] {
            shards.append(try await runner.run(job(repo.path, seedStart: start, runs: runs), origin: .commandLine))
        }
        let merged = try SummaryMerger.merge(shards)
        let expected = try TimeFree.json(unsplit)
        let got = try TimeFree.json(merged)
        #expect(got == expected, "first difference: \(TimeFree.firstDifference(got, expected))")
        #expect(merged.verdict == .flaky)
        #expect(merged.failures == 12)
        #expect(merged.failingSeeds == [100, 105, 110, 112, 115, 119, 120, 125, 126, 130, 133, 135])
        #expect(merged.failureSignaturesTotal == unsplit.failureSignaturesTotal)
        #expect(merged.seedControl?.seed == 100)
        // Shard order is not an input.
        for order in [[2, 0, 1], [1, 2, 0]] {
            #expect(try SummaryMerger.merge(order.map { shards[$0] }).encodedJSON() == merged.encodedJSON())
        }
    }

    @Test(
        "a pytest job's shards give its per-test table, cause signatures, seed reach and order",
        .enabled(if: JobTestMachine.hasPytest, "needs Debian's python3-pytest (scripts/bootstrap.sh installs it)"))
    func pytestShards() async throws {
        let test = moduleSeededTest + "\n\ndef test_ok():\n    assert True\n"
        let repo = try TestRepository(files: ["tests/test_coin.py": test])
        func job(_ start: UInt64, _ runs: Int) -> JobInput {
            var input = JobInput(
                repo: repo.path, testCommand: "python3 -m pytest -q tests", runs: runs, parallelism: 3,
                seedStart: start)
            input.rerun = 0
            input.shuffle = true
            return input
        }
        let runner = JobRunner()
        let unsplit = try await runner.run(job(0, 24), origin: .commandLine)
        var shards: [JobSummary] = []
        for (start, runs) in [(0 as UInt64, 10), (10, 7), (17, 7)] {
            shards.append(try await runner.run(job(start, runs), origin: .commandLine))
        }
        let merged = try SummaryMerger.merge(shards.reversed())
        let expected = try TimeFree.json(unsplit, runnerTimes: true)
        let got = try TimeFree.json(merged, runnerTimes: true)
        #expect(got == expected, "first difference: \(TimeFree.firstDifference(got, expected))")
        // The known answer (the generator seeded with each seed), and what the merge rebuilt.
        let failing = try hostFailingSeeds(
            "from random import seed, random", failsWhen: "random() >= 0.5", seeds: 0..<24)
        #expect(Set(merged.failingSeeds.map(Int.init)) == failing)
        #expect(merged.tests.count == 1 && merged.tests.first?.name.hasSuffix("test_coin") == true, "\(merged.tests)")
        #expect(merged.testsTotal == 2)
        #expect(merged.seedReach?.pluginActive == 24)
        #expect(merged.results.allSatisfy { $0.order?.count == 2 })
    }

    @Test("shards of another commit or command are refused")
    func realRefusals() async throws {
        let repo = try TestRepository(files: ["check.sh": Self.script + "\n"])
        let runner = JobRunner()
        let first = try await runner.run(job(repo.path, seedStart: 0, runs: 3), origin: .commandLine)
        let otherCommand = try await runner.run(
            job(repo.path, seedStart: 3, runs: 3, command: "sh ./check.sh"), origin: .commandLine)
        #expect(MergeFixtures.refusal([first, otherCommand])?.field == "test_command")
        try Data("exit 0\n".utf8).write(to: URL(fileURLWithPath: repo.path + "/check.sh"))
        try repo.commitAll(message: "fixed")
        let otherCommit = try await runner.run(job(repo.path, seedStart: 3, runs: 3), origin: .commandLine)
        let error = MergeFixtures.refusal([first, otherCommit])
        #expect(error?.field == "commit", "\(String(describing: error))")
        #expect(error?.message.contains(first.commit ?? "?") == true)
    }

    @Test("flakebox merge reads run --json files and the worker's {\"output\": …} form, and exits as run does")
    func mergeCommand() async throws {
        let repo = try TestRepository(files: ["check.sh": Self.script + "\n"])
        let directory = NSTemporaryDirectory() + "flakebox-merge-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func run(_ start: Int, _ runs: Int) async throws -> String {
            let run = try await flakebox([
                "run", "--repo", repo.path, "--runs", "\(runs)", "--seed-start", "\(start)", "--parallelism", "3",
                "--rerun", "0", "--json", "--quiet", "--", "sh", "check.sh",
            ])
            #expect(run.status == 1, "\(run.stderr)")
            return run.stdout
        }
        let whole = try await run(40, 16)
        let a = try await run(40, 7)
        let b = try await run(47, 9)
        try Data(a.utf8).write(to: URL(fileURLWithPath: directory + "/a.json"))
        // The worker's reply wraps the summary.
        try Data(("{\"output\": " + b + "}").utf8).write(to: URL(fileURLWithPath: directory + "/b.json"))

        let merged = try await flakebox([
            "merge", directory + "/b.json", directory + "/a.json", "--json", "--output", directory + "/m.json",
        ])
        #expect(merged.status == 1, "\(merged.stderr)")
        let decode = { (text: String) throws -> JobSummary in
            try JSONDecoder().decode(JobSummary.self, from: Data(text.utf8))
        }
        let got = try TimeFree.json(try decode(merged.stdout))
        let expected = try TimeFree.json(try decode(whole))
        #expect(got == expected, "first difference: \(TimeFree.firstDifference(got, expected))")
        let written = try String(contentsOfFile: directory + "/m.json", encoding: .utf8)
        #expect(
            written.trimmingCharacters(in: .whitespacesAndNewlines)
                == merged.stdout.trimmingCharacters(in: .whitespacesAndNewlines))

        let human = try await flakebox(["merge", directory + "/a.json", directory + "/b.json"])
        #expect(human.status == 1)
        #expect(human.stdout.contains("verdict: flaky"), "\(human.stdout)")

        let refused = try await flakebox(["merge", directory + "/a.json", directory + "/a.json"])
        #expect(refused.status == 64)
        #expect(refused.stderr.contains("overlap"), "\(refused.stderr)")
        let missing = try await flakebox(["merge", directory + "/none.json"])
        #expect(missing.status == 64)
    }
}
