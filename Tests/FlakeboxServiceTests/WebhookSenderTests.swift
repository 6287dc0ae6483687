import Crypto
import FlakeboxCore
import FlakeboxJobs
import FlakeboxService
import Foundation
import Logging
import Testing

/// Real deliveries to a real HTTP server on loopback (allowed explicitly, as `--allow-private-addresses`
/// does), and refusals that must not reach it.
@Suite struct WebhookSenderTests {
    /// 32 bytes, as `flakebox serve keys create` makes them.
    let secretBytes = Data((0..<32).map { UInt8($0 &* 7 &+ 3) })
    var secret: String { "whsec_" + secretBytes.base64EncodedString() }
    let body = Data(#"{"id":"job-1","status":"COMPLETED","output":{"complete":true}}"#.utf8)

    func sender(
        allowPrivate: Bool = true, allowedHosts: [String] = [], backoff: [Duration] = [.seconds(1), .seconds(2)],
        timeoutPerTry: Duration = .seconds(10), queueLimit: Int = 100, queueByteLimit: Int = 1 << 20
    ) -> WebhookSender {
        WebhookSender(
            configuration: .init(
                addressGuard: OutboundAddressGuard(allowPrivateAddresses: allowPrivate, allowedHosts: allowedHosts),
                backoff: backoff, timeoutPerTry: timeoutPerTry, queueLimit: queueLimit,
                queueByteLimit: queueByteLimit),
            logger: quiet)
    }

    /// The log lines are what the tests read; the printed ones only for what went badly.
    let quiet = {
        var logger = Logger(label: "flakebox.webhook.test")
        logger.logLevel = .error
        return logger
    }()

    /// Runs `sender` for the body's length.
    func running<T: Sendable>(_ sender: WebhookSender, _ body: () async throws -> T) async rethrows -> T {
        let task = Task { try await sender.run() }
        defer { task.cancel() }
        return try await body()
    }

    /// The delivery's final log line, waiting for it generously (the machine is loaded).
    func outcome(_ sender: WebhookSender, _ webhookID: String) async throws -> WebhookAttempt {
        for _ in 0..<1200 {
            if let last = await sender.attempts(webhookID: webhookID).last(where: \.final) { return last }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Failure(message: "no final outcome for \(webhookID)")
    }

    struct Failure: Error { var message: String }

    @Test("a webhook is delivered once, with a Standard Webhooks signature that verifies")
    func deliveredAndSigned() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let sender = sender()
        let last = try await running(sender) {
            await sender.deliver(
                jobID: "job-1", retries: 0, body: body, url: receiver.base + "/hook?x=1", secret: secret)
            return try await outcome(sender, "job-1.0")
        }
        #expect(last.delivered && last.attempt == 1 && last.status == 200)
        let requests = receiver.requests
        try #require(requests.count == 1)
        let request = requests[0]
        #expect(request.method == "POST" && request.uri == "/hook?x=1")
        #expect(request.body == body)
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["webhook-id"] == "job-1.0")
        let timestamp = try #require(request.headers["webhook-timestamp"].flatMap(Int.init))
        #expect(abs(timestamp - Int(Date().timeIntervalSince1970)) < 600)
        // Verified here from the spec, not with the sender's own code.
        var mac = HMAC<SHA256>(key: SymmetricKey(data: secretBytes))
        mac.update(data: Data("job-1.0.\(timestamp).".utf8) + body)
        let expected = "v1," + Data(mac.finalize()).base64EncodedString()
        #expect(request.headers["webhook-signature"] == expected)
        #expect(request.headers["host"] == "127.0.0.1:\(receiver.port)")
    }

    @Test("a 500 is retried after the backoff, with the same webhook-id, then delivered")
    func retriedAfter500() async throws {
        let receiver = try await WebhookReceiver.start(script: [.status(500)])
        defer { Task { await receiver.stop() } }
        let sender = sender()
        let last = try await running(sender) {
            await sender.deliver(jobID: "job-2", retries: 1, body: body, url: receiver.base + "/hook", secret: secret)
            return try await outcome(sender, "job-2.1")
        }
        let log = await sender.attempts(webhookID: "job-2.1")
        #expect(log.map(\.attempt) == [1, 2])
        #expect(log[0].status == 500 && !log[0].final && log[0].error != nil)
        #expect(last.delivered && last.status == 200)
        let requests = receiver.requests
        #expect(requests.count == 2)
        #expect(Set(requests.map { $0.headers["webhook-id"] ?? "" }) == ["job-2.1"])
        #expect(log[1].at.timeIntervalSince(log[0].at) >= 0.9)
    }

