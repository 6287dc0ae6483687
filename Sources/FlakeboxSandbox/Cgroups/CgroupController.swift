/// The cgroup features flakebox uses for an attempt.
///
/// The names follow cgroup v1. On cgroup v2 ``cpuacct`` stands for the core `cpu.stat` accounting,
/// which every v2 group has whether or not the `cpu` controller is enabled.
public enum CgroupController: String, Sendable, Hashable, CaseIterable, Comparable, CustomStringConvertible {
    /// Memory limit, peak usage and OOM-kill accounting.
    case memory
    /// Process (task) count limit.
    case pids
    /// CPU bandwidth limit (CFS quota).
    case cpu
    /// CPU time accounting.
    case cpuacct

    public var description: String { rawValue }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
