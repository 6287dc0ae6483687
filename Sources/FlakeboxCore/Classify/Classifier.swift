/// The classification phase: after the attempts, each failing test is run again in fresh
/// sandboxes, alone and in a failing attempt's order, and classified as iDFlakies does.
///
/// Per test, in order (each step only when the previous ones call for it):
/// 1. alone with the failing attempt's seed (1 run): the control that tells the seed from the order;
/// 2. alone with `rerun` fresh seeds (`rerun` runs, in parallel): the rate alone, with its interval;
/// 3. passing alone every time: in the failing attempt's order and seed (1 run); if it fails
///    again it is an **OD-victim**, and the tests before it are bisected for the polluter;
/// 4. failing alone every time but passing in some attempt: alone with that attempt's seed, then
///    in its order (2 runs); passing there makes it **OD-brittle**, and the tests before it are
///    bisected for the state-setter;
/// 5. failing alone in some runs and passing in others, or failing alone with the seed of an attempt
///    it passed in: **NOD**.
///
/// Bounds: at most `flakyLimit` flaky and `alwaysFailingLimit` always-failing tests; per test at most
/// `3 + rerun + searchRuns` runs. Tests are classified concurrently, at most `parallelism` runs at
/// once in all (`RunSlots`). The job's deadline and cancellation stop the phase.
struct Classifier: Sendable {
    struct Observation: Sendable, Equatable {
        enum Outcome: Sendable, Equatable {
            case passed
            case failed
            /// The run said nothing about the test (it did not run, or not after the tests named).
            case inconclusive(String)
        }

        var outcome: Outcome
        /// The pytest node ids the run selected, in order (from the plugin's report).
        var nodeIDs: [String]?
    }

    /// Runs `order` (the target last) with `seed` as attempt `attempt`.
    typealias Runner = @Sendable (_ order: [String], _ seed: UInt64, _ attempt: Int) async -> Observation
    /// A command that runs these node ids with this seed.
    typealias ReplayBuilder = @Sendable (_ nodeIDs: [String], _ seed: UInt64, _ attempt: Int) -> String

    static let flakyLimit = 5
    static let alwaysFailingLimit = 2
    static let searchRuns = 16
    /// Longer orders are not put in a replay command.
    static let replayTestLimit = 50

    var rerun: Int
    var parallelism: Int
    /// `rerun` seeds no attempt had, and the attempt numbers to show with them.
    var freshSeeds: [(seed: UInt64, attempt: Int)]
    var run: Runner
    var replay: ReplayBuilder

    /// Counts the runs of one test's classification (used within one task only).
    private final class Tally {
        var runs = 0
    }

    func classify(_ target: ClassificationTarget) async -> TestClassification {
        let tally = Tally()
        let id = target.id
        let failing = target.failing
        let run = self.run
        func once(_ before: [String], _ seed: UInt64, _ attempt: Int) async -> Observation {
            tally.runs += 1
            return await run(before + [id], seed, attempt)
        }
        func replayCommand(_ observation: Observation, seed: UInt64, attempt: Int) -> String? {
            guard let ids = observation.nodeIDs, !ids.isEmpty, ids.count <= Self.replayTestLimit else { return nil }
            return replay(ids, seed, attempt)
        }

        // 1. Alone with the failing seed.
        let control = await once([], failing.seed, failing.attempt)
        if case .inconclusive(let why) = control.outcome {
            var result = TestClassification(
                kind: .unknown, reason: "run alone, it said nothing: \(why)", runs: tally.runs)
            // No report from the plugin: pytest never loaded it, and it will not for the next test either.
            result.selectionUnavailable = control.nodeIDs == nil
            return result
        }
        // 2. Alone with fresh seeds.
        let fresh = await batch(freshSeeds.map { ([id], $0.seed, $0.attempt) })
        tally.runs += fresh.count
        let decided = zip(freshSeeds, fresh).filter {
            if case .inconclusive = $0.1.outcome { return false } else { return true }
        }
        let aloneFailures = decided.filter { $0.1.outcome == .failed }.count
        var base = TestClassification(
            kind: .unknown, reason: "", aloneRuns: decided.count, aloneFailures: aloneFailures)
        if control.outcome == .failed {
            base.replay = replayCommand(control, seed: failing.seed, attempt: failing.attempt)
        } else if let first = decided.first(where: { $0.1.outcome == .failed }) {
            base.replay = replayCommand(first.1, seed: first.0.seed, attempt: first.0.attempt)
        }
        let alone =
            "alone it failed \(aloneFailures) of \(SummaryFormat.count(decided.count, "run")) with fresh seeds and "
            + (control.outcome == .failed ? "failed" : "passed") + " with seed \(failing.seed)"

        if control.outcome == .passed && aloneFailures == 0 {
            var result = await victim(target, base: base, alone: alone, once: once, replayCommand: replayCommand)
            result.runs = tally.runs
            return result
        }
        if control.outcome == .failed && aloneFailures == decided.count {
            guard let passing = target.passing else {
                base.reason = "it never passed: \(alone); a consistent failure, not order-dependent"
                base.runs = tally.runs
                return base
            }
            var result = await brittle(
                target, passing: passing, base: base, alone: alone, once: once, replayCommand: replayCommand)
            result.runs = tally.runs
            return result
        }
        base.kind = .nod
        base.reason = "\(alone): it fails without any other test before it"
        base.runs = tally.runs
        return base
    }