    @Test("every try failing: three tries, then given up")
    func givenUp() async throws {
        let receiver = try await WebhookReceiver.start(script: [.status(503), .status(500), .status(404)])
        defer { Task { await receiver.stop() } }
        let sender = sender(backoff: [.milliseconds(100), .milliseconds(100)])
        let last = try await running(sender) {
            await sender.deliver(jobID: "job-3", retries: 0, body: body, url: receiver.base + "/hook", secret: secret)
            return try await outcome(sender, "job-3.0")
        }
        #expect(!last.delivered && last.attempt == 3 && last.status == 404)
        #expect(receiver.requests.count == 3)
    }

    @Test("a redirect is not followed: each 3xx is a failed try")
    func redirectNotFollowed() async throws {
        let receiver = try await WebhookReceiver.start(script: [.redirect, .redirect, .redirect])
        defer { Task { await receiver.stop() } }
        let sender = sender(backoff: [.milliseconds(100), .milliseconds(100)])
        let last = try await running(sender) {
            await sender.deliver(jobID: "job-4", retries: 0, body: body, url: receiver.base + "/hook", secret: secret)
            return try await outcome(sender, "job-4.0")
        }
        #expect(!last.delivered && last.status == 302 && last.attempt == 3)
        #expect(last.error?.contains("redirect") == true)
        #expect(receiver.requests.map(\.uri) == ["/hook", "/hook", "/hook"])
    }

    @Test("an endless response body is read to the limit only, and the delivery counts")
    func endlessBody() async throws {
        let receiver = try await WebhookReceiver.start(script: [.endlessBody])
        defer { Task { await receiver.stop() } }
        let sender = sender(backoff: [])
        let last = try await running(sender) {
            await sender.deliver(jobID: "job-5", retries: 0, body: body, url: receiver.base + "/hook", secret: secret)
            return try await outcome(sender, "job-5.0")
        }
        #expect(last.delivered && last.status == 200, "\(last)")
    }

    @Test("a receiver that never answers: the try ends at its timeout")
    func silentReceiver() async throws {
        let receiver = try await WebhookReceiver.start(script: [.silence])
        defer { Task { await receiver.stop() } }
        let sender = sender(backoff: [], timeoutPerTry: .seconds(1))
        let last = try await running(sender) {
            await sender.deliver(jobID: "job-6", retries: 0, body: body, url: receiver.base + "/hook", secret: secret)
            return try await outcome(sender, "job-6.0")
        }
        #expect(!last.delivered && last.status == nil && last.attempt == 1)
        #expect(receiver.requests.count == 1)
    }

