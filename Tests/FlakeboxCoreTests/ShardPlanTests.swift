import FlakeboxCore
import Foundation
import Testing

@Suite("Shard plans")
struct ShardPlanTests {
    @Test("ranges are disjoint, in order, as even as can be, and cover exactly the job's seeds")
    func covers() {
        for runs in [1, 2, 7, 10, 999, 1000] {
            for shards in [1, 2, 3, 7, 16, 1000, 1001] {
                let plan = ShardPlan(runs: runs, seedStart: 40, shards: shards)
                #expect(plan.ranges.count == min(runs, shards))
                var next: UInt64 = 40
                for range in plan.ranges {
                    #expect(range.seedStart == next)
                    #expect(range.runs >= 1)
                    next += UInt64(range.runs)
                }
                #expect(next == 40 + UInt64(runs))
                let sizes = plan.ranges.map(\.runs)
                #expect(sizes.max()! - sizes.min()! <= 1)
                #expect(sizes == sizes.sorted(by: >), "larger shards first")
            }
        }
    }

    @Test("10 runs in 3 shards: 4, 3, 3")
    func example() {
        let plan = ShardPlan(runs: 10, seedStart: 100, shards: 3)
        #expect(
            plan.ranges == [
                .init(seedStart: 100, runs: 4), .init(seedStart: 104, runs: 3), .init(seedStart: 107, runs: 3),
            ])
        #expect(plan.ranges[0].description == "seeds 100–103")
    }

    @Test("each shard's input is the job's with its seeds, runs and the pinned commit; anything else is kept")
    func inputs() throws {
        let job = Data(#"{"repo": "r", "runs": 10, "ref": "main", "env": {"A": "1"}}"#.utf8)
        let inputs = try #require(ShardPlan(runs: 10, seedStart: 100, shards: 3).inputs(json: job, commit: "c0ffee"))
        let objects = inputs.compactMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
        #expect(objects.map { $0["seed_start"] as? Int } == [100, 104, 107])
        #expect(objects.map { $0["runs"] as? Int } == [4, 3, 3])
        #expect(objects.allSatisfy { $0["ref"] as? String == "c0ffee" && $0["repo"] as? String == "r" })
        #expect(objects.allSatisfy { ($0["env"] as? [String: String]) == ["A": "1"] })
        #expect(ShardPlan(runs: 2, seedStart: 0, shards: 2).inputs(json: Data("[1]".utf8), commit: "c") == nil)
    }
}
