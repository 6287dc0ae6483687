import FlakeboxSandbox

extension JobSummary.Shard {
    /// The record of a job's attempts (`records` sorted by attempt).
    init(input: SummaryInput, records: [AttemptRecord]) {
        format = Self.currentFormat
        identity = Self.identity(of: input.job, commit: input.commit, tier: input.isolation.tier)
        seedStart = input.job.seedStart
        runs = input.job.runs
        replayTemplate = input.replayTemplate
        memoryLimitBytes = input.memoryLimitBytes
        cpuLimit = input.cpuLimit

        var lineIndex: [String: Int] = [:]
        var signatureIndex: [[Int]: Int] = [:]
        var table: [String] = []
        var signatureList: [[Int]] = []
        var rows: [Row] = []
        var durations: [Double] = []
        rows.reserveCapacity(records.count)
        var aggregator = TestResultAggregator()
        var reports: [RunnerReport] = []
        var outcomes = 0
        for record in records {
            let status = record.result.status
            let outcome = status == .passed || status.isTestFailure
            var junit = false
            var signature: Int?
            if outcome {
                outcomes += 1
                if let report = record.runnerReport { reports.append(report) }
                let parsed = record.junitReports.compactMap { JUnitReport.parse($0) }
                junit = !parsed.isEmpty
                aggregator.add(attempt: record.attempt, reports: parsed)
            }
            if status.isTestFailure {
                let lines =
                    FailureSignatureClusterer.causeLines(for: record)
                    ?? FailureSignatureClusterer.lines(for: record.result)
                var indices: [Int] = []
                for line in lines {
                    if let index = lineIndex[line] {
                        indices.append(index)
                    } else {
                        lineIndex[line] = table.count
                        indices.append(table.count)
                        table.append(line)
                    }
                }
                if let index = signatureIndex[indices] {
                    signature = index
                } else {
                    signatureIndex[indices] = signatureList.count
                    signature = signatureList.count
                    signatureList.append(indices)
                }
            }
            rows.append(
                Row(
                    attempt: record.attempt, seed: record.seed, status: status,
                    exitCode: JobSummary.Attempt.exitCode(for: record.result), signature: signature, junit: junit))
            durations.append(SummaryFormat.seconds(record.result.wallSeconds))
        }
        attempts = rows
        durationsSeconds = durations
        signatureLines = table
        signatures = signatureList
        tests = aggregator.stats.mapValues {
            TestTally(
                runs: $0.runs, failures: $0.failures, errors: $0.errors, skips: $0.skips,
                failingAttempts: $0.failingAttempts, message: $0.exampleMessage)
        }
        reach = Reach(
            attempts: outcomes, pluginActive: reports.count,
            reseededBy: Array(Set(reports.compactMap(\.reseededBy))).sorted(),
            generators: Array(Set(reports.flatMap(\.generators))).sorted(),
            shuffledBy: Array(Set(reports.compactMap(\.shuffledBy))).sorted(),
            jestVersions: Array(Set(reports.compactMap(\.jestVersion))).sorted())
    }

    /// The job fields that change what attempts do or how they are judged, as text. Left out:
    /// `runs` and `seed_start` (the shard's range), `parallelism` (how many at once, not what
    /// each does), and `ref` when the commit is known (the commit is what ran).
    static func identity(of job: JobInput, commit: String?, tier: IsolationTier) -> [String: String] {
        var fields: [String: String?] = [
            "repo": job.repo,
            "commit": commit,
            "ref": commit == nil ? job.ref : nil,
            "test_command": job.testCommand,
            "setup_command": job.setupCommand,
            "policy": job.policy,
            "tier": tier.rawValue,
            "runner": TestRunnerDetector.adapter(for: job.testCommand).name,
            "timeout_s": job.timeoutSeconds.map { "\($0)" },
            "deadline_s": job.deadlineSeconds.map { "\($0)" },
            "stop_after_failures": job.stopAfterFailures.map(String.init),
            "output_limit_bytes": job.outputLimitBytes.map(String.init),
            "junit_xml": job.junitXML,
            "summary_budget_bytes": String(job.summaryBudgetBytes),
            "submodules": String(job.submodules),
            "reseed": String(job.reseed),
            "shuffle": String(job.shuffle),
            "packages": job.packages.isEmpty ? nil : job.packages.joined(separator: " "),
            "memory_bytes": job.memoryBytes.map(String.init),
            "rerun": String(job.rerun),
            "failure_pattern": job.failurePattern?.source,
            "ignore_pattern": job.ignorePattern?.source,
            "interference": String(job.interference),
            "stress": job.stress.map { "cpu \($0.cpuWorkers), io \($0.ioWorkers) of \($0.ioBytes) bytes" },
        ]
        // The values may be secrets: a digest tells two environments apart without showing them.
        if !job.environment.isEmpty {
            let text = job.environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                separator: "\u{0}")
            fields["environment"] = "fnv1a:" + String(FNV1a.hash(text), radix: 16)
        }
        return fields.compactMapValues { $0 }
    }

    /// The per-test results, as `TestResultAggregator` had them.
    func testResults() -> TestResultAggregator {
        var failedTests: [Int: [String]] = [:]
        for row in attempts where row.junit { failedTests[row.attempt] = [] }
        var stats: [String: TestResultAggregator.Stats] = [:]
        for (id, tally) in tests {
            stats[id] = TestResultAggregator.Stats(
                runs: tally.runs, failures: tally.failures, errors: tally.errors, skips: tally.skips,
                failingAttempts: tally.failingAttempts, exampleMessage: tally.message)
            for attempt in tally.failingAttempts { failedTests[attempt, default: []].append(id) }
        }
        return TestResultAggregator(
            stats: stats, failedTests: failedTests.mapValues { $0.sorted() },
            attemptsWithReports: Set(attempts.filter(\.junit).map(\.attempt)))
    }

    /// The failing attempts clustered by signature.
    func clusters() -> [FailureSignatureClusterer.Cluster] {
        FailureSignatureClusterer.cluster(
            signed: attempts.compactMap { row in
                row.signature.map { (row.attempt, signatures[$0].map { signatureLines[$0] }, row.status) }
            })
    }
}
