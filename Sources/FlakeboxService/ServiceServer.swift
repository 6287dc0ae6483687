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
    public let logger: Logger

    public init(
        options: Options, database: ServiceDatabase, executor: any JobExecutor, reportSecret: [UInt8],
        metrics: ServiceMetrics = ServiceMetrics(), logger: Logger = Logger(label: "flakebox.serve")
    ) {
        self.options = options
        self.database = database
        self.executor = executor
        self.reportSecret = reportSecret
        self.metrics = metrics
        self.logger = logger
    }

    /// Serves until SIGTERM or SIGINT. `onListening` gets the port once the server listens.
    public func run(onListening: @escaping @Sendable (Int) -> Void) async throws {
        let configuration = options.configuration
        let jobs = JobService(store: database.jobs, executor: executor, configuration: configuration.jobs)
        let metrics = self.metrics
        await jobs.setOnFinish { job in metrics.jobFinished(job) }
        let state = ServiceState()
        let store = database.jobs
        let repositoryCheck = RepositoryAddressCheck(
            allowPrivateAddresses: configuration.allowPrivateAddresses, allowedHosts: configuration.allowedHosts)
        let api = ServiceAPI(
            jobs: jobs, store: store, callers: CallerCheck(keys: database.keys),
            signer: ReportLinkSigner(secret: reportSecret), metrics: metrics, ledger: StreamLedger(), state: state,
            endpointID: options.endpointID, concurrency: configuration.jobs.concurrency,
            allowLocalRepositories: options.allowLocalRepositories,
            checkRepository: { repo in repositoryCheck.refusal(repo) },
            databaseReachable: { (try? await store.counts(owner: "")) != nil })
        let router = Router()
        ServiceRoutes.register(api, on: router)
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: options.idleTimeout)),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port), serverName: "flakebox"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        let lifecycle = JobServiceLifecycle(
            jobs: jobs, state: state, grace: configuration.shutdownGrace, logger: logger)
        // Shut down in reverse order: the job service drains first (the server still answers,
        // `/readyz` says 503), then the server stops.
        let group = ServiceGroup(
            services: [app, lifecycle], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}
