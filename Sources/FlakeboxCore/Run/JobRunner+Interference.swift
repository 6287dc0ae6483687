import FlakeboxSandbox

extension JobRunner {
    /// Interference mode: the attempts that ran alone run again with the same plans (seeds,
    /// environment, noise), `SharedCheckoutPlan.copies(parallelism:)` at once in one shared
    /// sandbox, one group after another. Returns one record per copy, or nil when the job did not
    /// ask. Stops starting groups after a cancel or at `deadline_s` (the records say how many ran).
    func runShared(
        _ input: JobInput, prepared: Prepared, records: [AttemptRecord], deadline: ContinuousClock.Instant?
    ) async -> SharedRuns? {
        guard input.interference else { return nil }
        let copies = SharedCheckoutPlan.copies(parallelism: input.parallelism)
        // The attempts that produced a test outcome alone; a pinned replay repeats one attempt.
        let indices = Array(
            Set(
                records.filter { $0.result.status == .passed || $0.result.status.isTestFailure }
                    .map { $0.attempt - options.firstAttempt }.filter { $0 >= 0 }
            )
        ).sorted()
        let planner = self.planner(for: input, prepared: prepared)
        let workspace = prepared.sandbox.policy.filesystem.workspace
        let budget = RecordBudget(input: input)
        let filter = OutputFilter(input: input)
        let started = ContinuousClock.now
        var shared: [AttemptRecord] = []
        var stopReason: String?
        for start in stride(from: 0, to: indices.count, by: copies) {
            if Task.isCancelled {
                stopReason = "cancelled"
                break
            }
            if let deadline, ContinuousClock.now >= deadline {
                stopReason = "deadline_s reached"
                break
            }
            options.progress?(
                JobProgress(
                    phase: .sharing, total: indices.count, completed: shared.count, failures: 0, running: copies,
                    elapsedSeconds: (ContinuousClock.now - started).seconds))
            let plan = SharedCheckoutPlan(
                planner: planner, indices: Array(indices[start..<min(start + copies, indices.count)]))
            let request = AttemptRequest(
                command: plan.command, environment: plan.environment, workspace: prepared.checkout, label: "shared",
                timeoutSeconds: input.timeoutSeconds, artifacts: plan.artifacts, noise: plan.noise)
            let result = await prepared.sandbox.run(request)
            shared += plan.records(from: result, workspace: workspace).map { budget.trim(filter.apply($0)) }
        }
        return SharedRuns(records: shared, copiesAtOnce: copies, planned: indices.count, stopReason: stopReason)
    }
}
