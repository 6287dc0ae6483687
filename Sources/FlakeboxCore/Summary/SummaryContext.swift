import FlakeboxSandbox

/// Everything about a job's summary that does not depend on its size budget, computed once;
/// `assemble` builds the summary for given list limits and output caps.
struct SummaryContext {
    let input: SummaryInput
    /// By attempt.
    let records: [AttemptRecord]
    let failures: Int
    let testOutcomes: Int
    let sandboxErrors: Int
    let statusCounts: [String: Int]
    let failureRate: JobSummary.FailureRate
    let verdict: JobSummary.Verdict
    let advice: String
    let durations: JobSummary.Durations?
    let clusters: [FailureSignatureClusterer.Cluster]
    let tests: TestResultAggregator
    /// Failing tests, most failures first, then by name.
    let failingTestNames: [String]
    /// Ascending, each once, all of them.
    let failingSeeds: [UInt64]
    let replay: String?
    /// What the attempts ran in (a merge takes the shards').
    var isolation: JobSummary.Isolation
    let profiles: [OutputBudgetAllocator.Profile]
    let seedReach: JobSummary.SeedReach
    let seedControl: JobSummary.SeedControl?
    let interference: JobSummary.Interference?
    /// Carried over by a merge from its shards, like `isolation`.
    var stress: JobSummary.Stress?
    var memoryBudget: JobSummary.MemoryBudget?
    /// What a merge needs of this summary; the statistics above are computed from it.
    let shard: JobSummary.Shard

    /// Statuses that are a test's failure.
    static let failureStatuses: Set<AttemptStatus> = [.failed, .signaled, .timeout, .oom, .outputLimit]

