/// What the kernel does when a seccomp rule (or the default) matches, as profiles spell it.
public enum SeccompAction: String, Sendable, Hashable, CaseIterable, Decodable {
    /// Docker's old name for ``killThread``.
    case kill = "SCMP_ACT_KILL"
    case killProcess = "SCMP_ACT_KILL_PROCESS"
    case killThread = "SCMP_ACT_KILL_THREAD"
    case trap = "SCMP_ACT_TRAP"
    /// Fail with `errnoRet` (falling back to `defaultErrnoRet`, then `EPERM`).
    case errno = "SCMP_ACT_ERRNO"
    /// Notify a ptrace tracer with `errnoRet` as the message.
    case trace = "SCMP_ACT_TRACE"
    case allow = "SCMP_ACT_ALLOW"
    case log = "SCMP_ACT_LOG"
    /// Hand the call to a user-space agent; flakebox rejects profiles that use it.
    case notify = "SCMP_ACT_NOTIFY"

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let action = SeccompAction(rawValue: text) else {
            let known = SeccompAction.allCases.map(\.rawValue).joined(separator: ", ")
            throw decoder.profileError(.invalidValue, "unknown action \"\(text)\" (expected one of: \(known))")
        }
        self = action
    }

    /// Whether the action stops the call from running (so new, unknown system calls may be answered
    /// with `ENOSYS` instead).
    var denies: Bool {
        switch self {
        case .kill, .killProcess, .killThread, .trap, .errno: true
        case .trace, .allow, .log, .notify: false
        }
    }
}
