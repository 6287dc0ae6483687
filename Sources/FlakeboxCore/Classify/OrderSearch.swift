/// The search for the one test that, run before a target test, changes its outcome: the polluter
/// of a victim, or the state-setter of a brittle test.
///
/// As iDFlakies and iPFlakies do (delta debugging by halves): the tests that ran before the target
/// are split in two, each half is run (order kept) before the target, and the half that still
/// gives the outcome is kept, until one test is left. Every step costs at most two runs, so a
/// prefix of n tests needs at most 2·⌈log₂ n⌉ runs; `maximumRuns` bounds it.
struct OrderSearch: Sendable {
    enum Result: Sendable, Equatable {
        /// The one test; `runs` were made.
        case found(String, runs: Int)
        /// Neither half alone gives the outcome: it needs tests from both (`candidates` still do).
        case needsSeveral(candidates: [String], runs: Int)
        /// `maximumRuns` were made; the test is among `candidates`.
        case bound(candidates: [String], runs: Int)
        /// A run said nothing (the target did not run, or not after exactly the tests named).
        case inconclusive(reason: String, candidates: [String], runs: Int)
    }

    /// What one run says: the target had the outcome searched for, the other one, or nothing
    /// (with the reason).
    enum Probe: Sendable, Equatable {
        case reproduced
        case notReproduced
        case inconclusive(String)
    }

    var maximumRuns: Int

    /// - Parameters:
    ///   - prefix: the tests that ran before the target, in their order, known to give the outcome.
    ///   - probe: runs the given tests (in order) and then the target.
    func search(prefix: [String], probe: ([String]) async -> Probe) async -> Result {
        var candidates = prefix
        var runs = 0
        while candidates.count > 1 {
            let half = candidates.count / 2
            var kept: [String]?
            for part in [Array(candidates[..<half]), Array(candidates[half...])] {
                guard runs < maximumRuns else { return .bound(candidates: candidates, runs: runs) }
                runs += 1
                switch await probe(part) {
                case .reproduced: kept = part
                case .notReproduced: break
                case .inconclusive(let reason):
                    return .inconclusive(reason: reason, candidates: candidates, runs: runs)
                }
                if kept != nil { break }
            }
            guard let kept else { return .needsSeveral(candidates: candidates, runs: runs) }
            candidates = kept
        }
        guard let only = candidates.first else {
            return .inconclusive(reason: "no test ran before it", candidates: [], runs: runs)
        }
        return .found(only, runs: runs)
    }
}