    /// - Parameter shard: the record of `input.records` when it is already known (a merge: the
    ///   shards' records joined); nil: made from them.
    init(_ input: SummaryInput, shard given: JobSummary.Shard? = nil) {
        self.input = input
        records = input.records.sorted { ($0.attempt, $0.seed) < ($1.attempt, $1.seed) }
        let shard = given ?? JobSummary.Shard(input: input, records: records)
        self.shard = shard

        var counts = Dictionary(uniqueKeysWithValues: AttemptStatus.allCases.map { ($0.rawValue, 0) })
        for record in records { counts[record.result.status.rawValue, default: 0] += 1 }
        statusCounts = counts
        let failing = records.filter { Self.failureStatuses.contains($0.result.status) }
        failures = failing.count
        sandboxErrors = counts[AttemptStatus.sandboxError.rawValue] ?? 0
        testOutcomes = failures + (counts[AttemptStatus.passed.rawValue] ?? 0)
        failureRate = JobSummary.FailureRate(failures: failures, trials: testOutcomes)
        verdict = .decide(failures: failures, testOutcomes: testOutcomes, sandboxErrors: sandboxErrors)

        // From the record's milliseconds, so a merge computes the same numbers from it.
        let seconds = zip(shard.attempts, shard.durationsSeconds)
            .filter { $0.0.status == .passed || Self.failureStatuses.contains($0.0.status) }.map(\.1)
        if let p50 = SummaryStatistics.percentile(50, of: seconds),
            let p95 = SummaryStatistics.percentile(95, of: seconds),
            let mean = SummaryStatistics.mean(seconds), let max = seconds.max()
        {
            durations = JobSummary.Durations(
                p50: SummaryFormat.seconds(p50), p95: SummaryFormat.seconds(p95), max: SummaryFormat.seconds(max),
                mean: SummaryFormat.seconds(mean))
        } else {
            durations = nil
        }

        clusters = shard.clusters()
        let tests = shard.testResults()
        self.tests = tests
        failingTestNames = tests.stats.filter { $0.value.failures > 0 }
            .sorted { ($0.value.failures, $1.key) > ($1.value.failures, $0.key) }
            .map(\.key)

        failingSeeds = Array(Set(failing.map(\.seed))).sorted()
        let firstFailing = failing.min { ($0.seed, $0.attempt) < ($1.seed, $1.attempt) }
        replay = firstFailing.map { input.replayCommand(seed: $0.seed, attempt: $0.attempt) }

        isolation = JobSummary.Isolation(
            tier: input.isolation.tier, layers: input.isolation.layers,
            missing: input.isolation.missing.map(\.name), kernel: input.isolation.kernel,
            rootless: input.isolation.rootless, warning: Self.isolationWarning(input.isolation))

        profiles = records.map { record in
            OutputBudgetAllocator.Profile(
                failing: record.result.status != .passed && record.result.status != .cancelled,
                streams: [.init(record.result.stdout), .init(record.result.stderr)])
        }

        let topTest = failingTestNames.first.flatMap { name in
            tests.stats[name].map { (name: name, failures: $0.failures, runs: $0.runs - $0.skips) }
        }
        var harnessFailures: [String: Int] = [:]
        for record in records where record.result.status == .sandboxError {
            harnessFailures[Self.sandboxError(for: record.result).message, default: 0] += 1
        }
        seedReach = JobSummary.SeedReach(job: input.job, reach: shard.reach)
        // Only a replay of the seed the summary's `replay` names answers for it.
        if let check = input.seedReplay, let firstFailing, firstFailing.seed == check.seed,
            firstFailing.attempt == check.attempt
        {
            seedControl = JobSummary.SeedControl(check, replay: replay)
        } else {
            seedControl = nil
        }
        let interference = input.sharedRuns.map { JobSummary.Interference(isolated: input.records, shared: $0) }
        self.interference = interference
        stress = input.job.stress.map {
            JobSummary.Stress($0, cpuLimit: input.cpuLimit, memoryLimit: input.memoryLimitBytes)
        }
        memoryBudget = input.memoryAdmission.flatMap { $0.reduced ? JobSummary.MemoryBudget($0) : nil }
        let commonSandboxError = harnessFailures.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
        // A collision explains the failures a user saw elsewhere: said first.
        advice =
            (interference.flatMap { $0.collides ? $0.sentence + " " : nil } ?? "")
            + SummaryAdvice(
                verdict: verdict, failures: failures, testOutcomes: testOutcomes, sandboxErrors: sandboxErrors,
                timeouts: counts[AttemptStatus.timeout.rawValue] ?? 0, failureRate: failureRate,
                firstFailingSeed: firstFailing?.seed, replay: replay, topSignatureCount: clusters.first?.count,
                signatureCount: clusters.count, topTest: topTest, commonSandboxError: commonSandboxError,
                complete: input.complete, incompleteReason: input.incompleteReason, seedReach: seedReach,
                ooms: counts[AttemptStatus.oom.rawValue] ?? 0, memoryLimit: input.memoryLimitBytes,
                orderDependency: input.classification.flatMap { OrderDependencyAdvice.sentence(for: $0) },
                seedControl: seedControl
            ).text
    }

    static func sandboxError(for result: AttemptResult) -> JobSummary.Attempt.SandboxError {
        guard let failure = result.setupFailure else {
            return .init(stage: "unknown", errno: 0, message: "the sandbox failed without saying where")
        }
        return .init(stage: failure.stage, errno: failure.errno, message: failure.description)
    }

