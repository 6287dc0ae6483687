#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A failure of the cgroup layer: what went wrong (``code``), and for a failing system call the
/// operation, the path and the errno, so a report can say e.g. "write …/memory.max: EINVAL".
public struct CgroupError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure. Extensible: new codes may be added.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String, Sendable {
            case unavailable
            case controllerUnavailable
            case invalidName
            case invalidLimits
            case alreadyExists
            case setupFailed
            case createFailed
            case limitRejected
            case readFailed
            case killFailed
            case stillPopulated
            case removeFailed
            case shutDown
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// No usable cgroup hierarchy (see ``CgroupSupport/description`` for why).
        public static let unavailable = Code(.unavailable)
        /// A limit was requested for a controller this machine does not let us use.
        public static let controllerUnavailable = Code(.controllerUnavailable)
        /// An attempt or parent name that is not a single safe path component.
        public static let invalidName = Code(.invalidName)
        /// A limit value outside what the kernel accepts.
        public static let invalidLimits = Code(.invalidLimits)
        /// An attempt group with this name exists already.
        public static let alreadyExists = Code(.alreadyExists)
        /// Creating the per-supervisor parent group or enabling controllers failed.
        public static let setupFailed = Code(.setupFailed)
        /// Creating the attempt group failed.
        public static let createFailed = Code(.createFailed)
        /// The kernel rejected a limit (for example a CPU quota above the enclosing group's).
        public static let limitRejected = Code(.limitRejected)
        /// Reading a cgroup file failed.
        public static let readFailed = Code(.readFailed)
        /// Signalling the group's processes failed.
        public static let killFailed = Code(.killFailed)
        /// The group still had processes when the time allowed ran out.
        public static let stillPopulated = Code(.stillPopulated)
        /// Removing a cgroup directory failed.
        public static let removeFailed = Code(.removeFailed)
        /// The manager has been shut down.
        public static let shutDown = Code(.shutDown)

        public var description: String { value.rawValue }
    }

    /// What failed.
    public let code: Code
    /// A sentence describing the failure.
    public let message: String
    /// The system call or step that failed (`"mkdir"`, `"write"`, `"rmdir"`, …), if any.
    public let operation: String?
    /// The file or directory the operation was applied to, if any.
    public let path: String?
    /// The errno the operation failed with, if any.
    public let errno: Int32?

    init(_ code: Code, _ message: String, operation: String? = nil, path: String? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var description: String {
        var text = "cgroup: \(message)"
        if let operation, let path {
            text += " (\(operation) \(path)"
            if let errno { text += ": \(Self.describe(errno: errno))" }
            text += ")"
        } else if let errno {
            text += " (\(Self.describe(errno: errno)))"
        }
        return text
    }

    /// "EACCES (Permission denied)" — the symbolic name is what people search for.
    static func describe(errno code: Int32) -> String {
        let names: [Int32: String] = [
            EPERM: "EPERM", ENOENT: "ENOENT", ESRCH: "ESRCH", EINTR: "EINTR", EIO: "EIO", EAGAIN: "EAGAIN",
            ENOMEM: "ENOMEM", EACCES: "EACCES", EBUSY: "EBUSY", EEXIST: "EEXIST", ENOTDIR: "ENOTDIR",
            EINVAL: "EINVAL", ENOSPC: "ENOSPC", EROFS: "EROFS", ENOTEMPTY: "ENOTEMPTY", ENOSYS: "ENOSYS",
            EOPNOTSUPP: "EOPNOTSUPP",
        ]
        let reason = String(cString: strerror(code))
        return "\(names[code] ?? "errno \(code)") (\(reason))"
    }
}