    private func victim(
        _ target: ClassificationTarget, base: TestClassification, alone: String,
        once: ([String], UInt64, Int) async -> Observation,
        replayCommand: (Observation, UInt64, Int) -> String?
    ) async -> TestClassification {
        var result = base
        let failing = target.failing
        guard !failing.before.isEmpty else {
            result.reason = "\(alone), and it ran first in attempt \(failing.attempt): no order to blame"
            return result
        }
        let ordered = await once(failing.before, failing.seed, failing.attempt)
        switch ordered.outcome {
        case .inconclusive(let why):
            result.reason = "\(alone); in attempt \(failing.attempt)'s order it said nothing: \(why)"
        case .passed:
            result.reason =
                "\(alone), and passed again in attempt \(failing.attempt)'s order with its seed: the failure did not come back"
        case .failed:
            result.kind = .victim
            result.replay = replayCommand(ordered, failing.seed, failing.attempt)
            var lastReproduced = ordered
            let search = await OrderSearch(maximumRuns: Self.searchRuns).search(prefix: failing.before) { part in
                let observation = await once(part, failing.seed, failing.attempt)
                switch observation.outcome {
                case .failed:
                    lastReproduced = observation
                    return .reproduced
                case .passed: return .notReproduced
                case .inconclusive(let why): return .inconclusive(why)
                }
            }
            let prefix =
                "\(alone), and failed again after the \(SummaryFormat.count(failing.before.count, "test")) "
                + "that ran before it in attempt \(failing.attempt)"
            switch search {
            case .found(let polluter, _):
                result.polluter = polluter
                result.replay = replayCommand(lastReproduced, failing.seed, failing.attempt) ?? result.replay
                result.reason = "\(prefix); bisecting them left `\(polluter)`, after which it fails"
            default:
                result.reason = "\(prefix); " + Self.describe(search, role: "polluter")
            }
        }
        return result
    }

    private func brittle(
        _ target: ClassificationTarget, passing: ClassificationTarget.Example, base: TestClassification,
        alone: String, once: ([String], UInt64, Int) async -> Observation,
        replayCommand: (Observation, UInt64, Int) -> String?
    ) async -> TestClassification {
        var result = base
        let seedAlone = await once([], passing.seed, passing.attempt)
        switch seedAlone.outcome {
        case .passed:
            result.kind = .nod
            result.reason =
                "\(alone), but passed alone with seed \(passing.seed) (attempt \(passing.attempt)): the seed decides, not the order"
            return result
        case .inconclusive(let why):
            result.reason = "\(alone); alone with seed \(passing.seed) it said nothing: \(why)"
            return result
        case .failed:
            break
        }
        guard !passing.before.isEmpty else {
            result.kind = .nod
            result.reason =
                "\(alone), yet it passed running first in attempt \(passing.attempt): it fails by itself, not by order"
            return result
        }
        let ordered = await once(passing.before, passing.seed, passing.attempt)
        switch ordered.outcome {
        case .inconclusive(let why):
            result.reason = "\(alone); in attempt \(passing.attempt)'s order it said nothing: \(why)"
        case .failed:
            result.kind = .nod
            result.reason =
                "\(alone), and also in attempt \(passing.attempt)'s order, where it had passed: no order makes it pass again"
        case .passed:
            result.kind = .brittle
            let search = await OrderSearch(maximumRuns: Self.searchRuns).search(prefix: passing.before) { part in
                switch await once(part, passing.seed, passing.attempt).outcome {
                case .passed: return .reproduced
                case .failed: return .notReproduced
                case .inconclusive(let why): return .inconclusive(why)
                }
            }
            let prefix =
                "\(alone), and passed after the \(SummaryFormat.count(passing.before.count, "test")) "
                + "that ran before it in attempt \(passing.attempt)"
            if case .found(let setter, _) = search {
                result.stateSetter = setter
                result.reason = "\(prefix); bisecting them left `\(setter)`, after which it passes"
            } else {
                result.reason = "\(prefix); " + Self.describe(search, role: "state-setter")
            }
        }
        return result
    }

    static func describe(_ search: OrderSearch.Result, role: String) -> String {
        func some(_ candidates: [String]) -> String {
            let shown = candidates.prefix(3).map { "`\($0)`" }.joined(separator: ", ")
            return candidates.count > 3 ? "\(shown) and \(candidates.count - 3) more" : shown
        }
        switch search {
        case .found(let test, _):
            return "the \(role) is `\(test)`"
        case .needsSeveral(let candidates, _):
            return "no single half of the \(candidates.count) remaining tests is enough: the \(role) needs several of "
                + some(candidates)
        case .bound(let candidates, let runs):
            return "the search stopped at its bound of \(runs) runs; the \(role) is among " + some(candidates)
        case .inconclusive(let reason, let candidates, _):
            return "the search stopped (\(reason)) with \(candidates.count) candidates: " + some(candidates)
        }
    }

    /// Runs `specs` at most `parallelism` at a time; results in the order of `specs`.
    private func batch(_ specs: [([String], UInt64, Int)]) async -> [Observation] {
        let run = self.run
        return await withTaskGroup(of: (Int, Observation).self) { group in
            var results = [Observation?](repeating: nil, count: specs.count)
            var next = 0
            func launch() {
                let index = next
                let spec = specs[index]
                next += 1
                group.addTask { (index, await run(spec.0, spec.1, spec.2)) }
            }
            while next < specs.count && next < max(parallelism, 1) { launch() }
            for await (index, observation) in group {
                results[index] = observation
                if next < specs.count { launch() }
            }
            return results.map { $0 ?? Observation(outcome: .inconclusive("not run")) }
        }
    }
}
