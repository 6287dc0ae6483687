import FlakeboxSandbox

/// The shards of one job joined, lowest seeds first (`SummaryMerger` checked they belong
/// together): one `shard` record over every attempt, renumbered from the lowest seed, and one
/// attempt record per `results` entry for what the summary shows of each attempt.
struct JoinedShards {
    let base: UInt64
    private var shard: JobSummary.Shard?
    private var lineIndex: [String: Int] = [:]
    private var signatureIndex: [[Int]: Int] = [:]
    private var records: [AttemptRecord] = []
    private var seen: [UInt64: Int] = [:]
    private var summaries: [JobSummary] = []
    private var incomplete: [String] = []

    init(base: UInt64) { self.base = base }

    mutating func add(shard part: JobSummary.Shard, summary: JobSummary, number: Int) throws(MergeError) {
        let offset = Int(part.seedStart - base)
        var joined =
            shard
            ?? JobSummary.Shard(
                format: JobSummary.Shard.currentFormat, identity: part.identity, seedStart: base, runs: 0,
                replayTemplate: part.replayTemplate, memoryLimitBytes: part.memoryLimitBytes, cpuLimit: part.cpuLimit,
                attempts: [], durationsSeconds: [], signatureLines: [], signatures: [], tests: [:],
                reach: .init(
                    attempts: 0, pluginActive: 0, reseededBy: [], generators: [], shuffledBy: [], jestVersions: []))
        joined.runs += part.runs

        let results = Dictionary(summary.results.map { ($0.attempt, $0) }, uniquingKeysWith: { first, _ in first })
        guard part.durationsSeconds.count == part.attempts.count else {
            throw MergeError(.inconsistent, "summary \(number)'s shard record has a duration for some attempts only")
        }
        for (row, seconds) in zip(part.attempts, part.durationsSeconds) {
            if let other = seen[row.seed] {
                throw MergeError(
                    .duplicateAttempt,
                    "seed \(row.seed) was run in summary \(other) and again in summary \(number): each attempt "
                        + "may be merged once")
            }
            seen[row.seed] = number
            guard let result = results[row.attempt], result.seed == row.seed else {
                throw MergeError(
                    .inconsistent,
                    "summary \(number)'s shard record lists attempt \(row.attempt) (seed \(row.seed)), which its "
                        + "results do not have")
            }
            var renumbered = row
            renumbered.attempt += offset
            if let index = row.signature {
                guard part.signatures.indices.contains(index),
                    part.signatures[index].allSatisfy(part.signatureLines.indices.contains)
                else {
                    throw MergeError(.inconsistent, "summary \(number)'s shard record names a missing signature")
                }
                renumbered.signature = signature(part.signatures[index].map { part.signatureLines[$0] }, in: &joined)
            }
            joined.attempts.append(renumbered)
            joined.durationsSeconds.append(seconds)
            records.append(Self.record(result, row: renumbered, seconds: seconds, tier: summary.isolation.tier))
        }
        for (id, tally) in part.tests {
            var sum =
                joined.tests[id]
                ?? .init(runs: 0, failures: 0, errors: 0, skips: 0, failingAttempts: [], message: nil)
            sum.runs += tally.runs
            sum.failures += tally.failures
            sum.errors += tally.errors
            sum.skips += tally.skips
            sum.failingAttempts += tally.failingAttempts.map { $0 + offset }
            // The first failure with a message, in attempt order: shards come lowest seeds first.
            sum.message = sum.message ?? tally.message
            joined.tests[id] = sum
        }
        joined.reach.attempts += part.reach.attempts
        joined.reach.pluginActive += part.reach.pluginActive
        joined.reach.reseededBy = Array(Set(joined.reach.reseededBy + part.reach.reseededBy)).sorted()
        joined.reach.generators = Array(Set(joined.reach.generators + part.reach.generators)).sorted()
        joined.reach.shuffledBy = Array(Set(joined.reach.shuffledBy + part.reach.shuffledBy)).sorted()
        joined.reach.jestVersions = Array(Set(joined.reach.jestVersions + part.reach.jestVersions)).sorted()
        shard = joined
        summaries.append(summary)
        if !summary.complete {
            incomplete.append(
                "\(SummaryMerger.range(part)): \(summary.incompleteReason ?? "stopped before every run was made")")
        }
    }

