#if Worker
    import ArgumentParser
    import FlakeboxSandbox
    import FlakeboxWorker

    extension Flakebox {
        /// The RunPod serverless worker: a drop-in for the Python SDK's `runpod.serverless.start`.
        struct Worker: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Serve flakebox jobs as a RunPod serverless worker (or try it locally as the RunPod SDK does).",
                discussion: """
                    With RUNPOD_WEBHOOK_GET_JOB set (as on RunPod), takes jobs from the platform until SIGTERM. \
                    Without it, runs ./test_input.json once; --test_input runs the given JSON instead; \
                    --rp_serve_api serves a local API (/run, /runsync, /status/ID, /cancel/ID, /health). \
                    A job's input is a flakebox job: {"repo", "test_command", "runs", "parallelism", ...}.

                    Exit codes: 0 done (or shut down), 1 no test input, a failed local job, or a server that \
                    could not start.
                    """)

            @Flag(name: .customLong("rp_serve_api"), help: "Serve the local API instead of taking jobs.")
            var serveAPI = false

            @Option(name: .customLong("rp_api_host"), help: "Local API address.")
            var apiHost = "localhost"

            @Option(name: .customLong("rp_api_port"), help: "Local API port.")
            var apiPort = 8000

            @Option(
                name: .customLong("rp_api_concurrency"), help: "Accepted for the SDK's sake; jobs run one at a time.")
            var apiConcurrency = 1

            @Option(name: .customLong("rp_log_level"), help: "ERROR, WARN, INFO, DEBUG or TRACE (default INFO).")
            var logLevel: String?

            @Flag(name: .customLong("rp_debugger"), help: "Accepted for the SDK's sake; no effect.")
            var debugger = false

            @Option(name: .customLong("test_input"), help: "Run this job JSON ({\"input\": {...}}) once and exit.")
            var testInput: String?

            @Flag(help: "Let jobs name local paths as repositories (tests and local development only).")
            var allowLocalRepos = false

            @Option(help: "Seconds between progress updates during a job.")
            var progressInterval: Double = 5

            @Option(
                help:
                    "Seconds the running job may go on after SIGTERM before it is cut short and its partial result posted."
            )
            var shutdownGrace: Double = 5

            @OptionGroup var runner: RunnerArguments

            func validate() throws {
                guard (1...65535).contains(apiPort) else { throw ValidationError("--rp_api_port must be 1…65535") }
                guard progressInterval >= 0.1, progressInterval <= 3600 else {
                    throw ValidationError("--progress-interval must be 0.1…3600 seconds")
                }
                guard shutdownGrace >= 0, shutdownGrace <= 3600 else {
                    throw ValidationError("--shutdown-grace must be 0…3600 seconds")
                }
                if let logLevel, WorkerLog.Level(name: logLevel) == nil {
                    throw ValidationError("--rp_log_level must be ERROR, WARN, INFO, DEBUG or TRACE")
                }
            }

            func run() async throws {
                var settings = WorkerLauncher.Settings()
                settings.serveAPI = serveAPI
                settings.apiHost = apiHost
                settings.apiPort = apiPort
                settings.testInput = testInput
                settings.logLevel = logLevel
                settings.allowLocalRepositories = allowLocalRepos
                settings.tier = runner.tier
                settings.policy = runner.policy
                settings.setupPolicy = runner.setupPolicy
                settings.worker = .init(
                    progressInterval: .milliseconds(Int64(progressInterval * 1000)),
                    shutdownGrace: .milliseconds(Int64(shutdownGrace * 1000)))
                let launcher = WorkerLauncher(settings: settings)
                let log = launcher.makeLog()
                // Library logs (Hummingbird, AsyncHTTPClient) then go out as the worker's own lines.
                WorkerLogHandler.bootstrap(log)
                let status = await launcher.run(log: log)
                if status != 0 { throw ExitCode(status) }
            }
        }
    }
#endif
