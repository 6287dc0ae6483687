import FlakeboxSandbox
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A job's directory under the work root: `job-<pid>-<id>`, so that the checkouts of a supervisor
/// that died without cleaning up (`kill -9`, a crash, a lost machine) are recognised by the next
/// flakebox process that starts a job, and removed.
enum JobDirectory {
    static func make(in workRoot: String) -> String {
        "\(workRoot)/job-\(getpid())-\(UUID().uuidString.prefix(12))"
    }

    /// Removes every `job-<pid>-…` directory whose pid is gone. Directories of another naming are
    /// left alone.
    static func removeStale(in workRoot: String) {
        ScratchSweeper.removeStale(in: [workRoot], ownerPID: ownerPID)
    }

    /// The pid in `job-<pid>-<id>`, or nil.
    static func ownerPID(_ name: String) -> pid_t? {
        guard name.hasPrefix("job-") else { return nil }
        let rest = name.dropFirst(4)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count < 10, rest.dropFirst(digits.count).hasPrefix("-") else { return nil }
        return pid_t(digits)
    }
}