    /// The index of `lines` as a signature of the joined record, adding it when new.
    private mutating func signature(_ lines: [String], in joined: inout JobSummary.Shard) -> Int {
        let indices = lines.map { line in
            if let index = lineIndex[line] { return index }
            lineIndex[line] = joined.signatureLines.count
            joined.signatureLines.append(line)
            return joined.signatureLines.count - 1
        }
        if let index = signatureIndex[indices] { return index }
        signatureIndex[indices] = joined.signatures.count
        joined.signatures.append(indices)
        return joined.signatures.count - 1
    }

    /// An attempt as far as its `results` entry tells it, numbered as in the merged job.
    static func record(
        _ entry: JobSummary.Attempt, row: JobSummary.Shard.Row, seconds: Double, tier: IsolationTier
    ) -> AttemptRecord {
        // `exit_code` folds a killing signal in as its negative: unfolded, it folds back the same.
        let exitCode = entry.signal.map { entry.exitCode == -$0 } == true ? nil : entry.exitCode
        var setupFailure: AttemptResult.SetupFailure?
        if let error = entry.sandboxError, error.stage != "unknown" || error.errno != 0 {
            setupFailure = .init(stage: error.stage, errno: error.errno)
        }
        let result = AttemptResult(
            status: row.status, exitCode: exitCode, signal: entry.signal, setupFailure: setupFailure,
            wallSeconds: seconds, cpuSeconds: entry.cpuSeconds, peakMemoryBytes: entry.peakMemoryBytes,
            stdout: CapturedOutput(excerpt: entry.stdout, droppedBytes: entry.stdoutDroppedBytes),
            stderr: CapturedOutput(excerpt: entry.stderr, droppedBytes: entry.stderrDroppedBytes), tier: tier)
        var record = AttemptRecord(attempt: row.attempt, seed: row.seed, result: result)
        if let order = entry.order {
            // Only the order is shown from it (what the seed reached is in the shard record).
            record.runnerReport = RunnerReport(
                sessions: 1, reseededBy: nil, generators: [], shuffledBy: "flakebox", order: order,
                orderTotal: entry.orderTotal ?? order.count)
        }
        record.filtered = entry.filtered
        return record
    }

    /// The summary context of the joined job; `first` is the summary with the lowest seeds.
    func context(first: JobSummary) throws(MergeError) -> SummaryContext {
        guard var shard else { throw MergeError(.noSummaries, "nothing to merge: give at least one summary") }
        let sorted = zip(shard.attempts, shard.durationsSeconds).sorted { $0.0.attempt < $1.0.attempt }
        shard.attempts = sorted.map(\.0)
        shard.durationsSeconds = sorted.map(\.1)
        let identity = shard.identity
        var job = JobInput(
            repo: identity["repo"] ?? "", testCommand: identity["test_command"] ?? "", runs: shard.runs,
            parallelism: summaries.map(\.parallelism).max() ?? 1, seedStart: base,
            summaryBudgetBytes: Int(identity["summary_budget_bytes"] ?? "") ?? first.truncation.budgetBytes)
        job.reseed = identity["reseed"] != "false"
        job.shuffle = identity["shuffle"] == "true"
        // Only whether a pattern was given matters to the summary (it then counts filtered failures).
        job.failurePattern = identity["failure_pattern"].flatMap { try? OutputPattern($0) }
        job.ignorePattern = identity["ignore_pattern"].flatMap { try? OutputPattern($0) }

        let isolation = IsolationReport(
            tier: first.isolation.tier, layers: first.isolation.layers, kernel: first.isolation.kernel,
            rootless: first.isolation.rootless, cgroupsUsable: false)
        let timings = summaries.map(\.timings)
        var input = SummaryInput(
            job: job, records: records, complete: incomplete.isEmpty,
            incompleteReason: incomplete.isEmpty ? nil : incomplete.joined(separator: "; "), isolation: isolation,
            timings: JobTimings(
                cloneSeconds: timings.map(\.cloneSeconds).max() ?? 0,
                setupSeconds: timings.map(\.setupSeconds).max() ?? 0,
                runSeconds: timings.map(\.runsSeconds).max() ?? 0,
                totalSeconds: timings.map(\.totalSeconds).max() ?? 0,
                checkoutCached: timings.allSatisfy(\.checkoutCached)),
            setup: first.setup.map {
                SetupReport(command: $0.command, durationSeconds: $0.durationSeconds, logTail: $0.logTail)
            },
            commit: first.commit, flakeboxVersion: first.flakeboxVersion, replayTemplate: shard.replayTemplate)
        input.workingTree = first.workingTree
        input.memoryLimitBytes = shard.memoryLimitBytes
        input.cpuLimit = shard.cpuLimit
        input.seedReplay = seedReplay()
        input.classification = classification()

        var context = SummaryContext(input, shard: shard)
        context.isolation = first.isolation
        context.stress = first.stress
        context.memoryBudget = summaries.lazy.compactMap(\.memoryBudget).first
        return context
    }

