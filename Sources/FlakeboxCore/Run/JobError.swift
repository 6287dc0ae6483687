/// A job that could not produce a summary: bad input, a repository that would not clone, a setup
/// that failed, a machine that cannot isolate as the policy asks. Never a test failure.
public struct JobError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public static let invalidInput = Code(name: "invalid_input")
        public static let fetchFailed = Code(name: "fetch_failed")
        public static let setupFailed = Code(name: "setup_failed")
        public static let policy = Code(name: "policy")
        public static let sandbox = Code(name: "sandbox")
        public static let cancelled = Code(name: "cancelled")
        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// The end of a log that explains it (git's stderr, the setup output).
    public var logTail: String?

    public init(_ code: Code, _ message: String, logTail: String? = nil) {
        self.code = code
        self.message = message
        self.logTail = logTail
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let logTail, !logTail.isEmpty { text += "\n" + logTail }
        return text
    }
}
