import FlakeboxJobs
import Foundation
import Hummingbird

/// What every route uses: the job service and its store, who is asking, the report link signer,
/// metrics, and the service's own settings.
struct ServiceAPI: Sendable {
    /// RunPod's own limits on a request body.
    static let maxRunBytes = 10 << 20
    static let maxRunSyncBytes = 20 << 20
    static let runSyncWaitRange = 1_000...300_000
    static let defaultRunSyncWaitMs = 90_000

    let jobs: JobService
    let store: any JobStore
    /// Per-key quotas, checked before a job is queued and while a runsync waits.
    let quotas: QuotaGate
    /// The API keys (the authenticator looks them up here).
    let keys: any APIKeyStore
    let signer: ReportLinkSigner
    let metrics: ServiceMetrics
    let ledger: StreamLedger
    let state: ServiceState
    let endpointID: String
    /// Jobs run at once (`/health`'s workers).
    let concurrency: Int
    let allowLocalRepositories: Bool
    /// Refuses repositories and webhooks the service must not reach (private addresses, hosts
    /// not allowed).
    let addressGuard: OutboundAddressGuard
    /// Tells whether the database answers (readiness).
    let databaseReachable: @Sendable () async -> Bool
    /// Where clients reach the service (`--public-url`), for report links.
    var publicURL: String? = nil

    /// The job when `key` may see it; 404 for an unknown id and for another key's job alike.
    func job(_ id: String, for key: APIKey) async throws(ServiceError) -> StoredJob {
        guard let job = try await load(id), key.maySee(job) else { throw .jobNotFound(id) }
        return job
    }

    func load(_ id: String) async throws(ServiceError) -> StoredJob? {
        // Job ids are UUIDs; anything else is not looked up.
        guard id.utf8.count <= 64 else { return nil }
        do {
            return try await jobs.job(id: id)
        } catch {
            throw Self.storeFailure(error)
        }
    }

    /// The full `/status` reply of a job.
    func status(_ job: StoredJob, request: Request) async -> [UInt8] {
        var reply = JobStatusReply(job: job)
        if job.state == .inProgress { reply.progress = await jobs.progress(of: job.id) }
        if job.state.isFinal, job.output != nil { reply.reportURL = reportURL(job.id, request: request) }
        return reply.bytes
    }

    /// An absolute link to a job's report page, signed and expiring.
    func reportURL(_ id: String, request: Request) -> String {
        let query = signer.query(id: id, expires: Date().addingTimeInterval(ReportLinkSigner.lifetime))
        let base = publicURL ?? "http://\(request.head.authority ?? "127.0.0.1")"
        return "\(base)/v2/\(endpointID)/report/\(id)?\(query)"
    }

    static func storeFailure(_ error: JobStoreError) -> ServiceError {
        switch error.code {
        case .full: ServiceError(.tooManyRequests, "the queue is full: \(error.message)", retryAfter: 30)
        case .duplicate: ServiceError(.conflict, error.message)
        case .unavailable, .corrupt:
            ServiceError.unavailable("the job database failed: \(error.message)", retryAfter: 5)
        }
    }

    /// A bounded integer query value; 400 naming it when it is not one.
    static func queryInteger(_ request: Request, _ name: String, in range: ClosedRange<Int>) throws(ServiceError)
        -> Int?
    {
        guard let raw = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int(raw), range.contains(value) else {
            throw .badRequest("\(name) must be a whole number between \(range.lowerBound) and \(range.upperBound)")
        }
        return value
    }
}

extension APIKey {
    /// Whether this key may see `job`: its own, or any with the admin scope. Others' jobs are
    /// answered as unknown (404), so ids cannot be probed.
    func maySee(_ job: StoredJob) -> Bool { job.owner == id || scopes.contains(.admin) }
}
