import Testing

@testable import FlakeboxCore

/// The classifier's decisions against simulated suites (no sandbox): each runner decides the
/// target's outcome from the tests run before it and the seed, as a real suite would.
@Suite("Classifier decisions")
struct ClassifierTests {
    static let before = ["p1", "p2", "p3", "p4", "p5", "p6"]

    static func classifier(rerun: Int = 4, _ fails: @escaping @Sendable ([String], UInt64) -> Bool) -> Classifier {
        Classifier(
            rerun: rerun, parallelism: 2, freshSeeds: (0..<rerun).map { (seed: UInt64(100 + $0), attempt: 10 + $0) },
            run: { order, seed, _ in
                .init(outcome: fails(Array(order.dropLast()), seed) ? .failed : .passed, nodeIDs: order)
            },
            replay: { ids, seed, _ in "seed=\(seed) " + ids.joined(separator: " ") })
    }

    static func target(passing: Bool = true) -> ClassificationTarget {
        ClassificationTarget(
            id: "t", failing: .init(before: before, seed: 7, attempt: 1),
            passing: passing ? .init(before: ["p4", "p2"], seed: 8, attempt: 2) : nil, failures: 1)
    }

    @Test("a victim: passes alone, fails after p3; p3 is named and the replay runs p3 then the test")
    func victim() async {
        let result = await Self.classifier { before, _ in before.contains("p3") }.classify(Self.target())
        #expect(result.kind == .victim)
        #expect(result.polluter == "p3")
        #expect(result.aloneRuns == 4 && result.aloneFailures == 0)
        #expect(result.replay == "seed=7 p3 t")
        #expect(result.runs <= 1 + 4 + 1 + 2 * 3)
    }

    @Test("a victim that always failed in the attempts (the polluter always ran first) is still a victim")
    func alwaysFailingVictim() async {
        let result = await Self.classifier { before, _ in before.contains("p6") }.classify(Self.target(passing: false))
        #expect(result.kind == .victim && result.polluter == "p6")
    }

    @Test("a brittle test: fails alone, passes after p2; p2 is the state-setter")
    func brittle() async {
        let result = await Self.classifier { before, _ in !before.contains("p2") }.classify(Self.target())
        #expect(result.kind == .brittle)
        #expect(result.stateSetter == "p2")
        #expect(result.polluter == nil)
        #expect(result.aloneFailures == 4)
    }

    @Test("failing alone for some seeds is NOD, with its rate alone")
    func nod() async {
        let result = await Self.classifier { _, seed in seed % 2 == 1 }.classify(Self.target())
        #expect(result.kind == .nod)
        #expect(result.aloneRuns == 4 && result.aloneFailures == 2)
        #expect(result.replay == "seed=7 t")
    }

    @Test("failing alone with every fresh seed but passing alone with the passing attempt's seed is NOD, not brittle")
    func seedDecides() async {
        let result = await Self.classifier { _, seed in seed != 8 }.classify(Self.target())
        #expect(result.kind == .nod)
        #expect(result.reason.contains("the seed decides"))
    }

    @Test("a test that never passed and fails alone too is a consistent failure, not order-dependent")
    func consistent() async {
        let result = await Self.classifier { _, _ in true }.classify(Self.target(passing: false))
        #expect(result.kind == .unknown)
        #expect(result.reason.contains("consistent failure"))
    }

    @Test("a failure that does not come back in its own order is unknown, with the reason")
    func didNotComeBack() async {
        let result = await Self.classifier { _, _ in false }.classify(Self.target())
        #expect(result.kind == .unknown)
        #expect(result.reason.contains("did not come back"))
        #expect(result.runs == 1 + 4 + 1)
    }

    @Test("a victim of two tests together is a victim without a polluter, and says so")
    func twoPolluters() async {
        let result = await Self.classifier { before, _ in before.contains("p1") && before.contains("p6") }.classify(
            Self.target())
        #expect(result.kind == .victim)
        #expect(result.polluter == nil)
        #expect(result.reason.contains("needs several"))
    }

    @Test("rerun 1: the bound on runs holds for a long prefix")
    func boundedSearch() async {
        let long = (1...5000).map { "q\($0)" }
        let target = ClassificationTarget(
            id: "t", failing: .init(before: long, seed: 7, attempt: 1), passing: nil, failures: 3)
        let result = await Self.classifier(rerun: 1) { before, _ in before.contains("q4999") }.classify(target)
        #expect(result.kind == .victim)
        #expect(result.polluter == nil)
        #expect(result.reason.contains("bound of 16 runs"))
        #expect(result.runs == 1 + 1 + 1 + 16)
    }
}
