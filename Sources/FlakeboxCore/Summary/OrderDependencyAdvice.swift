/// The advice's opening when the classification phase found order-dependence: the user reads
/// which test leaves the state and which one depends on it, not a plain "flaky".
enum OrderDependencyAdvice {
    /// nil when no classified test is order-dependent.
    static func sentence(for report: ClassificationReport) -> String? {
        var sentences: [String] = []
        // Victims first: a polluter is the most useful thing the phase can name.
        let ordered = report.tests.sorted {
            ($0.value.kind == .victim ? 0 : 1, $0.key) < ($1.value.kind == .victim ? 0 : 1, $1.key)
        }
        for (name, test) in ordered {
            let replay = test.replay.map { " Replay it with `\($0)`." } ?? ""
            switch test.kind {
            case .victim:
                if let polluter = test.polluter {
                    sentences.append(
                        "Order-dependent: `\(polluter)` leaves state that `\(name)` depends on "
                            + "(it passes alone, fails after `\(polluter)`).\(replay)")
                } else {
                    sentences.append(
                        "Order-dependent: `\(name)` passes alone and fails after other tests; "
                            + "the polluter was not pinned down (\(test.reason)).\(replay)")
                }
            case .brittle:
                let setter =
                    test.stateSetter.map { "unless `\($0)` runs before it" } ?? "unless some other test runs first"
                sentences.append("Order-dependent (brittle): `\(name)` fails \(setter).\(replay)")
            case .nod, .unknown:
                continue
            }
        }
        return sentences.isEmpty ? nil : sentences.joined(separator: " ")
    }
}
