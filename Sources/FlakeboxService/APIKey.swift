import FlakeboxJobs
import Foundation

/// An API key as the service keeps it: never the secret, only its SHA-256. What it may do
/// (`scopes`) and use (`quotas`) travel with it.
public struct APIKey: Sendable, Equatable {
    public enum Scope: String, Sendable, CaseIterable, Codable {
        /// `/run`, `/runsync`, `/cancel`, `/retry`, `/purge-queue` of its own jobs.
        case submit
        /// `/status`, `/stream`, `/health`, the job list and report pages of its own jobs.
        case read
        /// Everything, for every key's jobs (metrics, operators).
        case admin
    }

    /// Public and stable (`key_…`): the owner recorded on its jobs, shown in lists and logs.
    public var id: String
    public var name: String
    /// SHA-256 of the secret, lowercase hex.
    public var secretHash: String
    public var scopes: Set<Scope>
    public var quotas: Quotas
    /// Signs this key's webhooks (Standard Webhooks `whsec_…`, base64 of 32 random bytes).
    public var webhookSecret: String
    public var createdAt: Date
    public var revokedAt: Date?

    public init(
        id: String, name: String, secretHash: String, scopes: Set<Scope>, quotas: Quotas = Quotas(),
        webhookSecret: String, createdAt: Date = Date(), revokedAt: Date? = nil
    ) {
        self.id = id
        self.name = name
        self.secretHash = secretHash
        self.scopes = scopes
        self.quotas = quotas
        self.webhookSecret = webhookSecret
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// What one key may use; over a limit the request gets 429 with `Retry-After`.
    public struct Quotas: Sendable, Equatable, Codable {
        public var maxQueued: Int
        public var maxRunning: Int
        /// runs × per-attempt timeout (seconds) of one job.
        public var maxAttemptSecondsPerJob: Int
        /// The same, summed over the jobs a key submitted in the last 24 hours.
        public var maxAttemptSecondsPerDay: Int
        /// `/runsync` requests of this key waiting at once.
        public var maxSyncWaits: Int

        public init(
            maxQueued: Int = 20, maxRunning: Int = 2, maxAttemptSecondsPerJob: Int = 200 * 600,
            maxAttemptSecondsPerDay: Int = 2_000 * 600, maxSyncWaits: Int = 4
        ) {
            self.maxQueued = maxQueued
            self.maxRunning = maxRunning
            self.maxAttemptSecondsPerJob = maxAttemptSecondsPerJob
            self.maxAttemptSecondsPerDay = maxAttemptSecondsPerDay
            self.maxSyncWaits = maxSyncWaits
        }
    }
}

/// Where API keys live (the service's database; in memory for unit tests).
public protocol APIKeyStore: Sendable {
    func insert(_ key: APIKey) async throws(JobStoreError)
    /// The key whose secret hashes to this, revoked or not (the caller refuses revoked keys).
    func key(secretHash: String) async throws(JobStoreError) -> APIKey?
    func key(id: String) async throws(JobStoreError) -> APIKey?
    func keys() async throws(JobStoreError) -> [APIKey]
    /// Marks a key revoked; false when there is no such key or it was revoked already.
    func revoke(id: String, at: Date) async throws(JobStoreError) -> Bool
}
