import FlakeboxSandbox
import Testing

@Suite("Cgroup limits")
struct CgroupLimitsTests {
    @Test("the CPU quota follows the cores and period, with the kernel's 1 ms floor")
    func quota() {
        #expect(CgroupLimits(cpuCores: 0.5).cpuQuotaMicroseconds == 50_000)
        #expect(CgroupLimits(cpuCores: 2).cpuQuotaMicroseconds == 200_000)
        #expect(CgroupLimits(cpuCores: 0.001).cpuQuotaMicroseconds == 1000)
        #expect(CgroupLimits(cpuCores: 1, cpuPeriodMicroseconds: 10_000).cpuQuotaMicroseconds == 10_000)
        #expect(CgroupLimits().cpuQuotaMicroseconds == nil)
    }

    @Test("limits name the controllers they need")
    func requiredControllers() {
        #expect(CgroupLimits.unlimited.requiredControllers.isEmpty)
        #expect(CgroupLimits(memoryBytes: 1 << 30, pidsMax: 5).requiredControllers == [.memory, .pids])
    }

    @Test("limits can be reduced to what the available controllers enforce")
    func enforceable() {
        let limits = CgroupLimits(memoryBytes: 1 << 30, pidsMax: 64, cpuCores: 1)
        #expect(limits.enforceable(with: [.pids, .cpuacct]) == CgroupLimits(pidsMax: 64))
        #expect(limits.enforceable(with: Set(CgroupController.allCases)) == limits)
    }

    @Test(
        "values the kernel would reject are refused up front",
        arguments: [
            CgroupLimits(memoryBytes: 4096),
            CgroupLimits(pidsMax: 0),
            CgroupLimits(cpuCores: 0),
            CgroupLimits(cpuCores: -1),
            CgroupLimits(cpuCores: .nan),
            CgroupLimits(cpuCores: .infinity),
            CgroupLimits(cpuCores: 1, cpuPeriodMicroseconds: 10),
        ])
    func invalid(limits: CgroupLimits) {
        #expect(throws: CgroupError.self) { try limits.validate() }
        do {
            try limits.validate()
        } catch {
            #expect(error.code == .invalidLimits)
        }
    }

    @Test("sensible values pass")
    func valid() throws {
        try CgroupLimits(memoryBytes: 64 << 20, pidsMax: 16, cpuCores: 0.5).validate()
        try CgroupLimits.unlimited.validate()
    }
}
