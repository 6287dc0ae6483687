import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Removes the scratch directories (`flakebox-<pid>`, `flakebox-probe-<pid>-…`) of supervisors
/// that are gone: a process that exits without its sandboxes' deinit (a CLI returning while a
/// launcher is still being started, a killed worker) would otherwise leave them, and on
/// `/dev/shm` they hold memory.
public enum ScratchSweeper {
    /// Removes the entries of `directories` that `ownerPID` names a pid for, when that pid is gone.
    public static func removeStale(in directories: [String], ownerPID: (String) -> pid_t? = ownerPID) {
        for directory in directories {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            for entry in entries {
                guard let pid = ownerPID(entry), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
                WorkspaceFiles.removeTree("\(directory)/\(entry)")
            }
        }
    }

    /// The pid in `flakebox-<pid>` or `flakebox-probe-<pid>-<tier>`, or nil for anything else.
    public static func ownerPID(_ name: String) -> pid_t? {
        var rest = Substring(name)
        guard rest.hasPrefix("flakebox-") else { return nil }
        rest = rest.dropFirst("flakebox-".count)
        if rest.hasPrefix("probe-") { rest = rest.dropFirst("probe-".count) }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count == rest.count || rest.dropFirst(digits.count).hasPrefix("-") else {
            return nil
        }
        return pid_t(digits)
    }
}
