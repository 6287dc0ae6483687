import FlakeboxSandbox
import Foundation
import Testing

/// A job's memory budget on the attempts' parent cgroup, and an OOM kill that did not come from
/// an attempt's own limit told apart from one that did.
@Suite(
    "memory: the job's budget and whose OOM it was",
    .enabled(if: TestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct MemoryBudgetTests {
    static let hog = "python3 -c 'b = bytearray(200 << 20); b[::4096] = b\"x\" * len(b[::4096]); print(\"alive\")'"

    /// The hog under its own `limit` in a sandbox whose attempts share `budget`; nil (said why)
    /// when cgroups do not work here.
    static func hog(limit: UInt64, budget: UInt64) async throws -> AttemptResult? {
        let policy = try TestMachine.policy { $0.limits.memory = limit }
        let sandbox = try Sandbox(policy: policy, options: .init(memoryBudgetBytes: budget))
        guard sandbox.isolation.cgroupsUsable else {
            print("[flakebox tests] memory budget skipped: cgroups are not usable here")
            return nil
        }
        return try await sandbox.sh(hog)
    }

    @Test("an attempt killed at the job's budget, below its own limit, is a harness error (host-memory), never oom")
    func budgetKillIsHarnessError() async throws {
        guard let result = try await Self.hog(limit: 512 << 20, budget: 96 << 20) else { return }
        #expect(result.status == .sandboxError, "\(result.summary)")
        #expect(result.setupFailure?.stage == "host-memory", "\(result.summary)")
        #expect(!result.out.contains("alive"), "\(result.summary)")
    }

    @Test("the control: the same hog over its own limit is oom")
    func ownLimitIsOOM() async throws {
        guard let result = try await Self.hog(limit: 96 << 20, budget: 512 << 20) else { return }
        #expect(result.status == .oom, "\(result.summary)")
    }
}
