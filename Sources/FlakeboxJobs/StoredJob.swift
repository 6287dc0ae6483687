import Foundation

/// One job as the service keeps it: what was asked, who asked, and what became of it. A store
/// saves and loads exactly these fields.
public struct StoredJob: Sendable, Equatable {
    public var id: String
    /// The API key's id that submitted it ("" for the worker's local API); a key sees only its own.
    public var owner: String
    /// The job's `input` object, JSON text as submitted (a flakebox job: repo, test_command, runs…).
    public var input: Data
    public var policy: JobPolicy
    /// Where to POST the final `/status` reply, when asked.
    public var webhook: String?
    public var state: JobState
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// The summary (JSON object text) of a `COMPLETED` job.
    public var output: Data?
    /// Why a job `FAILED` or `TIMED_OUT` (for a handler exception, the SDK's error_info text).
    public var error: String?
    /// How many times it was started: 2 means a restart found it running and ran it again.
    public var starts: Int
    /// How many times `/retry` put it back in the queue.
    public var retries: Int
    /// A finished job is forgotten after this (its retention); nil while it is not finished.
    public var keepUntil: Date?
    /// What the job may cost: runs × per-attempt timeout, in seconds (for per-key quotas).
    public var attemptSeconds: Int
    /// A shard's job (`JobSplitter`): the job it is a part of; nil for a job as submitted.
    public var parentID: String?

    public init(
        id: String, owner: String, input: Data, policy: JobPolicy = JobPolicy(), webhook: String? = nil,
        state: JobState = .inQueue, createdAt: Date = Date(), startedAt: Date? = nil, finishedAt: Date? = nil,
        output: Data? = nil, error: String? = nil, starts: Int = 0, retries: Int = 0, keepUntil: Date? = nil,
        attemptSeconds: Int = 0, parentID: String? = nil
    ) {
        self.id = id
        self.owner = owner
        self.input = input
        self.policy = policy
        self.webhook = webhook
        self.state = state
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.output = output
        self.error = error
        self.starts = starts
        self.retries = retries
        self.keepUntil = keepUntil
        self.attemptSeconds = attemptSeconds
        self.parentID = parentID
    }

    /// When a job still queued expires (`policy.ttl` from its creation).
    public var expiresAt: Date { createdAt.addingTimeInterval(Double(policy.ttlMs) / 1000) }

    /// RunPod's `delayTime` (queued → started) and `executionTime` (started → finished), in ms.
    public var delayTimeMs: Int? {
        startedAt.map { Int(($0.timeIntervalSince(createdAt) * 1000).rounded()) }
    }
    public var executionTimeMs: Int? {
        guard let startedAt, let finishedAt else { return nil }
        return Int((finishedAt.timeIntervalSince(startedAt) * 1000).rounded())
    }
}
