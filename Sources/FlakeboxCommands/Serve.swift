#if Service
    import ArgumentParser
    import FlakeboxJobs
    import FlakeboxSandbox
    import FlakeboxService
    import Foundation

    extension Flakebox {
        /// The self-hosted service: RunPod's endpoint API over a job queue in SQLite. `serve` alone
        /// runs the server (`serve start`); `serve keys` manages its API keys. A group with a default
        /// subcommand, so that each owns its `--database` (a parent's option would take it from
        /// `keys create`).
        struct Serve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Serve flakebox jobs over RunPod's endpoint API (/v2/ENDPOINT/run, /status, …).",
                subcommands: [Start.self, Keys.self], defaultSubcommand: Start.self)
        }
    }

    extension Flakebox.Serve {
        /// `flakebox serve [start] --database PATH …`: the server.
        struct Start: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Serve flakebox jobs over RunPod's endpoint API (/v2/ENDPOINT/run, /status, …).",
                discussion: """
                    Jobs are kept in one SQLite file (--database PATH) or in PostgreSQL (--database \
                    postgres://USER:PASSWORD@HOST:PORT/DB, several nodes may share it: each claims jobs \
                    under a lease it renews, and a node's jobs go to the others --lease-seconds after it \
                    dies) and run here, --concurrency at a time. Requests \
                    need an API key (`flakebox serve keys create`). When the server listens it prints \
                    `flakebox serve: listening on http://HOST:PORT` on stdout (--port 0 picks a free port). \
                    SIGTERM or SIGINT: new jobs are refused and /readyz answers 503; running jobs get \
                    --shutdown-grace seconds to finish, then go back to the queue; exit 0.
                    """)

            @Option(
                help:
                    "The SQLite database file (created, mode 0600), or a postgres:// URL (password: in it or PGPASSWORD)."
            )
            var database: String

            @Option(help: "Address to listen on.")
            var host = "127.0.0.1"

            @Option(help: "Port to listen on (0: a free one).")
            var port = 8080

            @Option(help: "The endpoint id of /v2/ENDPOINT_ID/ (any other is a 404).")
            var endpointId = "flakebox"

            @Option(help: "Jobs run at once.")
            var concurrency = 1

            @Option(help: "Seconds a finished job is kept.")
            var retention: Int = 1800

            @Option(help: "Seconds running jobs may go on after SIGTERM before they go back to the queue.")
            var shutdownGrace: Double = 30

            @Flag(help: "Let repositories and webhooks name loopback and private addresses (tests only).")
            var allowPrivateAddresses = false

            @Option(name: .customLong("allow-host"), help: "Repository and webhook hosts allowed (repeatable).")
            var allowHosts: [String] = []

            @Flag(help: "Let jobs name local paths as repositories (tests and local development only).")
            var allowLocalRepos = false

            @Option(
                help: "The service's URL as clients reach it (behind a proxy), for the report links in job statuses.")
            var publicUrl: String?

            @Option(
                help: """
                    With a postgres:// database: seconds a node's claim on a job holds without renewal; \
                    a node that dies loses its jobs to the others after this.
                    """)
            var leaseSeconds: Int = 30

            @Option(
                help: """
                    With a postgres:// database: seconds between an idle node's looks for work besides \
                    the other nodes' notifications (LISTEN/NOTIFY).
                    """)
            var pollSeconds: Int = 5

            @Option(
                help: """
                    With a postgres:// database: a job of more runs than this is cut into shards of at most \
                    this many (disjoint seeds, one commit) that every node claims, and their summaries merged; \
                    0 runs every job whole on one node.
                    """)
            var shardRuns: Int = 100

            @OptionGroup var runner: RunnerArguments

            func validate() throws {
                guard (3...3600).contains(leaseSeconds) else {
                    throw ValidationError("--lease-seconds must be 3…3600")
                }
                guard (1...3600).contains(pollSeconds) else { throw ValidationError("--poll-seconds must be 1…3600") }
                guard (0...100_000).contains(shardRuns) else { throw ValidationError("--shard-runs must be 0…100000") }
                if PostgresURL.isPostgres(database) {
                    do {
                        _ = try PostgresURL(database)
                    } catch {
                        throw ValidationError("--database: \(error)")
                    }
                }
                guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535") }
                guard (1...64).contains(concurrency) else { throw ValidationError("--concurrency must be 1…64") }
                guard (60...30 * 86_400).contains(retention) else {
                    throw ValidationError("--retention must be 60…2592000 seconds")
                }
                guard shutdownGrace >= 0, shutdownGrace <= 3600 else {
                    throw ValidationError("--shutdown-grace must be 0…3600 seconds")
                }
                if let publicUrl {
                    guard let url = URL(string: publicUrl), ["http", "https"].contains(url.scheme ?? ""),
                        url.host?.isEmpty == false, url.query == nil, url.fragment == nil, url.user == nil
                    else {
                        throw ValidationError(
                            "--public-url must be an http(s) URL with a host, no query or credentials")
                    }
                }
                guard !endpointId.isEmpty, endpointId.allSatisfy({ $0.isLetter || $0.isNumber || "-_".contains($0) })
                else { throw ValidationError("--endpoint-id must be letters, digits, - or _") }
            }

            func run() async throws {
                let databasePath = database
                var setup = JobHandlerSetup(
                    tier: runner.tier, policy: runner.policy, setupPolicy: runner.setupPolicy,
                    allowLocalRepositories: allowLocalRepos)
                // Submodules are checked against the same list as the repository and webhooks.
                setup.allowedHosts = allowHosts
                let machine: JobHandlerSetup.Machine
                do {
                    machine = try setup.probe()
                } catch {
                    Self.say("flakebox serve: \(error)")
                    throw ExitCode(1)
                }
                if machine.tier < .full {
                    Self.say(
                        "flakebox serve: ISOLATION: jobs run at the \(machine.tier) tier, not full; missing: "
                            + machine.missingSummary)
                }
                if allowLocalRepos || allowPrivateAddresses {
                    Self.say(
                        "flakebox serve: --allow-local-repos / --allow-private-addresses: for tests and local development only"
                    )
                }
                let database: ServiceDatabase
                let secret: [UInt8]
                do {
                    database = try await ServiceDatabase.open(location: databasePath)
                    secret =
                        try database.reportSecret
                        ?? ReportSecretFile.load(path: ReportSecretFile.path(forDatabase: databasePath))
                } catch {
                    Self.say("flakebox serve: \(error)")
                    throw ExitCode(1)
                }
                var configuration = ServiceConfiguration(
                    host: host, port: port, databasePath: Self.shown(databasePath),
                    jobs: .init(concurrency: concurrency, retention: .seconds(retention)),
                    shutdownGrace: .milliseconds(Int64(shutdownGrace * 1000)),
                    allowPrivateAddresses: allowPrivateAddresses, allowedHosts: allowHosts)
                configuration.jobs.workerID = "flakebox-serve"
                if PostgresURL.isPostgres(databasePath) {
                    // A node among others on one database: claims are leased to this process.
                    configuration.jobs.nodeID =
                        "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
                    configuration.jobs.leaseDuration = .seconds(leaseSeconds)
                    // Housekeeping also takes back the jobs of dead nodes: at least twice a lease.
                    configuration.jobs.housekeepingInterval = .seconds(min(pollSeconds, max(1, leaseSeconds / 2)))
                    if shardRuns > 0 {
                        configuration.jobs.splitter = JobSharding(
                            handler: setup.handler().options, runsPerShard: shardRuns)
                    }
                }
                configuration.publicURL = publicUrl
                ServiceLog.bootstrap()
                let server = ServiceServer(
                    options: .init(
                        configuration: configuration, endpointID: endpointId, allowLocalRepositories: allowLocalRepos),
                    database: database, executor: setup.handler(), reportSecret: secret)
                let host = self.host
                do {
                    try await server.run { port in
                        let shown = host.contains(":") ? "[\(host)]" : host
                        // One write, unbuffered: the tests (and scripts) wait for this line.
                        FileHandle.standardOutput.write(
                            Data("flakebox serve: listening on http://\(shown):\(port)\n".utf8))
                    }
                } catch {
                    try? await database.close()
                    Self.say("flakebox serve: \(error)")
                    throw ExitCode(1)
                }
                try? await database.close()
            }

            /// The database as logs may show it: a URL without its password.
            private static func shown(_ location: String) -> String {
                guard PostgresURL.isPostgres(location) else { return location }
                return (try? PostgresURL(location).description) ?? "postgres://…"
            }

            private static func say(_ line: String) {
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }
    }
#endif
