import Testing

@testable import FlakeboxCore

@Suite("Order search (bisecting for a polluter)")
struct OrderSearchTests {
    /// A probe that reproduces when every test of `needed` is in the part run before the target.
    static func probe(needs needed: Set<String>) -> ([String]) async -> OrderSearch.Probe {
        { part in needed.isSubset(of: Set(part)) ? .reproduced : .notReproduced }
    }

    static let prefix = (1...13).map { "t\($0)" }

    @Test("the polluter is found wherever it is in the prefix, within 2·⌈log₂ n⌉ runs", arguments: prefix)
    func findsEveryPosition(polluter: String) async {
        let result = await OrderSearch(maximumRuns: 16).search(
            prefix: Self.prefix, probe: Self.probe(needs: [polluter]))
        guard case .found(let found, let runs) = result else {
            Issue.record("expected the polluter, got \(result)")
            return
        }
        #expect(found == polluter)
        #expect(runs <= 8)
    }

    @Test("a pair that must both run is reported as needing several, not as one of them")
    func needsSeveral() async {
        let result = await OrderSearch(maximumRuns: 16).search(
            prefix: Self.prefix, probe: Self.probe(needs: ["t2", "t12"]))
        guard case .needsSeveral(let candidates, _) = result else {
            Issue.record("expected needsSeveral, got \(result)")
            return
        }
        #expect(candidates.contains("t2") && candidates.contains("t12"))
    }

    @Test("the bound stops the search and names the remaining candidates")
    func bound() async {
        let result = await OrderSearch(maximumRuns: 2).search(prefix: Self.prefix, probe: Self.probe(needs: ["t13"]))
        #expect(result == .bound(candidates: Array(Self.prefix[6...]), runs: 2))
    }

    @Test("a run that says nothing stops the search with its reason")
    func inconclusive() async {
        let result = await OrderSearch(maximumRuns: 16).search(prefix: Self.prefix) { _ in .inconclusive("timeout") }
        #expect(result == .inconclusive(reason: "timeout", candidates: Self.prefix, runs: 1))
    }

    @Test("the pytest invocation is taken from the test command")
    func pytestPrefix() {
        #expect(ClassificationRun.pytestPrefix(of: "python3 -m pytest -q tests") == "python3 -m pytest")
        #expect(ClassificationRun.pytestPrefix(of: "cd sub && .venv/bin/pytest -x") == "cd sub && .venv/bin/pytest")
        #expect(ClassificationRun.pytestPrefix(of: "make test") == "python3 -m pytest")
    }
}
