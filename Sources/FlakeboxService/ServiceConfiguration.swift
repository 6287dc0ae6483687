import FlakeboxJobs
import Foundation

/// How `flakebox serve` runs: where it listens, where its database is, how many jobs run at once,
/// how long results are kept, and what each key may use by default.
public struct ServiceConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The SQLite database file (created with its directory, mode 0600).
    public var databasePath: String
    public var jobs: JobService.Configuration
    /// SIGTERM: how long running jobs may go on before they are handed back to the queue.
    public var shutdownGrace: Duration
    /// Let repositories, submodules and webhooks name loopback and private addresses (tests only).
    public var allowPrivateAddresses: Bool
    /// When not empty, repository and webhook hosts must be one of these (or a subdomain of one).
    public var allowedHosts: [String]
    /// The service's address as clients reach it (`https://flakebox.example`, behind a proxy),
    /// for the report links it hands out; nil: the request's own `Host`, over http.
    public var publicURL: String?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, databasePath: String, jobs: JobService.Configuration = .init(),
        shutdownGrace: Duration = .seconds(30), allowPrivateAddresses: Bool = false, allowedHosts: [String] = []
    ) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.jobs = jobs
        self.shutdownGrace = shutdownGrace
        self.allowPrivateAddresses = allowPrivateAddresses
        self.allowedHosts = allowedHosts
    }
}