    /// The shards' classification phases carried over (each classified the tests that failed in
    /// it, within its own bounds; the unsplit job's phase would have chosen for itself): each
    /// test's kind from the shard with the lowest seeds that classified it, runs and skipped tests
    /// summed, the slowest phase's time.
    private func classification() -> ClassificationReport? {
        let phases = summaries.compactMap(\.classification)
        guard let first = phases.first else { return nil }
        var tests: [String: TestClassification] = [:]
        for summary in summaries {
            for entry in summary.tests where tests[entry.name] == nil {
                guard let kind = entry.kind else { continue }
                let alone = entry.rateAlone.flatMap(Self.counts)
                tests[entry.name] = TestClassification(
                    kind: kind, reason: entry.kindReason ?? "", polluter: entry.polluter,
                    stateSetter: entry.stateSetter, aloneRuns: alone?.trials ?? 0,
                    aloneFailures: alone?.failures ?? 0, replay: entry.replay, runs: entry.classificationRuns ?? 0)
            }
        }
        let note =
            phases.count == 1
            ? first.note
            : "Each of \(phases.count) shards classified the tests that failed in it; a test's kind is from the "
                + "shard with the lowest seeds that classified it. " + first.note
        return ClassificationReport(
            tests: tests, runs: phases.reduce(0) { $0 + $1.runs },
            skippedTests: phases.reduce(0) { $0 + $1.testsSkipped }, note: note,
            seconds: phases.map(\.seconds).max() ?? 0)
    }

    /// The failures and runs a failure rate was made from, read back from its sentence (the only
    /// place the summary keeps them).
    static func counts(_ rate: JobSummary.FailureRate) -> (failures: Int, trials: Int)? {
        let words = rate.sentence.split(separator: " ")
        if rate.sentence.hasPrefix("no failure in "), words.count > 3, let trials = Int(words[3]) {
            return (0, trials)
        }
        if words.count > 2, words[1] == "of", let failures = Int(words[0]), let trials = Int(words[2]) {
            return (failures, trials)
        }
        return nil
    }

    /// A shard's replay of its first failing seed, renumbered; the summary keeps it only when
    /// that seed is the merged job's first failing one.
    private func seedReplay() -> SeedReplay? {
        for summary in summaries {
            guard let control = summary.seedControl, let part = summary.shard else { continue }
            let statuses = control.statuses.compactMap(AttemptStatus.init(rawValue:))
            guard statuses.count == control.statuses.count else { continue }
            return SeedReplay(
                seed: control.seed, attempt: control.attempt + Int(part.seedStart - base), statuses: statuses)
        }
        return nil
    }
}
