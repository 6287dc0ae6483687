import FlakeboxSandbox

/// The one or two sentences of `advice`: what the user should do next, given the verdict.
struct SummaryAdvice {
    var verdict: JobSummary.Verdict
    var failures: Int
    var testOutcomes: Int
    var sandboxErrors: Int
    var timeouts: Int
    var failureRate: JobSummary.FailureRate
    var firstFailingSeed: UInt64?
    var replay: String?
    /// The most common failure signature's count, and how many there are.
    var topSignatureCount: Int?
    var signatureCount: Int
    /// The test that failed most, from JUnit: (name, failures, runs).
    var topTest: (name: String, failures: Int, runs: Int)?
    /// The most common harness failure, e.g. "execve: No such file or directory (errno 2)".
    var commonSandboxError: String?
    var complete: Bool
    var incompleteReason: String?
    var seedReach: JobSummary.SeedReach? = nil
    var ooms = 0
    var memoryLimit: UInt64? = nil
    /// What the classification phase found about order, as the advice's opening sentence.
    var orderDependency: String?
    /// The first failing seed replayed: its sentence replaces the replay sentence.
    var seedControl: JobSummary.SeedControl? = nil

    var text: String {
        switch verdict {
        case .flaky: flaky
        case .alwaysFails: alwaysFails
        case .noFailureSeen: noFailureSeen
        case .harnessError: harnessError
        }
    }

    private var replaySentence: String {
        guard let replay, let seed = firstFailingSeed else { return "" }
        return "Replay seed \(seed) with `\(replay)`" + (detail.map { "; " + $0 } ?? "") + "."
    }

    /// Which test failed most, or how many ways the runs failed.
    private var detail: String? {
        if let topTest {
            return "`\(topTest.name)` failed in \(topTest.failures) of \(SummaryFormat.count(topTest.runs, "run"))"
        }
        if signatureCount > 1, let top = topSignatureCount {
            return "the runs failed \(signatureCount) different ways, the most common \(top) times"
        }
        return nil
    }

    private var flaky: String {
        if let orderDependency {
            return orderDependency + " Over the whole job: \(failureRate.sentence)." + oomSentence
        }
        // The seed-control sentence names the replay line itself: said once.
        let replayText =
            seedControl.map { control in
                control.sentence + (detail.map { " " + $0.prefix(1).uppercased() + $0.dropFirst() + "." } ?? "")
            } ?? replaySentence
        return "Flaky: \(failureRate.sentence)." + (replayText.isEmpty ? "" : " " + replayText) + oomSentence
    }

    /// Which limit an `oom` hit, and what to do about it.
    private var oomSentence: String {
        guard ooms > 0 else { return "" }
        let limit = memoryLimit.map { " at the memory limit of \(SummaryFormat.bytes($0))" } ?? ""
        return " \(SummaryFormat.count(ooms, "run")) ran out of memory\(limit): if the test needs more, "
            + "raise \"memory\" (up to the policy's limits.maxMemory)."
    }

    private var alwaysFails: String {
        if ooms == failures, let memoryLimit {
            return
                "Every one of the \(SummaryFormat.count(testOutcomes, "run")) was killed by the out-of-memory killer "
                + "at the memory limit of \(SummaryFormat.bytes(memoryLimit)): this says the test needs more memory, "
                + "not that it fails; raise \"memory\" (up to the policy's limits.maxMemory) and run it again."
        }
        let how =
            timeouts == failures
            ? "Every one of the \(SummaryFormat.count(testOutcomes, "run")) timed out: look for a hang or raise timeout_s."
            : "Every one of the \(SummaryFormat.count(testOutcomes, "run")) failed: this is a consistent failure, not a flake."
        // A test that fails in every run but passes alone is order-dependent, not broken.
        if let orderDependency { return orderDependency + " " + how }
        guard let replay else { return how }
        return how + " Reproduce it with `\(replay)` and fix it first."
    }

    private var noFailureSeen: String {
        let first = "No failure in \(SummaryFormat.count(testOutcomes, "run")): the failure rate is below "
        let bound = SummaryStatistics.ruleOfThreeUpperBound(trials: testOutcomes)
        let opening = first + "\(SummaryFormat.percent(bound)) at 95% confidence."
        if !complete {
            let reason = incompleteReason.map { " (\($0))" } ?? ""
            return opening + " The job stopped early\(reason); run the remaining attempts to tighten the bound."
        }
        let more = testOutcomes * 10
        let reach = seedReach?.adviceSentence.map { " " + $0 } ?? ""
        return opening + reach
            + " To push the bound below \(SummaryFormat.percent(3 / Double(more))), run \(more) attempts."
    }

    private var harnessError: String {
        if sandboxErrors == 0 {
            let reason = incompleteReason.map { " (\($0))" } ?? ""
            return "No attempt produced a test outcome\(reason). Run the job again and let its attempts finish."
        }
        let ran = sandboxErrors + testOutcomes
        let common = commonSandboxError.map { ", most often at \($0)" } ?? ""
        return
            "The harness failed in \(sandboxErrors) of \(SummaryFormat.count(ran, "attempt"))\(common). "
            + "Fix the harness before trusting any result: check that the test command's interpreter and "
            + "files exist in the checkout after setup, and run `flakebox doctor`."
    }
}
