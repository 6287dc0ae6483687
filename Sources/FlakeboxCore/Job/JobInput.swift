import FlakeboxSandbox
import Foundation

/// One flaky-test job, as the CLI, the RunPod worker and the service all receive it.
public struct JobInput: Sendable, Equatable {
    /// Where the input came from: local paths and `file://` are accepted from the CLI only.
    public enum Origin: Sendable, Equatable {
        case commandLine
        case remote
    }

    public var repo: String
    /// Run with `/bin/sh -c` in the checkout.
    public var testCommand: String
    public var runs: Int
    public var parallelism: Int
    public var ref: String?
    public var setupCommand: String?
    /// Per attempt; nil: the policy's.
    public var timeoutSeconds: Double?
    /// For the whole job: no attempt starts after it; the summary says `complete: false`.
    public var deadlineSeconds: Double?
    public var environment: [String: String]
    /// The first attempt's seed; attempt i gets `seedStart + i`, so shards of a job are disjoint.
    public var seedStart: UInt64
    public var stopAfterFailures: Int?
    public var policy: String?
    /// Bytes kept per stream per attempt (before the summary budget shrinks them).
    public var outputLimitBytes: Int?
    /// A path or glob (`*`, `?`, `[...]` in the last component) inside the checkout.
    public var junitXML: String?
    /// The whole summary's JSON size limit.
    public var summaryBudgetBytes: Int
    /// Fetch submodules (off by default).
    public var submodules: Bool
    /// Reseed the test runner's random number generators from the seed before every test (pytest:
    /// flakebox's plugin). On by default.
    public var reseed: Bool = true
    /// Run the tests in an order permuted by the seed (modules, classes, functions).
    public var shuffle: Bool = false
    /// pip requirement specifiers installed into the job's virtualenv on top of
    /// `requirements.txt` (`numpy==2.4.6`).
    public var packages: [String] = []
    /// Memory limit of an attempt, within the policy's `maxMemory`; nil: the policy's.
    public var memoryBytes: UInt64?
    /// Runs of each flaky test alone in the classification phase (`rerun`); 0 turns the phase
    /// off. See `Classifier` for what the phase runs and its bounds.
    public var rerun: Int
    /// A failing attempt counts as a failure only when its output matches (go `stress -failure`);
    /// nil: every failure counts.
    public var failurePattern: OutputPattern? = nil
    /// A failing attempt whose output matches does not count as a failure (go `stress -ignore`).
    public var ignorePattern: OutputPattern? = nil
    /// After the isolated runs, the same runs (same seeds) again several at once in one shared
    /// sandbox and checkout, as a one-checkout worker ran them: what fails only there collides
    /// when run in parallel (see `InterferenceAnalysis`).
    public var interference: Bool = false
    /// Stress mode: CPU and I/O noise beside the test in every attempt, inside its sandbox and
    /// cgroup limits; nil: none.
    public var stress: BackgroundNoise? = nil

    public init(
        repo: String, testCommand: String, runs: Int = 10, parallelism: Int = 1, ref: String? = nil,
        setupCommand: String? = nil, timeoutSeconds: Double? = nil, deadlineSeconds: Double? = nil,
        environment: [String: String] = [:], seedStart: UInt64 = 0, stopAfterFailures: Int? = nil,
        policy: String? = nil, outputLimitBytes: Int? = nil, junitXML: String? = nil,
        summaryBudgetBytes: Int = 4 << 20, submodules: Bool = false, rerun: Int = JobInput.defaultRerun
    ) {
        self.repo = repo
        self.testCommand = testCommand
        self.runs = runs
        self.parallelism = parallelism
        self.ref = ref
        self.setupCommand = setupCommand
        self.timeoutSeconds = timeoutSeconds
        self.deadlineSeconds = deadlineSeconds
        self.environment = environment
        self.seedStart = seedStart
        self.stopAfterFailures = stopAfterFailures
        self.policy = policy
        self.outputLimitBytes = outputLimitBytes
        self.junitXML = junitXML
        self.summaryBudgetBytes = summaryBudgetBytes
        self.submodules = submodules
        self.rerun = rerun
    }

    /// Small: each classified test costs `rerun` runs alone plus a bounded search (see `Classifier`).
    public static let defaultRerun = 3
}
