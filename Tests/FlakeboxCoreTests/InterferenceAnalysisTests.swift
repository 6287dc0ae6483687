import FlakeboxSandbox
import Foundation
import Testing

@testable import FlakeboxCore

@Suite("Interference: the shared runs told apart from the test's own flakiness")
struct InterferenceAnalysisTests {
    static func record(_ seed: UInt64, failed: Bool, _ output: String = "") -> AttemptRecord {
        let bytes = Array(output.utf8)
        let result = AttemptResult(
            status: failed ? .failed : .passed, exitCode: failed ? 1 : 0, signal: nil, setupFailure: nil,
            wallSeconds: 1, cpuSeconds: nil, peakMemoryBytes: nil,
            stdout: CapturedOutput(head: bytes, tail: [], totalBytes: UInt64(bytes.count)),
            stderr: CapturedOutput(head: [], tail: [], totalBytes: 0), tier: .full)
        return AttemptRecord(attempt: Int(seed), seed: seed, result: result)
    }

    static let portError = "    s.bind((\"127.0.0.1\", 47123))\nE   OSError: [Errno 98] Address already in use"

    @Test("failures only when shared, naming a port: collides on that port")
    func collidesOnPort() {
        let alone = (0..<6).map { Self.record($0, failed: false) }
        let shared = SharedRuns(
            records: (0..<6).map { Self.record($0, failed: $0 % 2 == 1, $0 % 2 == 1 ? Self.portError : "") },
            copiesAtOnce: 2, planned: 6)
        let finding = JobSummary.Interference(isolated: alone, shared: shared)
        #expect(finding.collides && finding.sharedOnlyFailures == 3 && finding.isolatedFailures == 0)
        #expect(finding.resources.map(\.name) == ["47123"] && finding.resources.first?.runs == 3)
        #expect(finding.sentence.hasPrefix("Collides when run in parallel") && finding.sentence.contains("port 47123"))
    }

    @Test("the same seeds failing alone and shared: the test's own, not a collision")
    func intrinsic() {
        let alone = (0..<8).map { Self.record($0, failed: $0 % 2 == 1, "AssertionError: odd seed") }
        let shared = SharedRuns(
            records: (0..<8).map { Self.record($0, failed: $0 % 2 == 1, "AssertionError: odd seed") },
            copiesAtOnce: 2, planned: 8)
        let finding = JobSummary.Interference(isolated: alone, shared: shared)
        #expect(!finding.collides && finding.sharedOnlyFailures == 0 && finding.failures == 4)
        #expect(finding.sentence.hasPrefix("Not a collision"), "\(finding.sentence)")
    }

    @Test("a resource the test names alone too is its own; a lone unexplained failure is not enough")
    func ownResourceAndChance() {
        let alone = [Self.record(0, failed: true, Self.portError)] + (1..<6).map { Self.record($0, failed: false) }
        let shared = SharedRuns(
            records: [Self.record(0, failed: true, Self.portError), Self.record(1, failed: true, Self.portError)]
                + (2..<6).map { Self.record($0, failed: false) }, copiesAtOnce: 2, planned: 6)
        let finding = JobSummary.Interference(isolated: alone, shared: shared)
        #expect(!finding.collides && finding.resources.isEmpty)

        let once = SharedRuns(
            records: [Self.record(0, failed: true, "boom")] + (1..<6).map { Self.record($0, failed: false) },
            copiesAtOnce: 2, planned: 6)
        let unexplained = JobSummary.Interference(
            isolated: (0..<6).map { Self.record($0, failed: false) }, shared: once)
        #expect(!unexplained.collides && unexplained.sentence.hasPrefix("Inconclusive"))
    }

    @Test("the shared plan: every copy its own seed, output files and reports, one artifact pattern")
    func sharedPlan() {
        let input = JobInput(repo: "/r", testCommand: "python3 -m pytest -q", runs: 4, parallelism: 2)
        let planner = AttemptPlanner(input: input, workspace: "/workspace")
        let plan = SharedCheckoutPlan(planner: planner, indices: [2, 3])
        #expect(plan.copies.map(\.seed) == [2, 3] && plan.artifacts == ["/workspace/.flakebox-shared/*"])
        let script = plan.command[2]
        #expect(script.contains(#""$d/0.out""#) && script.contains(#""$d/1.status""#))
        #expect(plan.environment["_FB_DIR"] == "/workspace/.flakebox-shared")
        #expect(plan.environment["_FB0_TEST_SEED"] == "2" && plan.environment["_FB1_TEST_SEED"] == "3")
        #expect(script.contains(#"TEST_SEED="$_FB1_TEST_SEED""#) && script.contains("unset _FB_DIR _FB0_"))
        #expect(
            plan.environment["_FB0_PYTEST_FLAKEBOX_REPORT"] == "/workspace/.flakebox-shared/0..flakebox-pytest.json")
        #expect(
            plan.environment["_FB1_PYTEST_ADDOPTS"]?.contains("--junitxml=/workspace/.flakebox-shared/1.junit.xml")
                == true)
        #expect(script.hasSuffix("\nwait") && SharedCheckoutPlan.copies(parallelism: 1) == 2)
        #expect(SharedCheckoutPlan.copies(parallelism: 50) == 8)
    }
}
