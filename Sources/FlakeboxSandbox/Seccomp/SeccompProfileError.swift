/// Why a seccomp profile could not be loaded or compiled.
///
/// ``path`` names the offending JSON field (`syscalls[12].args[0].op`); it is empty when the whole
/// document is at fault (not JSON at all, unreadable file). ``description`` joins the two:
/// `syscalls[12].args[0].op: unknown operator "SCMP_CMP_FOO"`.
public struct SeccompProfileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem this is. Extensible: switch with a `default`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The file could not be read.
        public static let unreadable = Code("unreadable")
        /// The bytes are not valid JSON.
        public static let invalidJSON = Code("invalidJSON")
        /// A field has the wrong JSON type, e.g. a string where a number belongs.
        public static let wrongType = Code("wrongType")
        /// A required field is absent.
        public static let missingField = Code("missingField")
        /// A field flakebox (and the OCI / Docker format) does not define.
        public static let unknownField = Code("unknownField")
        /// Two fields that exclude each other are both given (`names` and `name`, `archMap` and
        /// `architectures`).
        public static let conflictingFields = Code("conflictingFields")
        /// A value of the right type that is not allowed: unknown action, operator, architecture or
        /// flag, a bad kernel version.
        public static let invalidValue = Code("invalidValue")
        /// A number outside the range its field allows.
        public static let outOfRange = Code("outOfRange")
        /// Two rules for the same system call that libseccomp cannot both honour: an unconditional rule
        /// and another rule with a different action (libseccomp 2.5 refuses one or silently drops it).
        public static let conflictingRules = Code("conflictingRules")
        /// A system call name that no architecture knows.
        public static let unknownSyscall = Code("unknownSyscall")
        /// Valid in the format, but flakebox does not support it (`SCMP_ACT_NOTIFY`, filtering for an
        /// architecture other than the host's).
        public static let unsupported = Code("unsupported")
        /// libseccomp refused an operation.
        public static let libseccompFailed = Code("libseccompFailed")
        /// The compiled program exceeds the kernel's `BPF_MAXINSNS`.
        public static let programTooLarge = Code("programTooLarge")
    }

    /// The kind of problem.
    public var code: Code
    /// The JSON field path, e.g. `syscalls[3].names[0]`; empty for the document as a whole.
    public var path: String
    /// A human sentence saying what is wrong.
    public var message: String

    /// Creates an error.
    public init(code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String {
        path.isEmpty ? message : "\(path): \(message)"
    }
}
