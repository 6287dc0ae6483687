import FlakeboxCore
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
}