    /// The summary with lists cut to `limits` and outputs to `caps`; `truncation` is left for
    /// the caller to fill in. Also returns how many failing and passing attempts had output cut.
    func assemble(
        limits: SummaryLimits, caps: OutputBudgetAllocator.Caps
    ) -> (summary: JobSummary, cutFailing: Int, cutPassing: Int) {
        var cutFailing = 0
        var cutPassing = 0
        var results: [JobSummary.Attempt] = []
        results.reserveCapacity(records.count)
        for (record, profile) in zip(records, profiles) {
            let result = record.result
            let streamLimits = OutputBudgetAllocator.streamLimits(
                kept: profile.streams.map(\.kept), cap: caps.cap(failing: profile.failing))
            let stdout = OutputExcerpt.make(result.stdout, limit: streamLimits[0])
            let stderr = OutputExcerpt.make(result.stderr, limit: streamLimits[1])
            if stdout.cut || stderr.cut {
                if profile.failing { cutFailing += 1 } else { cutPassing += 1 }
            }
            var failedTests: [String]?
            if limits.failedTestsPerAttempt > 0, let names = tests.failedTests[record.attempt] {
                failedTests = Array(names.prefix(limits.failedTestsPerAttempt))
            }
            var order: [String]?
            // Jest's note records no order (its report lists tests by file, not as they ran).
            if let report = record.runnerReport, report.shuffledBy != nil, report.jestVersion == nil,
                limits.orderPerAttempt > 0
            {
                order = Array(report.order.prefix(limits.orderPerAttempt))
            }
            results.append(
                JobSummary.Attempt(
                    attempt: record.attempt, seed: record.seed, exitCode: JobSummary.Attempt.exitCode(for: result),
                    status: result.status, durationSeconds: SummaryFormat.seconds(result.wallSeconds),
                    stdout: stdout.text, stderr: stderr.text, stdoutDroppedBytes: stdout.droppedBytes,
                    stderrDroppedBytes: stderr.droppedBytes, cpuSeconds: result.cpuSeconds.map(SummaryFormat.seconds),
                    peakMemoryBytes: result.peakMemoryBytes, signal: result.signal,
                    sandboxError: result.status == .sandboxError ? Self.sandboxError(for: result) : nil,
                    failedTests: failedTests, order: order,
                    orderTotal: order == nil ? nil : record.runnerReport?.orderTotal, filtered: record.filtered
                ))
        }

        let signatures = clusters.prefix(limits.signatures).map { cluster in
            JobSummary.FailureSignature(
                signature: cluster.text(maximumBytes: limits.signatureBytes), count: cluster.count,
                attempts: Array(cluster.attempts.prefix(limits.listedAttempts)), exampleAttempt: cluster.exampleAttempt,
                statuses: Dictionary(uniqueKeysWithValues: cluster.statuses.map { ($0.key.rawValue, $0.value) }))
        }
        let testEntries = failingTestNames.prefix(limits.tests).compactMap { name -> JobSummary.TestEntry? in
            guard let stats = tests.stats[name] else { return nil }
            let executed = stats.runs - stats.skips
            var entry = JobSummary.TestEntry(
                name: name, runs: stats.runs, failures: stats.failures, errors: stats.errors, skips: stats.skips,
                rate: executed > 0 ? SummaryFormat.rate(Double(stats.failures) / Double(executed)) : 0,
                flaky: stats.failures > 0 && stats.passes > 0, alwaysFails: stats.failures > 0 && stats.passes == 0,
                exampleMessage: stats.exampleMessage,
                failingAttempts: Array(stats.failingAttempts.prefix(limits.listedAttempts)))
            if let classified = input.classification?.tests[name] { entry.classify(classified) }
            return entry
        }
        let setup = input.setup.map { setup in
            let bytes = Array(setup.logTail.utf8)
            let start = OutputExcerpt.sequenceStart(bytes[...], bytes.count - min(bytes.count, limits.setupLogBytes))
            return JobSummary.Setup(
                command: setup.command, durationSeconds: SummaryFormat.seconds(setup.durationSeconds),
                logTail: LossyUTF8.string(bytes[start...]), writeLimit: setup.writeLimit)
        }
        let timings = input.timings
        var summary = JobSummary(
            totalRuns: records.count, parallelism: input.job.parallelism, failures: failures,
            reproRate: testOutcomes > 0 ? SummaryFormat.rate(Double(failures) / Double(testOutcomes)) : 0,
            results: results, runsRequested: input.job.runs, testOutcomes: testOutcomes, complete: input.complete,
            incompleteReason: input.incompleteReason, statusCounts: statusCounts, sandboxErrors: sandboxErrors,
            failureRate: failureRate, verdict: verdict, advice: advice, durations: durations,
            failureSignatures: signatures, failureSignaturesTotal: clusters.count, tests: testEntries,
            testsTotal: tests.stats.count, testsFailedTotal: failingTestNames.count,
            failingSeeds: Array(failingSeeds.prefix(limits.failingSeeds)), replay: replay, isolation: isolation,
            timings: JobSummary.Timings(
                cloneSeconds: SummaryFormat.seconds(timings.cloneSeconds),
                setupSeconds: SummaryFormat.seconds(timings.setupSeconds),
                runsSeconds: SummaryFormat.seconds(timings.runSeconds),
                totalSeconds: SummaryFormat.seconds(timings.totalSeconds), checkoutCached: timings.checkoutCached),
            setup: setup, commit: input.commit, flakeboxVersion: input.flakeboxVersion,
            truncation: JobSummary.Truncation(
                budgetBytes: input.job.summaryBudgetBytes, jsonBytes: 0, withinBudget: true,
                outputBytesPerFailingAttempt: nil, outputBytesPerPassingAttempt: nil, attemptsWithCutOutput: 0,
                listsShortened: limits != .standard, sentence: ""), seedReach: seedReach,
            classification: input.classification.map {
                JobSummary.Classification(
                    runs: $0.runs, testsClassified: $0.tests.count, testsSkipped: $0.skippedTests, note: $0.note,
                    seconds: SummaryFormat.seconds($0.seconds))
            }, seedControl: seedControl)

        summary.interference = interference
        summary.stress = stress
        summary.memoryBudget = memoryBudget
        summary.shard = shard
        if input.job.failurePattern != nil || input.job.ignorePattern != nil {
            summary.filteredFailures = records.filter { $0.filtered != nil }.count
        }
        return (summary, cutFailing, cutPassing)
    }

