import FlakeboxJobs
import Foundation
import Testing

@Suite struct MemoryJobStoreTests {
    func job(_ id: String, owner: String, at seconds: Double, low: Bool = false) -> StoredJob {
        StoredJob(
            id: id, owner: owner, input: Data("{}".utf8), policy: JobPolicy(lowPriority: low),
            createdAt: Date(timeIntervalSince1970: seconds))
    }

    @Test("one key's hundred queued jobs do not starve another key's one")
    func fairClaiming() async throws {
        let store = MemoryJobStore(limits: .init(maxQueued: 200))
        for i in 0..<100 { try await store.insert(job("a\(i)", owner: "a", at: Double(i))) }
        try await store.insert(job("b0", owner: "b", at: 500))
        let first = try await store.claimNext(now: Date(), skipping: [])
        let second = try await store.claimNext(now: Date(), skipping: [])
        #expect(first?.id == "a0")
        #expect(second?.id == "b0", "b has nothing running, a has one: b goes next")
        #expect(second?.state == .inProgress && second?.starts == 1)
    }

    @Test("low priority jobs go after the same key's others; skipped owners are left")
    func lowPriorityAndSkipping() async throws {
        let store = MemoryJobStore()
        try await store.insert(job("low", owner: "a", at: 1, low: true))
        try await store.insert(job("normal", owner: "a", at: 2))
        try await store.insert(job("other", owner: "b", at: 3))
        #expect(try await store.claimNext(now: Date(), skipping: ["a"])?.id == "other")
        #expect(try await store.claimNext(now: Date(), skipping: [])?.id == "normal")
    }
}
