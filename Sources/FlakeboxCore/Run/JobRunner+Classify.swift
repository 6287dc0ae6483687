import FlakeboxSandbox
import Foundation
import Synchronization

extension JobRunner {
    /// The classification phase (see `Classifier`): nil when `rerun` is 0 or no test failed.
    func classify(
        _ input: JobInput, prepared: Prepared, records: [AttemptRecord], deadline: ContinuousClock.Instant?
    ) async -> ClassificationReport? {
        guard input.rerun > 0, !Task.isCancelled else { return nil }
        let (targets, skipped) = ClassificationTarget.targets(
            in: records, flakyLimit: Classifier.flakyLimit, alwaysFailingLimit: Classifier.alwaysFailingLimit)
        guard !targets.isEmpty else { return nil }
        var note =
            "Each failing test (at most \(Classifier.flakyLimit) flaky and \(Classifier.alwaysFailingLimit) always-failing) "
            + "ran alone with its failing seed and \(SummaryFormat.count(input.rerun, "fresh seed")), then in a failing "
            + "or passing attempt's order when that could decide, with at most \(Classifier.searchRuns) runs to bisect "
            + "for a polluter or state-setter."
        if skipped > 0 { note += " \(SummaryFormat.count(skipped, "failing test")) left out by these bounds." }
        do {
            try OrderPlugin.install(in: prepared.checkout)
        } catch {
            return ClassificationReport(
                tests: [:], runs: 0, skippedTests: skipped + targets.count,
                note: note + " Not run: cannot write the selection plugin: \(error.localizedDescription)")
        }

        let workspace = prepared.sandbox.policy.filesystem.workspace
        let patterns = AttemptEnvironment.junitPatterns(for: input, workspace: workspace)
        let reportPath = OrderPlugin.reportPath(workspace: workspace)
        let sandbox = prepared.sandbox
        let venv = prepared.venv
        let checkout = prepared.checkout
        let counter = RunCounter()
        let slots = RunSlots(input.parallelism)
        let progress = options.progress
        let started = ContinuousClock.now
        let total = input.runs
        let run: Classifier.Runner = { order, seed, attempt in
            if Task.isCancelled { return .init(outcome: .inconclusive("the job was cancelled")) }
            if let deadline, ContinuousClock.now >= deadline {
                return .init(outcome: .inconclusive("deadline_s (\(input.deadlineSeconds ?? 0) s) reached"))
            }
            let base = AttemptEnvironment.variables(
                for: input, attempt: attempt, seed: seed, workspace: workspace, pytestRandomly: false, venv: venv)
            guard let environment = OrderPlugin.environment(base, order: order, workspace: workspace) else {
                return .init(outcome: .inconclusive("the order is too long to pass to the test runner"))
            }
            let request = AttemptRequest(
                command: ["/bin/sh", "-c", input.testCommand], environment: environment, workspace: checkout,
                label: "classify", timeoutSeconds: input.timeoutSeconds, artifacts: patterns + [reportPath],
                noise: input.stress)
            await slots.acquire()
            let result = await sandbox.run(request)
            await slots.release()
            progress?(
                JobProgress(
                    phase: .classifying, total: total, completed: counter.next(), failures: 0, running: 0,
                    elapsedSeconds: (ContinuousClock.now - started).seconds))
            return ClassificationRun.observe(result, order: order, reportPath: reportPath)
        }
        let pytest = ClassificationRun.pytestPrefix(of: input.testCommand)
        let template = options.replayTemplate
        let commit = prepared.commit
        let replay: Classifier.ReplayBuilder = { nodeIDs, seed, attempt in
            let command = ([pytest, "-p", "no:randomly"] + nodeIDs.map(Self.shellQuote)).joined(separator: " ")
            var pinned = input
            pinned.testCommand = command
            let text =
                template == nil
                ? Self.replayTemplate(for: pinned, commit: commit)
                : SummaryInput.defaultReplayTemplate(testCommand: command)
            return text.replacingOccurrences(of: SummaryInput.seedPlaceholder, with: String(seed))
                .replacingOccurrences(of: SummaryInput.attemptPlaceholder, with: String(attempt))
        }
        let fresh = (0..<input.rerun).map { index in
            (seed: input.seedStart + UInt64(input.runs + index), attempt: options.firstAttempt + input.runs + index)
        }
        let classifier = Classifier(
            rerun: input.rerun, parallelism: input.parallelism, freshSeeds: fresh, run: run, replay: replay)
        var tests: [String: TestClassification] = [:]
        var skippedTests = skipped
        // The first test alone: if its first run shows the command cannot select tests, the
        // others are not tried. Then the rest at once, sharing the `parallelism` slots.
        let first = await classifier.classify(targets[0])
        tests[targets[0].id] = first
        if first.selectionUnavailable && targets.count > 1 {
            skippedTests += targets.count - 1
            note +=
                " Stopped after `\(targets[0].id)`: the test command did not load flakebox's pytest selection plugin,"
                + " so no test can be run alone or in a given order (is it pytest?)."
        } else {
            await withTaskGroup(of: (String, TestClassification).self) { group in
                for target in targets.dropFirst() {
                    group.addTask { (target.id, await classifier.classify(target)) }
                }
                for await (id, result) in group { tests[id] = result }
            }
        }
        let runs = tests.values.reduce(0) { $0 + $1.runs }
        return ClassificationReport(
            tests: tests, runs: runs, skippedTests: skippedTests, note: note,
            seconds: (ContinuousClock.now - started).seconds)
    }

    /// Counts the phase's runs for progress reports (runs finish on several tasks at once).
    private final class RunCounter: Sendable {
        private let count = Atomic<Int>(0)

        func next() -> Int { count.wrappingAdd(1, ordering: .relaxed).newValue }
    }
}
