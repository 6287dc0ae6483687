import FlakeboxSandbox

/// Per-test results across attempts, from each attempt's JUnit reports.
///
/// Within one attempt a test counts once: failed when any of its cases there failed, else
/// errored, else passed, else skipped (a rerun plugin's retries or a test listed in two reports
/// do not count twice).
struct TestResultAggregator {
    struct Stats: Sendable, Equatable {
        /// Attempts that reported the test (skipped ones included).
        var runs = 0
        /// Attempts where it failed or errored.
        var failures = 0
        /// Of `failures`, the attempts where it errored rather than failed.
        var errors = 0
        var skips = 0
        /// Sorted.
        var failingAttempts: [Int] = []
        var exampleMessage: String?

        var passes: Int { runs - failures - skips }
    }

    private(set) var stats: [String: Stats] = [:]
    /// Per attempt: the ids of the tests that failed or errored in it, sorted.
    private(set) var failedTests: [Int: [String]] = [:]
    /// Attempts with at least one report that parsed.
    private(set) var attemptsWithReports: Set<Int> = []

    init() {}

    /// Results already gathered (`JobSummary.Shard.testResults()`).
    init(stats: [String: Stats], failedTests: [Int: [String]], attemptsWithReports: Set<Int>) {
        self.stats = stats
        self.failedTests = failedTests
        self.attemptsWithReports = attemptsWithReports
    }

    /// Adds one attempt's parsed reports (attempts must be added in increasing order).
    mutating func add(attempt: Int, reports: [JUnitReport]) {
        guard !reports.isEmpty else { return }
        attemptsWithReports.insert(attempt)
        var outcomes: [String: (outcome: JUnitReport.Outcome, message: String?)] = [:]
        for report in reports {
            for testCase in report.testCases {
                let previous = outcomes[testCase.id]
                if let previous, Self.rank(testCase.outcome) <= Self.rank(previous.outcome) { continue }
                outcomes[testCase.id] = (testCase.outcome, testCase.message ?? previous?.message)
            }
        }
        var failed: [String] = []
        for (id, result) in outcomes {
            var entry = stats[id, default: Stats()]
            entry.runs += 1
            switch result.outcome {
            case .failed, .errored:
                entry.failures += 1
                if result.outcome == .errored { entry.errors += 1 }
                entry.failingAttempts.append(attempt)
                if entry.exampleMessage == nil, let message = result.message {
                    entry.exampleMessage = Self.shortMessage(message)
                }
                failed.append(id)
            case .skipped:
                entry.skips += 1
            case .passed:
                break
            }
            stats[id] = entry
        }
        failedTests[attempt] = failed.sorted()
    }

    /// A failure message as a summary shows it: its first meaningful line, normalized, ≤ 200 bytes.
    static func shortMessage(_ message: String) -> String? {
        for line in message.split(whereSeparator: \.isNewline) {
            if let normalized = OutputNormalizer.normalize(line: line) {
                let bytes = Array(normalized.utf8)
                return LossyUTF8.string(bytes[..<OutputExcerpt.completePrefixEnd(bytes[...], 200)])
            }
        }
        return nil
    }

    private static func rank(_ outcome: JUnitReport.Outcome) -> Int {
        switch outcome {
        case .skipped: 0
        case .passed: 1
        case .errored: 2
        case .failed: 3
        }
    }
}
