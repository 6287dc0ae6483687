#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// SIGKILLs the processes listed in a cgroup without hitting a recycled pid.
///
/// A pid read from `cgroup.procs` may exit and be reused before `kill(2)` runs (pid_max is 32768
/// on many hosts). So each pid is first pinned with a pidfd, membership is read again, and only
/// pinned processes still listed are signalled: if the pidfd's process is alive at the second read,
/// it is the one listed; if it died, the signal fails harmlessly with ESRCH.
enum CgroupProcessKiller {
    private typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32
    private typealias PidfdSendSignal = @convention(c) (Int32, Int32, UnsafeMutableRawPointer?, UInt32) -> Int32

    // Looked up at run time: Swift's Glibc module does not import <sys/pidfd.h>, and glibc < 2.36
    // or musl may lack the wrappers, in which case we fall back to kill(2).
    private static let pidfdOpen: PidfdOpen? = symbol("pidfd_open", as: PidfdOpen.self)
    private static let pidfdSendSignal: PidfdSendSignal? = symbol("pidfd_send_signal", as: PidfdSendSignal.self)

    private static func symbol<T>(_ name: String, as type: T.Type) -> T? {
        guard let handle = dlopen(nil, RTLD_NOW), let address = dlsym(handle, name) else { return nil }
        return unsafeBitCast(address, to: type)
    }

    /// Signals every process in `pids` that `currentMembers()` still lists after it was pinned.
    /// Returns the first unexpected errno (EPERM, …); ESRCH (already gone) is not an error.
    static func signal(
        _ pids: [pid_t],
        signal: Int32 = SIGKILL,
        currentMembers: () throws(CgroupError) -> Set<pid_t>
    ) throws(CgroupError) -> Int32? {
        var pinned: [(pid: pid_t, fd: Int32)] = []
        var unpinned: [pid_t] = []
        defer { for entry in pinned { close(entry.fd) } }
        for pid in pids {
            guard let pidfdOpen, pidfdSendSignal != nil else {
                unpinned.append(pid)
                continue
            }
            let fd = pidfdOpen(pid, 0)
            if fd >= 0 {
                pinned.append((pid, fd))
            } else if errno == ENOSYS {
                unpinned.append(pid)  // kernel < 5.3
            }
            // ESRCH: it exited after the listing; nothing to do.
        }
        let members = try currentMembers()
        var failure: Int32?
        for entry in pinned where members.contains(entry.pid) {
            if pidfdSendSignal!(entry.fd, signal, nil, 0) != 0 && errno != ESRCH {
                failure = failure ?? errno
            }
        }
        // Without pidfds the re-check at least narrows the window to the time between two syscalls.
        for pid in unpinned where members.contains(pid) {
            if kill(pid, signal) != 0 && errno != ESRCH {
                failure = failure ?? errno
            }
        }
        return failure
    }
}
