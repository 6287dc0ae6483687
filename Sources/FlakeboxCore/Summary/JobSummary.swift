import FlakeboxSandbox
import Foundation

/// The summary of one job: the RunPod-format keys (`total_runs`, `parallelism`, `failures`,
/// `repro_rate`, `results`) and what a user needs to act on them: a verdict, a confidence
/// interval, advice, failure signatures, per-test results, and how the summary fit its budget.
///
/// Counting rules:
/// - `total_runs` is every attempt that was started: `results` has exactly one entry for each,
///   whatever its status.
/// - `failures` counts attempts that ended for a reason of the test's: `failed`, `signaled`,
///   `timeout`, `oom`, `output_limit`. A `sandbox_error` is the harness's failure and never
///   counts; a `cancelled` attempt says nothing about the test.
/// - `test_outcomes` = `total_runs − sandbox_errors − cancelled`: the attempts that produced a
///   test outcome (passed or a failure). It is the denominator of `repro_rate` and
///   `failure_rate`, and durations are taken over these attempts only.
/// - `repro_rate` = `failures / test_outcomes` (0 when there is none).
/// - `cancelled` attempts appear in `results`, `total_runs` and `status_counts`, nowhere else.
public struct JobSummary: Sendable, Equatable, Codable {
    /// Every attempt started (one `results` entry each).
    public var totalRuns: Int
    public var parallelism: Int
    /// Attempts that failed for a test reason (see the type's documentation).
    public var failures: Int
    /// `failures / testOutcomes`, 0 when no attempt produced a test outcome.
    public var reproRate: Double
    /// One per attempt, by attempt index.
    public var results: [Attempt]

    /// What the job asked for (`runs`), for comparison with `totalRuns`.
    public var runsRequested: Int
    /// Attempts that passed or failed for a test reason: `totalRuns − sandboxErrors − cancelled`.
    public var testOutcomes: Int
    public var complete: Bool
    public var incompleteReason: String?
    /// Every `AttemptStatus` raw value, with 0 for the ones not seen.
    public var statusCounts: [String: Int]
    public var sandboxErrors: Int
    public var failureRate: FailureRate
    public var verdict: Verdict
    /// One or two sentences saying what to do next.
    public var advice: String
    /// Over attempts with a test outcome; nil when there is none.
    public var durations: Durations?
    /// The most common first (capped; `failureSignaturesTotal` counts them all).
    public var failureSignatures: [FailureSignature]
    public var failureSignaturesTotal: Int
    /// Tests that failed at least once (from JUnit), most failures first (capped).
    public var tests: [TestEntry]
    /// Distinct tests seen in any JUnit report.
    public var testsTotal: Int
    /// Distinct tests that failed at least once.
    public var testsFailedTotal: Int
    /// Seeds of the failing attempts, ascending, each once (the first 100 at most).
    public var failingSeeds: [UInt64]
    /// The command that replays the first failing seed; nil without failures.
    public var replay: String?
    public var isolation: Isolation
    public var timings: Timings
    public var setup: Setup?
    public var commit: String?
    /// A local job's uncommitted changes that were tested (`commit` is then the snapshot's).
    public var workingTree: WorkingTreeSnapshot? = nil
    public var flakeboxVersion: String
    public var truncation: Truncation
    /// What the seed reached: plugin active, generators reseeded, order shuffled.
    public var seedReach: SeedReach? = nil
    /// The classification phase: its runs and bounds (absent when it did not run).
    public var classification: Classification?
    /// Failing attempts that `failure_pattern`/`ignore_pattern` discounted (counted as passed;
    /// each has `filtered` in `results`); written only when the job has a pattern.
    public var filteredFailures: Int? = nil
    /// A flaky job's first failing seed replayed: does the seed control the failure? Null when not
    /// checked (not flaky, cancelled, past the deadline, or the replay hit a harness failure).
    public var seedControl: SeedControl? = nil
    /// Interference mode: do the failures come from runs sharing a checkout? Absent when off.
    public var interference: Interference? = nil
    /// Stress mode: the noise every run had beside it. Absent when off.
    public var stress: Stress? = nil
    /// Present when the machine's memory lowered the job's parallelism.
    public var memoryBudget: MemoryBudget? = nil
    /// What `SummaryMerger` needs, never cut (absent only in summaries older than merging).
    public var shard: Shard? = nil

    public struct Classification: Sendable, Equatable, Codable {
        /// Sandboxed runs the phase made, beyond `total_runs`.
        public var runs: Int
        /// Tests it classified (each `tests` entry with a `kind`).
        public var testsClassified: Int
        /// Failing tests its bounds left out.
        public var testsSkipped: Int
        /// What it ran and its bounds, in words.
        public var note: String
        /// Wall-clock time of the phase, after the attempts (`timings.runs_s` does not include it).
        public var seconds: Double

        enum CodingKeys: String, CodingKey {
            case runs
            case testsClassified = "tests_classified"
            case testsSkipped = "tests_skipped"
            case note
            case seconds = "duration_s"
        }
    }

    /// Durations in seconds (nearest-rank percentiles, see `SummaryStatistics.percentile`).
    public struct Durations: Sendable, Equatable, Codable {
        public var p50: Double
        public var p95: Double
        public var max: Double
        public var mean: Double
    }

