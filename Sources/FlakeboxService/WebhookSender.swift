import FlakeboxCore
import FlakeboxJobs
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Delivers jobs' final `/status` replies to their webhooks, signed as Standard Webhooks do
/// (API.md, Webhooks). A `Service`: `run()` sends until it is cancelled or the service group
/// shuts down; `deliver` only queues, so a job's end never waits on a tenant's server.
///
/// The queue is bounded in deliveries and in bytes (a status body can hold a large summary):
/// beyond either limit the oldest waiting delivery is dropped (and logged), so a flood of
/// finished jobs, or receivers that hang for the whole timeout, cannot grow memory without end. At most `concurrency` deliveries are in flight; each is tried `backoff.count + 1`
/// times, its address checked (and pinned) again before every try.
public actor WebhookSender: Service {
    public struct Configuration: Sendable {
        /// Decides where a webhook may go (HTTPS, public addresses, the allow-list).
        public var addressGuard: OutboundAddressGuard
        /// The waits between tries; tries = this count + 1. RunPod waits 10 s twice.
        public var backoff: [Duration]
        /// One try, from connecting to the end of the response, at most.
        public var timeoutPerTry: Duration
        /// The response body is read up to this many bytes, then dropped.
        public var maxResponseBytes: Int
        /// Deliveries waiting to be sent, at most (the oldest is dropped beyond).
        public var queueLimit: Int
        /// The bodies of waiting deliveries together, at most (the oldest are dropped beyond; the
        /// newest is always kept).
        public var queueByteLimit: Int
        /// Deliveries being sent at once.
        public var concurrency: Int
        /// Lines kept in the delivery log (the oldest go first).
        public var logLimit: Int
        public var userAgent: String
        /// Called with the last line of every delivery, delivered or given up (metrics).
        public var onOutcome: (@Sendable (WebhookAttempt) -> Void)? = nil

        public init(
            addressGuard: OutboundAddressGuard = OutboundAddressGuard(),
            backoff: [Duration] = [.seconds(10), .seconds(10)], timeoutPerTry: Duration = .seconds(10),
            maxResponseBytes: Int = 64 << 10, queueLimit: Int = 1000, queueByteLimit: Int = 64 << 20,
            concurrency: Int = 4,
            logLimit: Int = 1000,
            userAgent: String = "flakebox-webhook/1"
        ) {
            self.addressGuard = addressGuard
            self.backoff = backoff
            self.timeoutPerTry = timeoutPerTry
            self.maxResponseBytes = maxResponseBytes
            self.queueLimit = queueLimit
            self.queueByteLimit = queueByteLimit
            self.concurrency = concurrency
            self.logLimit = logLimit
            self.userAgent = userAgent
        }
    }

    public let configuration: Configuration
    private let logger: Logger
    private let poster: PinnedPost
    private var queue: [WebhookDelivery] = []
    private var queuedBytes = 0
    /// Wakes `run` when something is queued (one pending signal is enough).
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private var stopped = false
    private var log: [WebhookAttempt] = []

    public init(
        configuration: Configuration = Configuration(), logger: Logger = Logger(label: "flakebox.webhook"),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.logger = logger
        poster = PinnedPost(
            timeout: configuration.timeoutPerTry, maxResponseBytes: configuration.maxResponseBytes,
            eventLoopGroup: eventLoopGroup)
        (wakeups, wake) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Queues a job's final `/status` reply for its webhook.
    public func deliver(jobID: String, retries: Int, body: Data, url: String, secret: String) {
        deliver(WebhookDelivery(jobID: jobID, retries: retries, body: body, url: url, secret: secret))
    }

    /// Queues a delivery; beyond the queue's limits the oldest waiting ones are dropped and logged.
    public func deliver(_ delivery: WebhookDelivery) {
        guard !stopped else {
            record(
                WebhookAttempt(
                    webhookID: delivery.webhookID, url: delivery.url, attempt: 0,
                    error: "dropped: the webhook sender has stopped", final: true))
            return
        }
        queue.append(delivery)
        queuedBytes += delivery.body.count
        while queue.count > 1
            && (queue.count > max(1, configuration.queueLimit) || queuedBytes > configuration.queueByteLimit)
        {
            let oldest = queue.removeFirst()
            queuedBytes -= oldest.body.count
            logger.warning(
                "webhook queue full: dropped the oldest delivery",
                metadata: [
                    "webhook-id": "\(oldest.webhookID)", "limit": "\(configuration.queueLimit)",
                    "byte-limit": "\(configuration.queueByteLimit)",
                ])
            record(
                WebhookAttempt(
                    webhookID: oldest.webhookID, url: oldest.url, attempt: 0,
                    error:
                        "dropped: more than \(configuration.queueLimit) deliveries or "
                        + "\(configuration.queueByteLimit) bytes were waiting",
                    final: true))
        }
        wake.yield()
    }

    /// The oldest waiting delivery, out of the queue.
    private func next() -> WebhookDelivery? {
        guard !queue.isEmpty else { return nil }
        let delivery = queue.removeFirst()
        queuedBytes -= delivery.body.count
        return delivery
    }

    private func stop() {
        stopped = true
        for delivery in queue {
            record(
                WebhookAttempt(
                    webhookID: delivery.webhookID, url: delivery.url, attempt: 0,
                    error: "dropped: the webhook sender has stopped", final: true))
        }
        queue.removeAll()
        queuedBytes = 0
    }

    /// For `JobService.setOnFinish`: `describe` turns a finished job into its delivery (its
    /// `/status` body, its webhook, its key's secret), or nil when it has no webhook.
    public nonisolated func onFinish(
        _ describe: @escaping @Sendable (StoredJob) async -> WebhookDelivery?
    ) -> @Sendable (StoredJob) async -> Void {
        { [self] job in
            if let delivery = await describe(job) { await deliver(delivery) }
        }
    }

    /// The delivery log, oldest first (at most `logLimit` lines).
    public var deliveryLog: [WebhookAttempt] { log }

    /// The log lines of one delivery (`webhook-id`), oldest first.
    public func attempts(webhookID: String) -> [WebhookAttempt] { log.filter { $0.webhookID == webhookID } }

    /// Sends queued deliveries until cancelled or the service group shuts down gracefully; what is
    /// still queued then is not sent (the queue is in memory, like RunPod's own webhook tries).
    public func run() async throws {
        defer { stop() }
        await cancelWhenGracefulShutdown { [wakeups, configuration] in
            await withTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for await _ in wakeups {
                    while let delivery = await self.next() {
                        if inFlight >= max(1, configuration.concurrency) {
                            await group.next()
                            inFlight -= 1
                        }
                        group.addTask { await self.send(delivery) }
                        inFlight += 1
                    }
                }
                group.cancelAll()
            }
        }
    }

    /// Every try of one delivery, with the backoff between them.
    private func send(_ delivery: WebhookDelivery) async {
        let signature: WebhookSignature
        do throws(OutboundRequestError) {
            signature = try WebhookSignature(secret: delivery.secret)
        } catch {
            finish(delivery, attempt: 0, status: nil, error: error.message)
            return
        }
        let tries = configuration.backoff.count + 1
        for attempt in 1...tries {
            if attempt > 1 {
                do { try await Task.sleep(for: configuration.backoff[attempt - 2]) } catch { return }
            }
            let checked: CheckedURL
            do throws(OutboundRequestError) {
                checked = try configuration.addressGuard.checkWebhook(delivery.url)
            } catch {
                // A refusal will not change on the next try; a name that did not resolve may.
                if error.code != .resolveFailed || attempt == tries {
                    finish(delivery, attempt: attempt, status: nil, error: error.message)
                    return
                }
                failed(delivery, attempt: attempt, status: nil, error: error.message)
                continue
            }
            let timestamp = Int(Date().timeIntervalSince1970)
            let headers = [
                ("Content-Type", "application/json"),
                ("User-Agent", configuration.userAgent),
                ("webhook-id", delivery.webhookID),
                ("webhook-timestamp", "\(timestamp)"),
                (
                    "webhook-signature",
                    signature.header(id: delivery.webhookID, timestamp: timestamp, body: delivery.body)
                ),
            ]
            let outcome = await poster.post(checked, attempt: attempt, headers: headers, body: delivery.body)
            if Task.isCancelled { return }
            if outcome.error == nil {
                logger.info(
                    "webhook delivered",
                    metadata: [
                        "webhook-id": "\(delivery.webhookID)", "attempt": "\(attempt)",
                        "status": "\(outcome.status ?? 0)",
                    ])
                record(
                    WebhookAttempt(
                        webhookID: delivery.webhookID, url: checked.url, attempt: attempt, status: outcome.status,
                        final: true))
                return
            }
            if attempt == tries {
                finish(delivery, attempt: attempt, status: outcome.status, error: outcome.error)
            } else {
                failed(delivery, attempt: attempt, status: outcome.status, error: outcome.error)
            }
        }
    }

    /// A try failed and another follows.
    private func failed(_ delivery: WebhookDelivery, attempt: Int, status: Int?, error: String?) {
        logger.warning(
            "webhook try failed, will retry",
            metadata: ["webhook-id": "\(delivery.webhookID)", "attempt": "\(attempt)", "error": "\(error ?? "")"])
        record(
            WebhookAttempt(
                webhookID: delivery.webhookID, url: delivery.url, attempt: attempt, status: status, error: error,
                final: false))
    }

    /// The delivery is given up.
    private func finish(_ delivery: WebhookDelivery, attempt: Int, status: Int?, error: String?) {
        logger.warning(
            "webhook not delivered",
            metadata: ["webhook-id": "\(delivery.webhookID)", "attempt": "\(attempt)", "error": "\(error ?? "")"])
        record(
            WebhookAttempt(
                webhookID: delivery.webhookID, url: delivery.url, attempt: attempt, status: status,
                error: error ?? "failed", final: true))
    }

    private func record(_ line: WebhookAttempt) {
        if line.final { configuration.onOutcome?(line) }
        log.append(line)
        if log.count > configuration.logLimit { log.removeFirst(log.count - configuration.logLimit) }
    }
}
