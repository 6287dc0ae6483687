#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A failure of the sandbox machinery itself (never of a test): what failed and why.
public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public static let helperNotFound = Code(name: "helper_not_found")
        public static let policy = Code(name: "policy")
        public static let seccomp = Code(name: "seccomp")
        public static let tierTooWeak = Code(name: "tier_too_weak")
        public static let system = Code(name: "system")
        public static let workspace = Code(name: "workspace")
        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// The errno of the failing call, when there was one.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    static func system(_ call: String, _ err: Int32) -> SandboxError {
        SandboxError(.system, "\(call): \(String(cString: strerror(err)))", errno: err)
    }

    public var description: String { "\(code): \(message)" }
}
