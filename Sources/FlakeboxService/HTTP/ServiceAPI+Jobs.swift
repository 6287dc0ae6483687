import FlakeboxJobs
import Foundation
import Hummingbird

extension ServiceAPI {
    /// `GET|POST status/{id}[?ttl=ms]`: `ttl` sets how long a final job is kept from now.
    func status(_ request: Request, context: ServiceRequestContext, id: String) async throws -> Response {
        let ttl = try Self.queryInteger(request, "ttl", in: JobPolicy.ttlRange)
        let key = try context.require(.read)
        let job = try await self.job(id, for: key)
        if let ttl, job.state.isFinal {
            do {
                try await store.keep(id: id, until: Date().addingTimeInterval(Double(ttl) / 1000))
            } catch {
                throw Self.storeFailure(error)
            }
        }
        return ServiceReply.json(await status(job, request: request))
    }

    /// `GET|POST stream/{id}`: the chunks not handed out yet (progress when it changed, the
    /// final output once).
    func stream(_ request: Request, context: ServiceRequestContext, id: String) async throws -> Response {
        let key = try context.require(.read)
        let job = try await self.job(id, for: key)
        let progress = job.state == .inProgress ? await jobs.progress(of: id)?.json : nil
        let chunks = await ledger.take(
            id: id, final: job.state.isFinal, progress: progress, output: job.output.map { Array($0) })
        var reply = JSONText()
        reply.add("id", string: id)
        reply.add("status", string: job.state.rawValue)
        var list: [UInt8] = Array("[".utf8)
        for (index, chunk) in chunks.enumerated() {
            if index > 0 { list.append(contentsOf: Array(", ".utf8)) }
            var item = JSONText()
            item.add("output", json: chunk)
            list.append(contentsOf: item.bytes)
        }
        list.append(UInt8(ascii: "]"))
        reply.add("stream", json: list)
        if let error = job.error { reply.add("error", string: error) }
        return ServiceReply.json(reply.bytes)
    }

    /// `POST cancel/{id}`: a queued or running job cancelled (its sandboxes killed); a final job
    /// answers with its current status.
    func cancel(_ request: Request, context: ServiceRequestContext, id: String) async throws -> Response {
        let key = try context.require(.submit)
        _ = try await job(id, for: key)
        let after: StoredJob?
        do {
            after = try await jobs.cancel(id: id)
        } catch {
            throw Self.storeFailure(error)
        }
        guard let after else { throw ServiceError.jobNotFound(id) }
        return ServiceReply.json(ServiceReply.idAndStatus(id, after.state))
    }

    /// `POST retry/{id}`: a failed or timed-out job queued again; 409 for any other state.
    func retry(_ request: Request, context: ServiceRequestContext, id: String) async throws -> Response {
        let key = try context.require(.submit)
        let job = try await self.job(id, for: key)
        guard !state.draining else { throw ServiceError.unavailable("the service is shutting down", retryAfter: 30) }
        let requeued: Bool
        do {
            requeued = try await jobs.retry(id: id)
        } catch {
            throw Self.storeFailure(error)
        }
        guard requeued else {
            throw ServiceError.conflict(
                "only a FAILED or TIMED_OUT job can be retried; this one is \(job.state.rawValue)")
        }
        return ServiceReply.json(ServiceReply.idAndStatus(id, .inQueue))
    }

    /// `POST purge-queue`: the key's own queued jobs cancelled.
    func purgeQueue(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let key = try context.require(.submit)
        let removed: Int
        do {
            removed = try await jobs.purgeQueue(owner: key.id)
        } catch {
            throw Self.storeFailure(error)
        }
        var reply = JSONText()
        reply.add("removed", number: removed)
        reply.add("status", string: "completed")
        return ServiceReply.json(reply.bytes)
    }

    /// `GET health`: RunPod's shape, over the key's jobs (all jobs for an admin key).
    func health(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let key = try context.require(.read)
        let counts: [JobState: Int]
        do {
            counts = try await store.counts(owner: key.scopes.contains(.admin) ? nil : key.id)
        } catch {
            throw Self.storeFailure(error)
        }
        let running = await jobs.runningCount
        let concurrency = concurrency
        var reply = JSONText()
        reply.add(
            "jobs",
            value: [
                "completed": counts[.completed] ?? 0, "failed": (counts[.failed] ?? 0) + (counts[.timedOut] ?? 0),
                "inProgress": counts[.inProgress] ?? 0, "inQueue": counts[.inQueue] ?? 0, "retried": 0,
            ])
        reply.add("workers", value: ["idle": max(0, concurrency - running), "running": running])
        return ServiceReply.json(reply.bytes)
    }

    /// `GET jobs?limit=&before=`: the key's jobs, newest first; `next` is the `before` of the
    /// following page (null at the end).
    func list(_ request: Request, context: ServiceRequestContext) async throws -> Response {
        let limit = try Self.queryInteger(request, "limit", in: 1...100) ?? 20
        var before: Date?
        if let raw = request.uri.queryParameters["before"] {
            // The cursor is the last job's creation time as a Double that round-trips exactly.
            guard let seconds = Double(raw), seconds.isFinite, abs(seconds) < 1e11 else {
                throw ServiceError.badRequest("before must be the `next` of a previous page")
            }
            before = Date(timeIntervalSinceReferenceDate: seconds)
        }
        let key = try context.require(.read)
        let page: [StoredJob]
        do {
            page = try await store.jobs(owner: key.id, limit: limit + 1, before: before)
        } catch {
            throw Self.storeFailure(error)
        }
        let shown = page.prefix(limit)
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var items: [[String: Any]] = []
        for job in shown {
            var item: [String: Any] = [
                "id": job.id, "status": job.state.rawValue, "createdAt": iso.string(from: job.createdAt),
            ]
            if let delay = job.delayTimeMs { item["delayTime"] = max(0, delay) }
            if let execution = job.executionTimeMs { item["executionTime"] = max(0, execution) }
            if job.retries > 0 { item["retries"] = job.retries }
            items.append(item)
        }
        var reply = JSONText()
        reply.add("jobs", value: items)
        if page.count > limit, let last = shown.last {
            reply.add("next", string: String(last.createdAt.timeIntervalSinceReferenceDate))
        } else {
            reply.add("next", json: Array("null".utf8))
        }
        return ServiceReply.json(reply.bytes)
    }
}
