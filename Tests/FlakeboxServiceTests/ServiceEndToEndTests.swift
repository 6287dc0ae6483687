import Crypto
import FlakeboxJobs
import FlakeboxService
import FlakeboxTestSupport
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The summary without what carries time or a measurement that differs run to run (durations,
/// timings, CPU seconds, peak memory, and the summary's own size in bytes, which follows the
/// digits of those), for comparing two runs of the same job.
func timeless(_ value: Any) -> Any {
    let timed: Set<String> = [
        "timings", "durations_s", "duration_s", "elapsed_s", "eta_s", "cpu_s", "peak_memory_bytes", "json_bytes",
    ]
    if var object = value as? [String: Any] {
        if var truncation = object["truncation"] as? [String: Any] {
            // "the summary takes N of its B bytes": N is `json_bytes`.
            truncation["sentence"] = nil
            object["truncation"] = truncation
        }
        return object.filter { !timed.contains($0.key) }.mapValues(timeless)
    }
    if let array = value as? [Any] { return array.map(timeless) }
    return value
}

func sameJSON(_ a: Any, _ b: Any) -> Bool {
    ServiceHarness.text(timeless(a)) == ServiceHarness.text(timeless(b))
}

/// `flakebox serve` as a client sees it: the real binary on a temporary database, over
/// 127.0.0.1, with local git repositories.
@Suite(
    "flakebox serve end to end", .serialized,
    .enabled(if: ServiceTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct ServiceEndToEndTests {
    @Test("submit, poll, complete: the summary is `flakebox run --json`'s but for time; report page and stream")
    func submitPollComplete() async throws {
        let repo = try TestRepository(files: ["t.sh": "[ $((TEST_SEED % 3)) -ne 0 ]\n"])
        let service = try await ServiceHarness()
        defer { service.removeFiles() }
        let key = try await service.createKey("ci")
        let input: [String: Any] = [
            "repo": repo.path, "test_command": "sh t.sh", "runs": 6, "parallelism": 3, "seed_start": 1,
        ]
        let id = try await service.submit(input, key: key.secret)
        let final = try await service.waitForFinal(id, key: key.secret)
        #expect(final["status"] as? String == "COMPLETED", "\(final)")
        #expect(final["delayTime"] is Int && final["executionTime"] is Int)
        let output = try #require(final["output"] as? [String: Any])
        #expect(output["total_runs"] as? Int == 6)
        #expect(output["failures"] as? Int == 2)

        // The same job through the command line.
        let jobFile = service.directory + "/job.json"
        try Data(ServiceHarness.text(input).utf8).write(to: URL(fileURLWithPath: jobFile))
        let run = try await ServiceHarness.flakebox(
            ["run", "--input", jobFile, "--committed-only", "--json", "--quiet"], in: service.directory)
        let cli = try #require(try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)), "\(run)")
        #expect(
            sameJSON(output, cli),
            "service:\n\(ServiceHarness.text(timeless(output)))\nrun:\n\(ServiceHarness.text(timeless(cli)))")

        // Stream: the summary once, then nothing.
        let first = try await service.send(.POST, "/v2/flakebox/stream/\(id)", key: key.secret)
        #expect((first.json?["stream"] as? [Any])?.count == 1, "\(first)")
        let second = try await service.send(.POST, "/v2/flakebox/stream/\(id)", key: key.secret)
        #expect((second.json?["stream"] as? [Any])?.count == 0, "\(second)")

        // The report page, through the signed link and with the key; never without either.
        let link = try #require(final["report_url"] as? String)
        let start = try #require(link.range(of: "/v2/"))
        let path = String(link[start.lowerBound...])
        let page = try await service.send(.GET, path)
        #expect(page.status == 200, "\(page)")
        #expect(page.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
        #expect(
            page.headers.first(name: "Content-Security-Policy")
                == "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
        #expect(page.headers.first(name: "X-Content-Type-Options") == "nosniff")
        #expect(page.text.contains("sh t.sh"))
        let forged = try await service.send(.GET, path.replacingOccurrences(of: "signature=", with: "signature=0"))
        #expect(forged.status == 403, "\(forged)")
        let bare = try await service.send(.GET, "/v2/flakebox/report/\(id)")
        #expect(bare.status == 401)
        let withKey = try await service.send(.GET, "/v2/flakebox/report/\(id)", key: key.secret)
        #expect(withKey.status == 200)

        // The job list and health.
        let list = try await service.send(.GET, "/v2/flakebox/jobs?limit=5", key: key.secret)
        #expect((list.json?["jobs"] as? [[String: Any]])?.first?["id"] as? String == id, "\(list)")
        let health = try await service.send(.GET, "/v2/flakebox/health", key: key.secret)
        #expect((health.json?["jobs"] as? [String: Any])?["completed"] as? Int == 1, "\(health)")
        let admin = try await service.createKey("ops", scopes: ["admin"])
        let metrics = try await service.send(.GET, "/metrics", key: admin.secret)
        #expect(metrics.status == 200)
        #expect(metrics.text.contains(#"flakebox_jobs_finished_total{state="COMPLETED"} 1"#), "\(metrics.text)")
        #expect(metrics.text.contains("flakebox_http_requests_total{route=\"status\",status=\"200\"}"))
        #expect(metrics.text.contains("flakebox_job_duration_seconds_bucket"))
        service.process.send(SIGTERM)
        #expect(await service.process.waitForExit(timeout: 60) == .exited(0), "\(service.process.logTail)")
    }

    @Test("fair claiming: one key's single job runs before another key's backlog")
    func fairClaiming() async throws {
        let repo = try TestRepository(files: ["short.sh": "sleep 2\n", "long.sh": "sleep 10\n"])
        // Two runners. The busy key's first job ends first while its second still runs: the next
        // claim is then the quiet key's (none running), ahead of the busy key's older backlog.
        let service = try await ServiceHarness(concurrency: 2)
        defer { service.removeFiles() }
        let busy = try await service.createKey("busy")
        let quiet = try await service.createKey("quiet")
        func input(_ script: String) -> [String: Any] {
            ["repo": repo.path, "test_command": "sh \(script)", "runs": 1]
        }
        var backlog: [String] = []
        for script in ["short.sh", "long.sh", "short.sh", "short.sh"] {
            backlog.append(try await service.submit(input(script), key: busy.secret))
        }
        let single = try await service.submit(input("short.sh"), key: quiet.secret)
        // The premise: the quiet key's job was queued while the backlog's first still ran.
        let first = try await service.status(backlog[0], key: busy.secret)
        try #require(
            first.json?["status"] as? String == "IN_PROGRESS", "the machine is too slow for this test: \(first)")
        var starts: [String: Double] = [:]
        for (id, key) in backlog.map({ ($0, busy.secret) }) + [(single, quiet.secret)] {
            _ = try await service.waitForFinal(id, key: key)
            let page = try await service.send(.GET, "/v2/flakebox/jobs?limit=10", key: key)
            for job in page.json?["jobs"] as? [[String: Any]] ?? [] where job["id"] as? String == id {
                let formatter = ISO8601DateFormatter()
                formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
                let created = formatter.date(from: job["createdAt"] as? String ?? "")?.timeIntervalSince1970 ?? 0
                starts[id] = created + Double(job["delayTime"] as? Int ?? 0) / 1000
            }
        }
        let order = starts.sorted { $0.value < $1.value }.map(\.key)
        #expect(order.count == 5)
        #expect(
            order.firstIndex(of: single) == 2,
            "the quiet key's job waited behind the backlog: \(order.map { ($0 == single ? "quiet " : "busy ") + String(starts[$0] ?? 0) })"
        )
    }

    @Test("runsync: final within the wait gives the full status; a short wait gives id and status")
    func runSync() async throws {
        let repo = try TestRepository(files: ["ok.sh": "true\n", "slow.sh": "sleep 20\n"])
        let service = try await ServiceHarness()
        defer { service.removeFiles() }
        let key = try await service.createKey("ci")
        let quick = ServiceHarness.text(["input": ["repo": repo.path, "test_command": "sh ok.sh", "runs": 2]])
        let done = try await service.send(.POST, "/v2/flakebox/runsync", json: quick, key: key.secret)
        #expect(done.status == 200)
        #expect(done.json?["status"] as? String == "COMPLETED", "\(done)")
        #expect((done.json?["output"] as? [String: Any])?["total_runs"] as? Int == 2)

        let slow = ServiceHarness.text(["input": ["repo": repo.path, "test_command": "sh slow.sh", "runs": 1]])
        let pending = try await service.send(.POST, "/v2/flakebox/runsync?wait=1000", json: slow, key: key.secret)
        #expect(pending.status == 200)
        #expect(Set(pending.json?.keys.map { $0 } ?? []) == ["id", "status"], "\(pending)")
        #expect(["IN_QUEUE", "IN_PROGRESS"].contains(pending.json?["status"] as? String ?? ""))

        for bad in ["wait=10", "wait=300001", "wait=abc"] {
            let reply = try await service.send(.POST, "/v2/flakebox/runsync?\(bad)", json: quick, key: key.secret)
            #expect(reply.status == 400, "\(bad): \(reply)")
        }
        if let id = pending.json?["id"] as? String {
            _ = try await service.send(.POST, "/v2/flakebox/cancel/\(id)", key: key.secret)
        }
    }

    @Test("executionTimeout: TIMED_OUT with the live progress streamed before; retry queues it again")
    func timeoutStreamRetry() async throws {
        let repo = try TestRepository(files: ["slow.sh": "sleep 2\n"])
        let service = try await ServiceHarness()
        defer { service.removeFiles() }
        let key = try await service.createKey("ci")
        let id = try await service.submit(
            ["repo": repo.path, "test_command": "sh slow.sh", "runs": 10, "parallelism": 1], key: key.secret,
            extra: ["policy": ["executionTimeout": 5000]])
        let running = try await service.waitForStatus(id, key: key.secret) {
            $0["status"] as? String == "IN_PROGRESS" && $0["output"] != nil
        }
        #expect((running["output"] as? [String: Any])?["total"] as? Int == 10, "\(running)")
        let streamed = try await service.send(.GET, "/v2/flakebox/stream/\(id)", key: key.secret)
        let chunk = (streamed.json?["stream"] as? [[String: Any]])?.first?["output"] as? [String: Any]
        #expect(chunk?["phase"] is String, "\(streamed)")
        let final = try await service.waitForFinal(id, key: key.secret, timeout: 120)
        #expect(final["status"] as? String == "TIMED_OUT", "\(final)")
        #expect((final["error"] as? String)?.contains("executionTimeout") == true)
        let retry = try await service.send(.POST, "/v2/flakebox/retry/\(id)", key: key.secret)
        #expect(retry.text == #"{"id": "\#(id)", "status": "IN_QUEUE"}"#, "\(retry)")
        let again = try await service.status(id, key: key.secret)
        #expect(again.json?["retries"] as? Int == 1, "\(again)")
        _ = try await service.send(.POST, "/v2/flakebox/cancel/\(id)", key: key.secret)
    }

    @Test("a finished job's webhook gets its final status, signed with the key's secret")
    func webhook() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let repo = try TestRepository(files: ["ok.sh": "true\n"])
        let service = try await ServiceHarness()
        defer { service.removeFiles() }
        let key = try await service.createKey("ci")
        let id = try await service.submit(
            ["repo": repo.path, "test_command": "sh ok.sh", "runs": 2], key: key.secret,
            extra: ["webhook": receiver.base + "/hook"])
        let final = try await service.waitForFinal(id, key: key.secret)
        let deadline = ContinuousClock.now + .seconds(60)
        while receiver.requests.isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        let request = try #require(receiver.requests.first, "no webhook came: \(service.process.logTail)")
        #expect(request.uri == "/hook")
        #expect(request.headers["webhook-id"] == "\(id).0")
        let posted = try #require(try JSONSerialization.jsonObject(with: request.body) as? [String: Any])
        #expect(posted["id"] as? String == id && posted["status"] as? String == "COMPLETED")
        #expect(sameJSON(posted["output"] ?? [:], final["output"] ?? [:]))
        // Verified from the spec: HMAC-SHA256 under the base64-decoded part of the key's whsec_ secret.
        let timestamp = try #require(request.headers["webhook-timestamp"])
        let secretBytes = try #require(Data(base64Encoded: String(key.webhookSecret.dropFirst("whsec_".count))))
        var mac = HMAC<SHA256>(key: SymmetricKey(data: secretBytes))
        mac.update(data: Data("\(id).0.\(timestamp).".utf8) + request.body)
        #expect(request.headers["webhook-signature"] == "v1," + Data(mac.finalize()).base64EncodedString())
        let admin = try await service.createKey("ops", scopes: ["admin"])
        let metrics = try await service.send(.GET, "/metrics", key: admin.secret)
        #expect(metrics.text.contains(#"flakebox_webhook_deliveries_total{outcome="delivered"} 1"#), "\(metrics.text)")
    }

    @Test("cancel of a running job kills its sandboxes")
    func cancelRunning() async throws {
        let marker = "sleep \(Int.random(in: 100_000...999_999))"
        let repo = try TestRepository(files: ["hang.sh": "\(marker)\n"])
        let service = try await ServiceHarness()
        defer { service.removeFiles() }
        let key = try await service.createKey("ci")
        let id = try await service.submit(
            ["repo": repo.path, "test_command": "sh hang.sh", "runs": 2, "parallelism": 2], key: key.secret)
        _ = try await service.waitForStatus(id, key: key.secret) { $0["status"] as? String == "IN_PROGRESS" }
        let deadline = ContinuousClock.now + .seconds(120)
        while ServiceHarness.processes(containing: marker).isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        try #require(!ServiceHarness.processes(containing: marker).isEmpty, "the test never started")
        let reply = try await service.send(.POST, "/v2/flakebox/cancel/\(id)", key: key.secret)
        #expect(reply.json?["status"] as? String == "CANCELLED", "\(reply)")
        let gone = ContinuousClock.now + .seconds(60)
        while !ServiceHarness.processes(containing: marker).isEmpty, ContinuousClock.now < gone {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(ServiceHarness.processes(containing: marker).isEmpty, "the sandboxed test outlived the cancel")
        let status = try await service.status(id, key: key.secret)
        #expect(status.json?["status"] as? String == "CANCELLED")
        let again = try await service.send(.POST, "/v2/flakebox/cancel/\(id)", key: key.secret)
        #expect(again.json?["status"] as? String == "CANCELLED")
        let retry = try await service.send(.POST, "/v2/flakebox/retry/\(id)", key: key.secret)
        #expect(retry.status == 409)
    }

    @Test("kill -9 mid-job, restart on the same database: the job runs again and completes; queued jobs stay queued")
    func killAndRestart() async throws {
        let repo = try TestRepository(files: ["slow.sh": "sleep 3\n"])
        let first = try await ServiceHarness()
        defer { first.removeFiles() }
        let key = try await first.createKey("ci")
        let input: [String: Any] = ["repo": repo.path, "test_command": "sh slow.sh", "runs": 1]
        let running = try await first.submit(input, key: key.secret)
        let queued = try await first.submit(input, key: key.secret)
        _ = try await first.waitForStatus(running, key: key.secret) { $0["status"] as? String == "IN_PROGRESS" }
        first.process.kill()
        _ = await first.process.waitForExit(timeout: 60)

        let second = try await ServiceHarness(database: first.database)
        let queuedNow = try await second.status(queued, key: key.secret)
        #expect(["IN_QUEUE", "IN_PROGRESS", "COMPLETED"].contains(queuedNow.json?["status"] as? String ?? ""))
        let again = try await second.waitForFinal(running, key: key.secret)
        #expect(again["status"] as? String == "COMPLETED", "\(again)")
        let later = try await second.waitForFinal(queued, key: key.secret)
        #expect(later["status"] as? String == "COMPLETED", "\(later)")
        second.process.send(SIGTERM)
        #expect(await second.process.waitForExit(timeout: 60) == .exited(0))
    }

    @Test("SIGTERM: readyz 503, the running job handed back, exit 0; a restart runs it")
    func sigterm() async throws {
        let repo = try TestRepository(files: ["slow.sh": "sleep 30\n"])
        let first = try await ServiceHarness(arguments: ["--shutdown-grace", "3"])
        defer { first.removeFiles() }
        let key = try await first.createKey("ci")
        let id = try await first.submit(
            ["repo": repo.path, "test_command": "sh slow.sh", "runs": 1], key: key.secret)
        _ = try await first.waitForStatus(id, key: key.secret) { $0["status"] as? String == "IN_PROGRESS" }
        first.process.send(SIGTERM)
        var ready = 200
        let drained = ContinuousClock.now + .seconds(3)
        while ready == 200, ContinuousClock.now < drained {
            ready = try await first.send(.GET, "/readyz").status
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(ready == 503)
        let refused = try await first.send(
            .POST, "/v2/flakebox/run", json: ServiceHarness.text(["input": ["repo": repo.path, "test_command": "x"]]),
            key: key.secret)
        #expect(refused.status == 503)
        #expect(await first.process.waitForExit(timeout: 120) == .exited(0), "\(first.process.logTail)")
        // Handed back: queued again, its start not counted.
        let database = try await ServiceDatabase.open(path: first.database)
        let handedBack = try await database.jobs.job(id: id)
        try await database.close()
        #expect(handedBack?.state == .inQueue, "\(String(describing: handedBack))")
        #expect(handedBack?.starts == 0)

        let second = try await ServiceHarness(database: first.database)
        let status = try await second.status(id, key: key.secret)
        #expect(["IN_QUEUE", "IN_PROGRESS"].contains(status.json?["status"] as? String ?? ""), "\(status)")
        _ = try await second.send(.POST, "/v2/flakebox/cancel/\(id)", key: key.secret)
    }

    @Test("each quota: 429 with Retry-After naming it; nothing queued")
    func quotas() async throws {
        let repo = try TestRepository(files: ["slow.sh": "sleep 30\n"])
        let service = try await ServiceHarness()
        defer { service.removeFiles() }
        func input(runs: Int = 1, timeout: Double = 60) -> [String: Any] {
            ["repo": repo.path, "test_command": "sh slow.sh", "runs": runs, "timeout_s": timeout]
        }
        func refused(_ reply: ServiceReplyRecord, _ quota: String) {
            #expect(reply.status == 429, "\(quota): \(reply)")
            #expect(Int(reply.headers.first(name: "Retry-After") ?? "") ?? 0 > 0, "\(quota): \(reply.headers)")
            #expect(reply.text.contains(quota), "\(quota): \(reply)")
        }
        let perJob = try await service.createKey("per-job", quotas: ["max-attempt-seconds-per-job": 100])
        let tooLong = ServiceHarness.text(["input": input(runs: 2, timeout: 60)])
        refused(
            try await service.send(.POST, "/v2/flakebox/run", json: tooLong, key: perJob.secret),
            "maxAttemptSecondsPerJob")

        let perDay = try await service.createKey("per-day", quotas: ["max-attempt-seconds-per-day": 100])
        let first = try await service.submit(input(timeout: 60), key: perDay.secret)
        let overDay = ServiceHarness.text(["input": input(timeout: 60)])
        refused(
            try await service.send(.POST, "/v2/flakebox/run", json: overDay, key: perDay.secret),
            "maxAttemptSecondsPerDay")
        _ = try await service.send(.POST, "/v2/flakebox/cancel/\(first)", key: perDay.secret)

        // One runner, held by the first job: the queue quota counts the second.
        let queue = try await service.createKey("queue", quotas: ["max-queued": 1])
        let running = try await service.submit(input(), key: queue.secret)
        _ = try await service.waitForStatus(running, key: queue.secret) { $0["status"] as? String == "IN_PROGRESS" }
        let queued = try await service.submit(input(), key: queue.secret)
        refused(
            try await service.send(
                .POST, "/v2/flakebox/run", json: ServiceHarness.text(["input": input()]), key: queue.secret),
            "maxQueued")
        _ = try await service.send(.POST, "/v2/flakebox/purge-queue", key: queue.secret)
        _ = try await service.send(.POST, "/v2/flakebox/cancel/\(running)", key: queue.secret)
        _ = queued

        let sync = try await service.createKey("sync", quotas: ["max-sync-waits": 1])
        let waiting = Task {
            try await service.send(
                .POST, "/v2/flakebox/runsync?wait=20000", json: ServiceHarness.text(["input": input()]),
                key: sync.secret)
        }
        // The first runsync is waiting once its job exists.
        let deadline = ContinuousClock.now + .seconds(60)
        var listed = 0
        while listed == 0, ContinuousClock.now < deadline {
            let page = try await service.send(.GET, "/v2/flakebox/jobs", key: sync.secret)
            listed = (page.json?["jobs"] as? [Any])?.count ?? 0
            try await Task.sleep(for: .milliseconds(100))
        }
        refused(
            try await service.send(
                .POST, "/v2/flakebox/runsync?wait=1000", json: ServiceHarness.text(["input": input()]), key: sync.secret
            ),
            "maxSyncWaits")
        let page = try await service.send(.GET, "/v2/flakebox/jobs", key: sync.secret)
        #expect((page.json?["jobs"] as? [Any])?.count == 1, "a refused runsync queued a job: \(page)")
        _ = try await service.send(.POST, "/v2/flakebox/purge-queue", key: sync.secret)
        waiting.cancel()
    }

}