    public struct Isolation: Sendable, Equatable, Codable {
        public var tier: IsolationTier
        public var layers: [IsolationReport.Layer]
        /// Names of the layers that are not available.
        public var missing: [String]
        public var kernel: String
        public var rootless: Bool
        /// Below the full tier: what the attempts did not get, in words (absent at the full tier).
        public var warning: String?
    }

    public struct Timings: Sendable, Equatable, Codable {
        public var cloneSeconds: Double
        public var setupSeconds: Double
        public var runsSeconds: Double
        public var totalSeconds: Double
        /// The checkout and its setup were taken from the cache of prepared checkouts (clone and
        /// setup times are then the lookup's).
        public var checkoutCached: Bool

        enum CodingKeys: String, CodingKey {
            case checkoutCached = "checkout_cached"
            case cloneSeconds = "clone_s"
            case setupSeconds = "setup_s"
            case runsSeconds = "runs_s"
            case totalSeconds = "total_s"
        }
    }

    public struct Setup: Sendable, Equatable, Codable {
        public var command: String
        public var durationSeconds: Double
        public var logTail: String
        /// Where setup's writes were bounded (`4 GiB, 262144 inodes`), or why they were not.
        public var writeLimit: String? = nil

        enum CodingKeys: String, CodingKey {
            case command
            case durationSeconds = "duration_s"
            case logTail = "log_tail"
            case writeLimit = "write_limit"
        }
    }

    enum CodingKeys: String, CodingKey {
        case totalRuns = "total_runs"
        case parallelism
        case failures
        case reproRate = "repro_rate"
        case results
        case runsRequested = "runs_requested"
        case testOutcomes = "test_outcomes"
        case complete
        case incompleteReason = "incomplete_reason"
        case statusCounts = "status_counts"
        case sandboxErrors = "sandbox_errors"
        case failureRate = "failure_rate"
        case verdict
        case advice
        case durations = "durations_s"
        case failureSignatures = "failure_signatures"
        case failureSignaturesTotal = "failure_signatures_total"
        case tests
        case testsTotal = "tests_total"
        case testsFailedTotal = "tests_failed_total"
        case failingSeeds = "failing_seeds"
        case replay
        case isolation
        case timings
        case setup
        case commit
        case workingTree = "working_tree"
        case flakeboxVersion = "flakebox_version"
        case truncation
        case seedReach = "seed_reach"
        case classification
        case filteredFailures = "filtered_failures"
        case seedControl = "seed_control"
        case interference
        case stress
        case memoryBudget = "memory_budget"
        case shard
    }

    /// Every key is written; absent values as `null`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(totalRuns, forKey: .totalRuns)
        try container.encode(parallelism, forKey: .parallelism)
        try container.encode(failures, forKey: .failures)
        try container.encode(reproRate, forKey: .reproRate)
        try container.encode(results, forKey: .results)
        try container.encode(runsRequested, forKey: .runsRequested)
        try container.encode(testOutcomes, forKey: .testOutcomes)
        try container.encode(complete, forKey: .complete)
        try container.encode(incompleteReason, forKey: .incompleteReason)
        try container.encode(statusCounts, forKey: .statusCounts)
        try container.encode(sandboxErrors, forKey: .sandboxErrors)
        try container.encode(failureRate, forKey: .failureRate)
        try container.encode(verdict, forKey: .verdict)
        try container.encode(advice, forKey: .advice)
        try container.encode(durations, forKey: .durations)
        try container.encode(failureSignatures, forKey: .failureSignatures)
        try container.encode(failureSignaturesTotal, forKey: .failureSignaturesTotal)
        try container.encode(tests, forKey: .tests)
        try container.encode(testsTotal, forKey: .testsTotal)
        try container.encode(testsFailedTotal, forKey: .testsFailedTotal)
        try container.encode(failingSeeds, forKey: .failingSeeds)
        try container.encode(replay, forKey: .replay)
        try container.encode(isolation, forKey: .isolation)
        try container.encode(timings, forKey: .timings)
        try container.encode(setup, forKey: .setup)
        try container.encode(commit, forKey: .commit)
        try container.encode(workingTree, forKey: .workingTree)
        try container.encode(flakeboxVersion, forKey: .flakeboxVersion)
        try container.encode(truncation, forKey: .truncation)
        try container.encodeIfPresent(seedReach, forKey: .seedReach)
        try container.encodeIfPresent(classification, forKey: .classification)
        try container.encodeIfPresent(filteredFailures, forKey: .filteredFailures)
        try container.encode(seedControl, forKey: .seedControl)
        try container.encodeIfPresent(interference, forKey: .interference)
        try container.encodeIfPresent(stress, forKey: .stress)
        try container.encodeIfPresent(memoryBudget, forKey: .memoryBudget)
        try container.encodeIfPresent(shard, forKey: .shard)
    }

    /// The summary as JSON: UTF-8, keys sorted, `/` unescaped, no whitespace; the same summary
    /// always gives the same bytes. Its size is `truncation.jsonBytes`.
    public func encodedJSON() -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(self)
        } catch {
            // Only non-finite numbers fail to encode, and the summarizer rounds every one.
            preconditionFailure("a job summary failed to encode: \(error)")
        }
    }
}
