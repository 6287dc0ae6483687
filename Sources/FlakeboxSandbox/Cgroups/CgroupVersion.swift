/// Which cgroup interface a ``CgroupManager`` drives.
public enum CgroupVersion: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The legacy per-controller hierarchies (`/sys/fs/cgroup/memory`, `…/pids`, …).
    case v1
    /// The unified hierarchy (`cgroup2`).
    case v2

    public var description: String { rawValue }
}
