import FlakeboxCore
import FlakeboxJobs
import Foundation

/// The production worker (docs/RUNPOD_PROTOCOL.md §5–14): takes one job at a time from the platform,
/// runs it, posts its result; a heartbeat and the job-stop channel run beside it.
///
/// On SIGTERM or SIGINT it stops taking jobs at once, lets the running job go on until the grace
/// period ends, then cuts it short and posts its partial summary (`complete: false`), and returns.
/// The SDK instead waits for the job to finish, which a platform's kill timeout may not allow.
public struct ProductionWorker: Sendable {
    public struct Options: Sendable {
        /// Seconds between progress updates during a job.
        public var progressInterval: Duration
        /// How long the running job may go on after SIGTERM before it is cut short.
        public var shutdownGrace: Duration

        public init(progressInterval: Duration = .seconds(5), shutdownGrace: Duration = .seconds(5)) {
            self.progressInterval = progressInterval
            self.shutdownGrace = shutdownGrace
        }
    }

    let environment: RunPodEnvironment
    let urls: RunPodURLs
    let handler: FlakeboxJobHandler
    let options: Options
    let log: WorkerLog

    public init(
        environment: RunPodEnvironment, urls: RunPodURLs, handler: FlakeboxJobHandler, options: Options,
        log: WorkerLog
    ) {
        self.environment = environment
        self.urls = urls
        self.handler = handler
        self.options = options
        self.log = log
    }

    /// Runs until a shutdown signal; returns the process exit code (0).
    public func run() async -> Int32 {
        // Installed before anything else starts: from here on SIGTERM means "shut down", never "die".
        let signals = ShutdownSignal.stream()
        let http = RunPodHTTP(apiKey: environment.apiKey, log: log)
        let state = WorkerState()
        let poster = ResultPoster(http: http, urls: urls, log: log)
        let taker = JobTaker(http: http, urls: urls, log: log, state: state)

        var background: [Task<Void, Never>] = []
        if environment.sendsHeartbeats {
            let heartbeat = Heartbeat(
                http: http, urls: urls, intervalSeconds: environment.pingIntervalSeconds, state: state, log: log)
            background.append(Task { await heartbeat.run() })
        } else {
            log.info("Not deployed on Runpod serverless, pings will not be sent.")
        }
        if let stopURL = urls.jobStop {
            let channel = StopChannel(http: http, url: stopURL, state: state, log: log)
            background.append(Task { await channel.run() })
        } else {
            log.warn("Stop channel could not be derived from the job-take URL.")
        }

        // The loop below runs as a task of its own, so that a signal can cancel a job-take poll.
        let loop = Task {
            while !state.isShuttingDown {
                let jobs = await taker.next()
                for job in jobs {
                    await runJob(job, state: state, poster: poster)
                }
            }
        }
        let grace = options.shutdownGrace
        let log = self.log
        let watcher = Task {
            for await signal in signals {
                let deadline = ContinuousClock.now + grace
                guard state.beginShutdown(deadline: deadline) else { continue }
                log.info(
                    "\(ShutdownSignal.name(signal)) received: no more jobs are taken; "
                        + "the running job, or one a poll in flight brings, gets \(grace.seconds) s, "
                        + "then its partial result is posted.")
                // A poll still waiting at the deadline is abandoned (the platform may hold it 90 s).
                try? await Task.sleep(until: deadline, clock: .continuous)
                if state.jobIDs.isEmpty { loop.cancel() }
            }
        }
        await loop.value
        watcher.cancel()
        for task in background { task.cancel() }
        for task in background { await task.value }
        await http.shutdown()
        log.info("Worker stopped.")
        return 0
    }

    /// Runs one job and posts what it produced, unless the platform stopped it.
    func runJob(_ job: RunPodJob, state: WorkerState, poster: ResultPoster) async {
        state.begin(job.id)
        defer { state.end() }
        log.info("Started.", job: job.id)
        let reporter = ProgressReporter(interval: options.progressInterval)
        let progressTask = Task { await reporter.run(poster: poster, jobID: job.id) }
        let handler = self.handler
        let work = Task {
            await handler.handle(
                job, progress: { reporter.record($0) },
                incompleteReason: {
                    state.isShuttingDown ? "the worker was shut down (SIGTERM) and cut the job short" : nil
                })
        }
        // Watches for a stop request or the end of the shutdown grace, and cancels the job then.
        let watchdog = Task {
            while !Task.isCancelled {
                if state.isStopRequested { break }
                if let deadline = state.shutdownDeadline, ContinuousClock.now >= deadline { break }
                try? await Task.sleep(for: .milliseconds(100))
            }
            if !Task.isCancelled { work.cancel() }
        }
        let result = await work.value
        watchdog.cancel()
        progressTask.cancel()
        await progressTask.value
        if state.isStopRequested {
            log.info("Job stopped.", job: job.id)
            return
        }
        if let error = result.errorValue(hostname: environment.hostname, workerID: errorWorkerID) {
            log.error("Job failed: \(error)", job: job.id)
        }
        if await poster.postResult(
            result.body(hostname: environment.hostname, workerID: errorWorkerID), jobID: job.id)
        {
            log.info("Finished.", job: job.id)
        }
    }

    /// Error payloads say `unknown` when the platform gave no pod id, as the SDK's do.
    var errorWorkerID: String { environment.workerIDIsSet ? environment.workerID : "unknown" }
}
