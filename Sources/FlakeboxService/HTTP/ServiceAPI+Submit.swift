import FlakeboxCore
import FlakeboxJobs
import Foundation
import Hummingbird
import NIOCore

extension ServiceAPI {
    /// `POST run` and `POST runsync`: the body checked whole, the job queued, and for runsync a
    /// wait for its end.
    func submit(_ request: Request, context: ServiceRequestContext, sync: Bool) async throws -> Response {
        var request = request
        // Query values first: a bad `wait` queues nothing.
        let waitMs =
            sync
            ? try Self.queryInteger(request, "wait", in: Self.runSyncWaitRange) ?? Self.defaultRunSyncWaitMs : 0
        let key = try context.require(.submit)
        guard !state.draining else { throw ServiceError.unavailable("the service is shutting down", retryAfter: 30) }
        let limit = sync ? Self.maxRunSyncBytes : Self.maxRunBytes
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch {
            throw ServiceError.tooLarge(limit)
        }
        let submitted = try SubmitRequest.parse(
            Data(body.readableBytesView), allowLocalRepositories: allowLocalRepositories)
        try checkAddresses(submitted)
        let job = StoredJob(
            id: UUID().uuidString.lowercased(), owner: key.id, input: submitted.input, policy: submitted.policy,
            webhook: submitted.webhook, attemptSeconds: QuotaGate.attemptSeconds(of: submitted.job))
        // A runsync wait is counted before the job is queued: over the quota, nothing is.
        if sync { try await quotas.acquireSyncWait(key: key) }
        do {
            try await quotas.submit(key: key, attemptSeconds: job.attemptSeconds) { [jobs] in
                try await jobs.submit(job)
            }
        } catch {
            if sync { await quotas.releaseSyncWait(keyID: key.id) }
            if let error = error as? JobStoreError { throw Self.storeFailure(error) }
            throw error
        }
        guard sync else { return ServiceReply.json(ServiceReply.idAndStatus(job.id, .inQueue)) }
        do {
            let reply = try await waitForEnd(job.id, key: key, waitMs: waitMs, request: request)
            await quotas.releaseSyncWait(keyID: key.id)
            return reply
        } catch {
            await quotas.releaseSyncWait(keyID: key.id)
            throw error
        }
    }

    /// Waits for a job's end, at most `waitMs` and never past the start of a shutdown; the full
    /// status when final, `{"id", "status"}` otherwise.
    func waitForEnd(_ id: String, key: APIKey, waitMs: Int, request: Request) async throws -> Response {
        let deadline = ContinuousClock.now + .milliseconds(waitMs)
        while ContinuousClock.now < deadline, !state.draining {
            let left = deadline - ContinuousClock.now
            await jobs.waitUntilFinal(id: id, timeout: min(left, .seconds(1)))
            if let job = try await load(id), job.state.isFinal { break }
        }
        let job = try await self.job(id, for: key)
        guard job.state.isFinal else { return ServiceReply.json(JobStatusReply.pending(job)) }
        return ServiceReply.json(await status(job, request: request))
    }

    /// The repository's host resolved and checked, and the webhook's URL, at submit: a job the
    /// service would refuse to fetch or notify is a 422 naming the refused address, never queued.
    /// Both are checked again when used (git is pinned to the checked address; each webhook try
    /// resolves and checks anew).
    func checkAddresses(_ submitted: SubmitRequest) throws(ServiceError) {
        do {
            _ = try addressGuard.checkRepository(submitted.job.repo)
        } catch {
            throw .invalid("repo: \(error.message)")
        }
        if let webhook = submitted.webhook {
            do {
                try addressGuard.checkWebhookSyntax(webhook)
            } catch {
                throw .invalid("webhook: \(error.message)")
            }
        }
    }
}
