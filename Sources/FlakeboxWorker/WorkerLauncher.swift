import CFlakeboxSpawn
import FlakeboxCore
import FlakeboxJobs
import FlakeboxSandbox

/// Picks the worker's mode as the SDK does (docs/RUNPOD_PROTOCOL.md §1), after checking the machine:
/// `--rp_serve_api` → local API; `--test_input`, or no `RUNPOD_WEBHOOK_GET_JOB` → local test
/// run; otherwise the production worker.
public struct WorkerLauncher: Sendable {
    public struct Settings: Sendable {
        public var serveAPI = false
        public var apiHost = "localhost"
        public var apiPort = 8000
        public var testInput: String?
        public var logLevel: String?
        public var allowLocalRepositories = false
        public var tier: IsolationTier?
        /// The attempts' policy when a job names none; `runpod` also runs at the minimal tier,
        /// which is all an unprivileged container gives.
        public var policy = "runpod"
        public var setupPolicy = "runpod-setup"
        public var worker = ProductionWorker.Options()

        public init() {}
    }

    public var settings: Settings
    public var environment: RunPodEnvironment

    public init(settings: Settings, environment: RunPodEnvironment = RunPodEnvironment()) {
        self.settings = settings
        self.environment = environment
    }

    /// The worker's log as the settings and environment ask: JSON lines on RunPod, at
    /// `--rp_log_level` or `RUNPOD_DEBUG_LEVEL`.
    public func makeLog() -> WorkerLog {
        let threshold = (settings.logLevel ?? environment.logLevel).flatMap(WorkerLog.Level.init(name:)) ?? .info
        return WorkerLog(threshold: threshold, json: environment.endpointID != nil)
    }

    /// Runs the chosen mode to its end; the process exit code.
    public func run() async -> Int32 {
        await run(log: makeLog())
    }

    /// Runs the chosen mode to its end, logging to `log`; the process exit code.
    public func run(log: WorkerLog) async -> Int32 {
        // The worker holds the platform's API key: hide this process's memory and environment
        // from other processes of its uid (at the minimal tier, a test runs as the same uid).
        _ = fb_set_dumpable(0)
        log.info(
            "--- Starting flakebox worker \(FlakeboxVersion.current) | RunPod worker protocol \(WorkerProtocol.sdkVersion) ---"
        )
        // The same setup as `flakebox serve`: one place decides how a server's jobs run.
        let setup = JobHandlerSetup(
            tier: settings.tier, policy: settings.policy, setupPolicy: settings.setupPolicy,
            allowLocalRepositories: settings.allowLocalRepositories)
        let machine: JobHandlerSetup.Machine
        do {
            machine = try setup.probe()
        } catch {
            log.error(error.description)
            return 1
        }
        if machine.tier < .full {
            log.warn(
                "ISOLATION: attempts run at the \(machine.tier) tier, not full; missing: \(machine.missingSummary). "
                    + "Every summary says so. See the README's Container section for the settings that give full.")
        } else {
            log.info("Isolation: the full tier (namespaces, overlay, seccomp, cgroup limits).")
        }
        if settings.allowLocalRepositories {
            log.warn("--allow-local-repos: jobs may name local paths. For tests and local development only.")
        }
        let handler = setup.handler()

        if settings.serveAPI {
            return await LocalAPIServer(
                host: settings.apiHost, port: settings.apiPort, handler: handler, environment: environment, log: log
            ).run()
        }
        if settings.testInput != nil || environment.urls == nil {
            return await LocalTestRun(handler: handler, environment: environment, log: log).run(
                testInput: settings.testInput)
        }
        guard let urls = environment.urls else { return 1 }
        return await ProductionWorker(
            environment: environment, urls: urls, handler: handler, options: settings.worker, log: log
        ).run()
    }
}