    @Test(
        "private, loopback, metadata, CGNAT, unique-local and mapped targets are refused without a connection",
        arguments: [
            "https://127.0.0.1:PORT/hook", "https://[::ffff:127.0.0.1]:PORT/hook", "https://localhost:PORT/hook",
            "http://127.0.0.1:PORT/hook", "https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data",
            "https://100.64.0.1/hook", "https://[fd00::1]/hook",
        ])
    func refused(template: String) async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let url = template.replacingOccurrences(of: "PORT", with: "\(receiver.port)")
        let sender = sender(allowPrivate: false)
        let last = try await running(sender) {
            await sender.deliver(jobID: "job-7", retries: 0, body: body, url: url, secret: secret)
            return try await outcome(sender, "job-7.0")
        }
        #expect(!last.delivered && last.attempt == 1 && last.status == nil)
        #expect(last.error?.contains(url.hasPrefix("http:") ? "https" : "which is") == true, "\(last)")
        #expect(receiver.connections == 0)
    }

    @Test("the control for the test above: with private addresses allowed, the same https URL connects")
    func refusalControl() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let sender = sender(allowPrivate: true, backoff: [], timeoutPerTry: .seconds(2))
        let last = try await running(sender) {
            await sender.deliver(
                jobID: "job-8", retries: 0, body: body, url: "https://127.0.0.1:\(receiver.port)/hook", secret: secret)
            return try await outcome(sender, "job-8.0")
        }
        // A TLS hello to a plain HTTP server: it fails, but it reached the receiver.
        #expect(!last.delivered)
        #expect(receiver.connections >= 1)
    }

    @Test("a host name is delivered to through its pinned address; the allow-list admits it, or not")
    func hostNameAndAllowList() async throws {
        let address = try RemoteHostGuard.resolve(host: "localhost")[0].description
        let receiver = try await WebhookReceiver.start(host: address)
        defer { Task { await receiver.stop() } }
        let url = "http://localhost:\(receiver.port)/hook"
        let allowed = sender(allowedHosts: ["localhost"], backoff: [])
        let delivered = try await running(allowed) {
            await allowed.deliver(jobID: "job-9", retries: 0, body: body, url: url, secret: secret)
            return try await outcome(allowed, "job-9.0")
        }
        #expect(delivered.delivered)
        #expect(receiver.requests.first?.headers["host"] == "localhost:\(receiver.port)")
        let other = sender(allowedHosts: ["hooks.example.com"], backoff: [])
        let refused = try await running(other) {
            await other.deliver(jobID: "job-10", retries: 0, body: body, url: url, secret: secret)
            return try await outcome(other, "job-10.0")
        }
        #expect(!refused.delivered && refused.error?.contains("allowed hosts") == true)
        #expect(receiver.connections == 1)
    }

    @Test("a full queue drops its oldest delivery, logged; the rest are sent")
    func boundedQueue() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let sender = sender(backoff: [], queueLimit: 2)
        // Not running yet: everything waits in the queue.
        for index in 1...5 {
            await sender.deliver(
                jobID: "flood-\(index)", retries: 0, body: body, url: receiver.base + "/hook", secret: secret)
        }
        let dropped = await sender.deliveryLog
        #expect(dropped.map(\.webhookID) == ["flood-1.0", "flood-2.0", "flood-3.0"])
        #expect(dropped.allSatisfy { $0.attempt == 0 && $0.final && $0.error?.hasPrefix("dropped") == true })
        try await running(sender) { () async throws -> Void in
            #expect(try await outcome(sender, "flood-4.0").delivered)
            #expect(try await outcome(sender, "flood-5.0").delivered)
        }
        #expect(Set(receiver.requests.compactMap { $0.headers["webhook-id"] }) == ["flood-4.0", "flood-5.0"])
    }

    @Test("the queue is bounded in bytes too: large bodies push the oldest out")
    func boundedQueueBytes() async {
        let sender = sender(queueByteLimit: 3 * body.count)
        for index in 1...5 {
            await sender.deliver(
                jobID: "big-\(index)", retries: 0, body: body, url: "http://127.0.0.1:9/", secret: secret)
        }
        #expect(await sender.deliveryLog.map(\.webhookID) == ["big-1.0", "big-2.0"])
        let huge = self.sender(queueByteLimit: 10)
        await huge.deliver(jobID: "huge", retries: 0, body: body, url: "http://127.0.0.1:9/", secret: secret)
        // The newest is always kept, however large: a limit must not silence every webhook.
        #expect(await huge.deliveryLog.isEmpty)
    }

    @Test("cancelled, run returns; a delivery queued after it is dropped and logged, not lost silently")
    func stops() async throws {
        let sender = sender(backoff: [])
        let task = Task { try await sender.run() }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        try await task.value
        await sender.deliver(jobID: "late", retries: 0, body: body, url: "http://127.0.0.1:9/", secret: secret)
        let last = try await outcome(sender, "late.0")
        #expect(last.attempt == 0 && last.error?.contains("stopped") == true)
    }

    @Test("a secret that is not whsec_ + base64 is a failed delivery, never sent unsigned")
    func badSecret() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let sender = sender(backoff: [])
        let last = try await running(sender) {
            await sender.deliver(jobID: "job-11", retries: 0, body: body, url: receiver.base + "/", secret: "whsec_!!")
            return try await outcome(sender, "job-11.0")
        }
        #expect(!last.delivered && last.attempt == 0)
        #expect(receiver.connections == 0)
    }

    @Test("wired to JobService.setOnFinish: a finished job's webhook is delivered")
    func wiredToJobService() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let sender = sender(backoff: [])
        let jobs = JobService(
            store: MemoryJobStore(), executor: ScriptedExecutor(),
            configuration: .init(concurrency: 1, housekeepingInterval: .milliseconds(100)))
        await jobs.setOnFinish(
            sender.onFinish { [secret] job in
                guard let url = job.webhook else { return nil }
                let status = Data(#"{"id":"\#(job.id)","status":"\#(job.state.rawValue)"}"#.utf8)
                return WebhookDelivery(jobID: job.id, retries: job.retries, body: status, url: url, secret: secret)
            })
        try await jobs.start()
        let last = try await running(sender) {
            try await jobs.submit(
                StoredJob(id: "wired", owner: "k", input: Data(#"{"sleep": 1}"#.utf8), webhook: receiver.base + "/done")
            )
            return try await outcome(sender, "wired.0")
        }
        await jobs.shutdown(grace: .seconds(1))
        #expect(last.delivered)
        #expect(
            receiver.requests.first.map { String(decoding: $0.body, as: UTF8.self) }
                == #"{"id":"wired","status":"COMPLETED"}"#)
    }
}
