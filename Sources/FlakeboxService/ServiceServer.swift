import FlakeboxCore
import FlakeboxJobs
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals

/// `flakebox serve`: the HTTP API over a `JobService`, run in a `ServiceGroup` with the job
/// service's lifecycle. SIGTERM or SIGINT: new jobs are refused and `/readyz` says 503, running
/// jobs finish within the grace or go back to the queue, then the server stops; `run` returns.
public struct ServiceServer: Sendable {
    public struct Options: Sendable {
        public var configuration: ServiceConfiguration
        /// The `{endpoint_id}` of `/v2/{endpoint_id}/…`; any other is a 404.
        public var endpointID: String
        /// Let jobs name local paths as repositories (tests and local development only).
        public var allowLocalRepositories: Bool
        /// A connection that sends nothing for this long is closed.
        public var idleTimeout: TimeAmount

        public init(
            configuration: ServiceConfiguration, endpointID: String = "flakebox", allowLocalRepositories: Bool = false,
            idleTimeout: TimeAmount = .seconds(30)
        ) {
            self.configuration = configuration
            self.endpointID = endpointID
            self.allowLocalRepositories = allowLocalRepositories
            self.idleTimeout = idleTimeout
        }
    }

    public let options: Options
    public let database: ServiceDatabase
    public let executor: any JobExecutor
    public let reportSecret: [UInt8]
    public let metrics: ServiceMetrics
    /// Webhook delivery settings (the address guard is the service's own, from its configuration).
    public let webhooks: WebhookSender.Configuration
    public let logger: Logger

    public init(
        options: Options, database: ServiceDatabase, executor: any JobExecutor, reportSecret: [UInt8],
        metrics: ServiceMetrics = ServiceMetrics(), webhooks: WebhookSender.Configuration = .init(),
        logger: Logger = Logger(label: "flakebox.serve")
    ) {
        self.options = options
        self.database = database
        self.executor = executor
        self.reportSecret = reportSecret
        self.metrics = metrics
        self.webhooks = webhooks
        self.logger = logger
    }

    /// Serves until SIGTERM or SIGINT. `onListening` gets the port once the server listens.
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        let configuration = options.configuration
        let jobs = JobService(store: database.jobs, executor: executor, configuration: configuration.jobs)
        let metrics = self.metrics
        let addressGuard = OutboundAddressGuard(configuration: configuration)
        var webhookConfiguration = webhooks
        webhookConfiguration.addressGuard = addressGuard
        webhookConfiguration.onOutcome = { line in metrics.webhook(outcome: line.delivered ? "delivered" : "failed") }
        let sender = WebhookSender(configuration: webhookConfiguration, logger: logger)
        let keys = database.keys
        let deliver = sender.onFinish { job in
            guard let url = job.webhook, let key = try? await keys.key(id: job.owner) else { return nil }
            return WebhookDelivery(
                jobID: job.id, retries: job.retries, body: Data(JobStatusReply(job: job).bytes), url: url,
                secret: key.webhookSecret)
        }
        await jobs.setOnFinish { job in
            metrics.jobFinished(job)
            await deliver(job)
        }
        let state = ServiceState()
        let store = database.jobs
        let quotas = QuotaGate(jobs: store)
        await jobs.setRunningLimit(quotas.runningLimit)
        let api = ServiceAPI(
            jobs: jobs, store: store, quotas: quotas, keys: keys,
            signer: ReportLinkSigner(secret: reportSecret), metrics: metrics, ledger: StreamLedger(), state: state,
            endpointID: options.endpointID, concurrency: configuration.jobs.concurrency,
            allowLocalRepositories: options.allowLocalRepositories, addressGuard: addressGuard,
            databaseReachable: { (try? await store.counts(owner: "")) != nil },
            publicURL: configuration.publicURL.map { String($0.reversed().drop { $0 == "/" }.reversed()) })
        let router = Router(context: ServiceRequestContext.self)
        ServiceRoutes.register(api, on: router)
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: options.idleTimeout)),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "flakebox"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        let lifecycle = JobServiceLifecycle(
            jobs: jobs, state: state, grace: configuration.shutdownGrace, logger: logger,
            prepare: {
                // Every key's running limit before the first claim, so jobs queued before a
                // restart are held to it. Read here, in the group, where PostgreSQL's pool runs.
                if let all = try? await keys.keys() { quotas.remember(all) }
            })
        // Shut down in reverse order: the job service drains first (the server still answers,
        // `/readyz` says 503), then the server stops, then webhooks still queued are dropped,
        // then PostgreSQL's pool (when there is one) closes.
        let group = ServiceGroup(
            services: database.services + [sender, app, lifecycle], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        try await group.run()
    }
}
