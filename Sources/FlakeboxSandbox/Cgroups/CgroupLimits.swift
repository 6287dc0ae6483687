/// Resource limits for one attempt's cgroup. `nil` means "no limit of this kind" (the enclosing
/// cgroup's limits still apply, because flakebox's groups live below the supervisor's own cgroup).
public struct CgroupLimits: Sendable, Hashable {
    /// Hard memory limit in bytes. When set, swap is limited to zero as well, so a hog is OOM-killed
    /// instead of pushing the machine into swap.
    public var memoryBytes: UInt64?
    /// Maximum number of tasks (processes and threads) in the group; forks beyond it fail with EAGAIN.
    public var pidsMax: Int?
    /// CPU bandwidth in cores (e.g. `0.5`), enforced as a CFS quota per ``cpuPeriodMicroseconds``.
    public var cpuCores: Double?
    /// The CFS period the quota is expressed in.
    public var cpuPeriodMicroseconds: UInt64

    /// No limits.
    public static let unlimited = CgroupLimits()

    public init(
        memoryBytes: UInt64? = nil,
        pidsMax: Int? = nil,
        cpuCores: Double? = nil,
        cpuPeriodMicroseconds: UInt64 = 100_000
    ) {
        self.memoryBytes = memoryBytes
        self.pidsMax = pidsMax
        self.cpuCores = cpuCores
        self.cpuPeriodMicroseconds = cpuPeriodMicroseconds
    }

    /// The controllers these limits need.
    public var requiredControllers: Set<CgroupController> {
        var controllers: Set<CgroupController> = []
        if memoryBytes != nil { controllers.insert(.memory) }
        if pidsMax != nil { controllers.insert(.pids) }
        if cpuCores != nil { controllers.insert(.cpu) }
        return controllers
    }

    /// These limits without the ones `controllers` cannot enforce, for a runner that prefers to run
    /// with fewer limits (and say so) over refusing to run.
    public func enforceable(with controllers: Set<CgroupController>) -> CgroupLimits {
        var limits = self
        if !controllers.contains(.memory) { limits.memoryBytes = nil }
        if !controllers.contains(.pids) { limits.pidsMax = nil }
        if !controllers.contains(.cpu) { limits.cpuCores = nil }
        return limits
    }

    /// The CFS quota for ``cpuCores``, or `nil` when CPU is not limited. The kernel refuses quotas below 1 ms.
    public var cpuQuotaMicroseconds: UInt64? {
        guard let cpuCores else { return nil }
        return max(1000, UInt64((cpuCores * Double(cpuPeriodMicroseconds)).rounded()))
    }

    /// Checks the values before anything is written to the kernel, so a bad value is reported as such
    /// rather than as an EINVAL from some cgroup file.
    public func validate() throws(CgroupError) {
        if let memoryBytes, memoryBytes < 1 << 20 {
            throw CgroupError(.invalidLimits, "memory limit \(memoryBytes) bytes is below 1 MiB")
        }
        if let pidsMax, pidsMax < 1 {
            throw CgroupError(.invalidLimits, "pids limit \(pidsMax) is below 1")
        }
        if let cpuCores, !(cpuCores.isFinite && cpuCores > 0) {
            throw CgroupError(.invalidLimits, "cpu limit \(cpuCores) cores is not a positive number")
        }
        // The kernel accepts periods from 1 ms to 1 s.
        if !(1000...1_000_000).contains(cpuPeriodMicroseconds) {
            throw CgroupError(.invalidLimits, "cpu period \(cpuPeriodMicroseconds) µs is outside 1000…1000000")
        }
    }
}
