/// How strongly an attempt is isolated, weakest first; detected at start by trying (see
/// `CapabilityProbe`) and reported in every result.
public enum IsolationTier: String, Sendable, Codable, Comparable, CaseIterable {
    /// No namespaces: process group and subreaper, rlimits, seccomp, a per-attempt copy of the
    /// checkout and private TMPDIR/HOME. No network or PID isolation.
    case minimal
    /// Namespaces work but a layer is missing (no overlay: per-attempt copy; no writable cgroup:
    /// rlimits only). Each missing layer is named in the report.
    case reduced
    /// All namespaces, copy-on-write overlay, seccomp and cgroup limits.
    case full

    private var rank: Int {
        switch self {
        case .minimal: 0
        case .reduced: 1
        case .full: 2
        }
    }

    public static func < (lhs: IsolationTier, rhs: IsolationTier) -> Bool { lhs.rank < rhs.rank }
}
