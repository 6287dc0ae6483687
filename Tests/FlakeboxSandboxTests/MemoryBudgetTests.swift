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

    @Test("an attempt killed at the job's budget, below its own limit, is a harness error (host-memory), never oom")
    func budgetKillIsHarnessError() async throws {
        let policy = try TestMachine.policy { $0.limits.memory = 512 << 20 }
        let sandbox = try Sandbox(policy: policy, options: .init(memoryBudgetBytes: 96 << 20))
        guard sandbox.isolation.cgroupsUsable else {
            print("[flakebox tests] memory budget skipped: cgroups are not usable here")
            return
        }
        let result = try await sandbox.sh(Self.hog)
        #expect(result.status == .sandboxError, "\(result.summary)")
        #expect(result.setupFailure?.stage == "host-memory", "\(result.summary)")
        #expect(!result.out.contains("alive"), "\(result.summary)")
    }

    @Test("the control: the same hog over its own limit is oom")
    func ownLimitIsOOM() async throws {
        let policy = try TestMachine.policy { $0.limits.memory = 96 << 20 }
        let sandbox = try Sandbox(policy: policy, options: .init(memoryBudgetBytes: 512 << 20))
        guard sandbox.isolation.cgroupsUsable else {
            print("[flakebox tests] memory budget skipped: cgroups are not usable here")
            return
        }
        let result = try await sandbox.sh(Self.hog)
        #expect(result.status == .oom, "\(result.summary)")
    }
}
