/// Accounting read back from an attempt's cgroup. A field is `nil` when the controller or file that
/// provides it is not available (for example no `memory.peak` and no samples on an old v2 kernel).
public struct CgroupStatistics: Sendable, Hashable {
    /// Peak memory charged to the group (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`).
    public var peakMemoryBytes: UInt64?
    /// `true` when ``peakMemoryBytes`` is the largest sampled `memory.current`, not a kernel watermark,
    /// so the real peak may have been higher.
    public var peakMemoryIsSampled: Bool
    /// CPU time used by all tasks of the group (v1 `cpuacct.usage`, v2 `cpu.stat usage_usec`).
    public var cpuTimeNanoseconds: UInt64?
    /// Time the group was throttled by its CPU quota (v1 `cpu.stat throttled_time`, v2 `throttled_usec`).
    public var cpuThrottledNanoseconds: UInt64?
    /// Processes the OOM killer killed in the group (v1 `memory.oom_control oom_kill`, v2 `memory.events`).
    public var oomKills: Int?
    /// How often the group's own memory limit was reached (v1 `memory.failcnt`, v2 `memory.events`
    /// `max` + `oom`). An OOM kill with none of these came from outside the group: the host, or
    /// the job's budget, ran short; never the attempt's own limit.
    public var memoryLimitHits: Int?
    /// Most tasks the group held at once (`pids.peak`, kernel 6.13+ on v2).
    public var peakProcesses: Int?
    /// How often a fork failed because of the pids limit (`pids.events max`).
    public var processLimitHits: Int?

    public init(
        peakMemoryBytes: UInt64? = nil,
        peakMemoryIsSampled: Bool = false,
        cpuTimeNanoseconds: UInt64? = nil,
        cpuThrottledNanoseconds: UInt64? = nil,
        oomKills: Int? = nil,
        memoryLimitHits: Int? = nil,
        peakProcesses: Int? = nil,
        processLimitHits: Int? = nil
    ) {
        self.peakMemoryBytes = peakMemoryBytes
        self.peakMemoryIsSampled = peakMemoryIsSampled
        self.cpuTimeNanoseconds = cpuTimeNanoseconds
        self.cpuThrottledNanoseconds = cpuThrottledNanoseconds
        self.oomKills = oomKills
        self.memoryLimitHits = memoryLimitHits
        self.peakProcesses = peakProcesses
        self.processLimitHits = processLimitHits
    }
}