    /// Said in every summary below the full tier, so that nobody reads a weaker run as a full one.
    static func isolationWarning(_ report: IsolationReport) -> String? {
        let missing = report.missing.map(\.name).joined(separator: ", ")
        switch report.tier {
        case .full:
            return nil
        case .reduced:
            return "REDUCED ISOLATION: attempts ran without \(missing); each missing layer is listed in `layers`."
        case .minimal:
            return "MINIMAL ISOLATION: no namespaces (missing \(missing)). " + minimalShared(report)
        }
    }

    /// Exactly what minimal-tier attempts still shared, from the layers that were found.
    static func minimalShared(_ report: IsolationReport) -> String {
        var shared = ["the host's process list (/proc)"]
        var had = ["its own copy of the checkout, TMPDIR and HOME", "rlimits", "seccomp"]
        if report.has(IsolationReport.loopbackGuard) {
            had.append("a loopback address of its own (127.0.0.1, 0.0.0.0, ::1 and abstract unix names rewritten)")
            let inPlace = report.layers.contains {
                $0.name == IsolationReport.loopbackGuard && $0.detail.contains("in place")
            }
            had.append(
                "no traffic off the machine unless the policy shares the network"
                    + (inPlace ? " (checked before the call: a test racing its own call can get past)" : ""))
            shared.append("the host's other network interfaces and /proc/net")
        } else {
            shared.append("the host's network (ports collide, traffic leaves the machine)")
        }
        if report.has(IsolationReport.slotUIDs) {
            had.append("a uid of its own (attempts cannot signal or read each other; leftovers die with the command)")
        } else {
            shared.append("one uid for every attempt (they can signal each other)")
        }
        if report.has(IsolationReport.landlock) {
            had.append("Landlock: writes only beneath its own directories, reads only the policy's paths")
            if report.has(IsolationReport.privateDirectories) {
                had.append(
                    "a private /tmp, /var/tmp and /dev/shm (absolute paths rewritten by the path guard; a path that"
                        + " escapes the rewrite meets the shared one closed)")
            } else {
                shared.append("/dev/shm (names can collide); /tmp and /var/tmp are not private but not writable")
            }
        } else {
            shared.append("the host's files, /tmp, /var/tmp and /dev/shm as the uid allows")
        }
        return "Attempts shared " + shared.joined(separator: ", ") + ". Each attempt had "
            + had.joined(separator: "; ") + "."
    }
}
