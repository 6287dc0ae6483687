import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Minimal-tier uids of their own: while an attempt runs it holds a slot, and a root supervisor
/// (container root keeps CAP_SETUID/CAP_SETGID) runs it as that slot's uid, so that attempts
/// cannot signal, trace or read each other or the supervisor, and `kill(-1, SIGKILL)` from that
/// uid ends exactly the attempt. Process-wide: every sandbox of the process shares the range.
public enum AttemptSlots {
    /// Slots per supervisor; beyond them attempts share the sandbox identity (and are reported so).
    public static let count = 256
    private static let used = Mutex<[Bool]>(Array(repeating: false, count: count))

    /// The first uid of this process's range: 2^30 + pid × 256 (pid_max ≤ 2^22, so the range
    /// stays below 2^31 and apart from every other supervisor's and from ordinary accounts).
    public static var baseUID: UInt32 { 0x4000_0000 + (UInt32(getpid()) & 0x3f_ffff) * UInt32(count) }

    /// Takes the lowest free slot, or nil when all are held.
    static func take() -> Int? {
        used.withLock { slots in
            guard let free = slots.firstIndex(of: false) else { return nil }
            slots[free] = true
            return free
        }
    }

    static func release(_ slot: Int) {
        used.withLock { $0[slot] = false }
    }

    /// The uid (and gid) of `slot`.
    public static func uid(_ slot: Int) -> UInt32 { baseUID + UInt32(slot) }
}
