import FlakeboxSandbox

extension JobRunner {
    /// After a flaky job (some attempts failed, some passed), runs the first failing attempt once
    /// more in a fresh sandbox, with the same plan (command, seed, environment, order): if it fails
    /// again the seed controls the failure; if it passes, timing, order or outside state do. One
    /// extra run, after every attempt has finished (so within `parallelism`); none once the job is
    /// cancelled or past `deadline_s`.
    func replayFirstFailure(
        _ input: JobInput, prepared: Prepared, records: [AttemptRecord], deadline: ContinuousClock.Instant?
    ) async -> SeedReplay? {
        guard options.checkSeedControl, !options.pinSeed, !Task.isCancelled else { return nil }
        if let deadline, ContinuousClock.now >= deadline { return nil }
        let failing = records.filter { $0.result.status.isTestFailure }
        let passed = records.filter { $0.result.status == .passed }.count
        let sandboxErrors = records.filter { $0.result.status == .sandboxError }.count
        let verdict = JobSummary.Verdict.decide(
            failures: failing.count, testOutcomes: failing.count + passed, sandboxErrors: sandboxErrors)
        // The seed `replay` names: the smallest failing one (as `SummaryContext` picks it).
        guard verdict == .flaky, let first = failing.min(by: { ($0.seed, $0.attempt) < ($1.seed, $1.attempt) })
        else { return nil }
        let index = first.attempt - options.firstAttempt
        guard index >= 0 else { return nil }
        let plan = planner(for: input, prepared: prepared).plan(index: index)
        // The plan must be the failing attempt's own: a replay of another seed would prove nothing.
        guard plan.seed == first.seed, plan.attempt == first.attempt else { return nil }
        let result = await prepared.sandbox.run(Self.request(for: plan, input: input, prepared: prepared))
        // A harness failure or a cancel says nothing about the seed.
        guard result.status == .passed || result.status.isTestFailure else { return nil }
        return SeedReplay(seed: plan.seed, attempt: plan.attempt, statuses: [result.status])
    }
}
