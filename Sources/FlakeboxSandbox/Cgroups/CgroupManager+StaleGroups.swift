#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

extension CgroupManager {
    /// Kills and removes groups left behind by supervisors that died without ``shutdown(timeout:)``
    /// (SIGKILL, a crash, `exit()` before deinit): parents named `<prefix><pid>` or
    /// `<prefix><pid>-<anything>` below this process's own cgroups whose pid no longer exists, their
    /// attempt groups, and leftover detection probes. Call it once when a supervisor starts.
    ///
    /// A group whose pid is alive, or is this process's, is never touched. Only use it where every
    /// supervisor sharing this cgroup runs in the same pid namespace, or a live supervisor's pid
    /// could look dead.
    /// - Returns: The directories removed, and the failures for those that could not be.
    @discardableResult
    public static func removeStaleGroups(
        support: CgroupSupport = .detect(),
        prefix: String = "flakebox-",
        timeout: Duration = .seconds(5)
    ) -> (removed: [String], failures: [CgroupError]) {
        var removed: [String] = []
        var failures: [CgroupError] = []
        let deadline = ContinuousClock.now + timeout
        for report in [support.v1, support.v2] {
            for placement in report.placements {
                for name in CgroupFileSystem.subdirectories(of: placement.directory) {
                    guard let pid = stalePID(in: name, prefix: prefix) else { continue }
                    guard pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
                    let parent = placement.appending(name)
                    for child in CgroupFileSystem.subdirectories(of: parent.directory) {
                        let group = AttemptCgroup(
                            name: child, version: report.version, placements: [parent.appending(child)])
                        do throws(CgroupError) {
                            try group.killAll(timeout: max(deadline - ContinuousClock.now, .milliseconds(100)))
                            try group.remove(timeout: max(deadline - ContinuousClock.now, .milliseconds(100)))
                            removed += group.directories
                        } catch {
                            failures.append(error)
                        }
                    }
                    do throws(CgroupError) {
                        try AttemptCgroup.removeDirectory(parent.directory, deadline: deadline)
                        removed.append(parent.directory)
                    } catch {
                        failures.append(error)
                    }
                }
            }
        }
        return (removed, failures)
    }

    /// The pid in `<prefix><pid>[-…]` or in a probe's `flakebox-probe-<pid>-<n>`, if `name` has that form.
    private static func stalePID(in name: String, prefix: String) -> pid_t? {
        for candidate in [prefix, "flakebox-probe-"] where name.hasPrefix(candidate) {
            let digits = name.dropFirst(candidate.count).prefix { $0.isASCII && $0.isNumber }
            let rest = name.dropFirst(candidate.count + digits.count)
            if let pid = pid_t(digits), pid > 0, rest.isEmpty || rest.hasPrefix("-") {
                return pid
            }
        }
        return nil
    }
}
