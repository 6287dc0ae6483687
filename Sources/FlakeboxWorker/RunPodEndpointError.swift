/// Why a call to a RunPod endpoint's client API (`/run`, `/status`, `/cancel`), or a job fanned
/// out over it, failed.
public struct RunPodEndpointError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        /// 401 or 403: the key was refused.
        public static let unauthorized = Code(name: "unauthorized")
        /// Another status outside 2xx.
        public static let http = Code(name: "http")
        /// No reply: refused, reset, timed out.
        public static let transport = Code(name: "transport")
        /// A reply that is not the shape the API documents.
        public static let badReply = Code(name: "bad_reply")
        /// A shard's job failed for a platform reason, and its retries did too.
        public static let shardFailed = Code(name: "shard_failed")
        /// A shard's job ended with a job error (input refused, clone or setup failed): not retried.
        public static let jobFailed = Code(name: "job_failed")
        /// The fan-out was cancelled (its shards' jobs were cancelled first).
        public static let cancelled = Code(name: "cancelled")
        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// The HTTP status, when there was one.
    public var status: Int?

    public init(_ code: Code, _ message: String, status: Int? = nil) {
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { message }
}
