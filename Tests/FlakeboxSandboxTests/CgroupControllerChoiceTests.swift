import FlakeboxSandbox
import Testing

@Suite("Cgroups: only the controllers asked for")
struct CgroupControllerChoiceTests {
    @Test(
        "a manager limited to memory and pids makes groups in those hierarchies only",
        .enabled(
            if: CgroupTestEnvironment.support.version == .v1 && CgroupTestEnvironment.has(.memory, .pids, .cpu),
            "needs cgroup v1 with memory, pids and cpu (v2 has one hierarchy, so there is nothing to choose)"))
    func onlyWanted() throws {
        let manager = try CgroupManager(
            parentName: "flakebox-choice-\(UInt32.random(in: 0...UInt32.max))", controllers: [.memory, .pids])
        defer { try? manager.shutdown() }
        #expect(manager.controllers == [.memory, .pids])
        let group = try manager.makeAttemptGroup(name: "a1", limits: CgroupLimits(memoryBytes: 64 << 20, pidsMax: 32))
        #expect(group.directories.count == 2)
        #expect(group.directories.allSatisfy { $0.contains("/memory") || $0.contains("/pids") })
        #expect(throws: CgroupError.self) {
            try manager.makeAttemptGroup(name: "a2", limits: CgroupLimits(cpuCores: 0.5))
        }
        try group.remove()
    }
}
