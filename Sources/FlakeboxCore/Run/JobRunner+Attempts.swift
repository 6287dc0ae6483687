import FlakeboxSandbox
import Foundation

extension JobRunner {
    /// Runs the attempts, at most `parallelism` at once, in order of attempt number. Stops starting
    /// new ones after `stop_after_failures` failures, at `deadline_s`, or when cancelled; what
    /// finished is kept either way.
    func runAttempts(_ input: JobInput, prepared: Prepared) async -> (
        records: [AttemptRecord], incompleteReason: String?
    ) {
        let planner = self.planner(for: input, prepared: prepared)
        let started = ContinuousClock.now
        let deadline = input.deadlineSeconds.map { started + .milliseconds(Int64($0 * 1000)) }
        let budget = RecordBudget(input: input)
        let filter = OutputFilter(input: input)
        var records: [AttemptRecord] = []
        var next = 0
        var running = 0
        var failures = 0
        var stopReason: String?

        await withTaskGroup(of: AttemptRecord.self) { group in
            func launch(_ index: Int) {
                let plan = planner.plan(index: index)
                let attempt = plan.attempt
                let request = Self.request(for: plan, input: input, prepared: prepared)
                let sandbox = prepared.sandbox
                var observer: OutputObserver?
                if let observe = options.outputObserver {
                    observer = { @Sendable stream, bytes in observe(attempt, stream, bytes) }
                }
                let attemptObserver = observer
                group.addTask {
                    let result = await sandbox.run(request, observer: attemptObserver)
                    // Filtered before the trim: the patterns see all the output that was kept.
                    return budget.trim(filter.apply(.collecting(attempt: attempt, seed: plan.seed, result: result)))
                }
            }
            func fill() {
                while stopReason == nil && next < input.runs && running < input.parallelism {
                    if let deadline, ContinuousClock.now >= deadline {
                        stopReason =
                            "deadline_s (\(input.deadlineSeconds ?? 0) s) reached after \(next) of \(input.runs) runs started"
                        break
                    }
                    launch(next)
                    next += 1
                    running += 1
                }
            }
            // Reported when attempts start as well as when they end: a job of long attempts shows
            // them running from the start.
            func report() {
                options.progress?(
                    JobProgress(
                        phase: .running, total: input.runs, completed: records.count, failures: failures,
                        running: running, elapsedSeconds: (ContinuousClock.now - started).seconds))
            }
            fill()
            report()
            for await record in group {
                running -= 1
                records.append(record)
                if record.result.status.isTestFailure { failures += 1 }
                options.attemptFinished?(record)
                if stopReason == nil {
                    if Task.isCancelled {
                        stopReason = "cancelled after \(records.count) of \(input.runs) runs"
                    } else if let limit = input.stopAfterFailures, failures >= limit {
                        stopReason = "stopped after \(failures) failures (stop_after_failures = \(limit))"
                    }
                }
                fill()
                report()
            }
        }
        if stopReason == nil && records.count < input.runs {
            stopReason = "\(records.count) of \(input.runs) runs finished"
        }
        return (records.sorted { $0.attempt < $1.attempt }, stopReason)
    }

    /// The job's planner: every attempt's command, seed and environment.
    func planner(for input: JobInput, prepared: Prepared) -> AttemptPlanner {
        AttemptPlanner(
            input: input, workspace: prepared.sandbox.policy.filesystem.workspace, venv: prepared.venv,
            pytestRandomly: prepared.pytestRandomly, firstAttempt: options.firstAttempt, pinned: options.pinSeed)
    }

    /// What the sandbox runs for `plan`.
    static func request(for plan: AttemptPlan, input: JobInput, prepared: Prepared) -> AttemptRequest {
        AttemptRequest(
            command: plan.command, environment: plan.environment, workspace: prepared.checkout, label: "attempt",
            timeoutSeconds: input.timeoutSeconds, artifacts: plan.artifacts, noise: plan.noise,
            shellFallback: plan.shellFallback)
    }
}
