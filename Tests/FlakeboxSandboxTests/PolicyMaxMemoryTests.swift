import Foundation
import Testing

@testable import FlakeboxSandbox

@Suite("Policies: the bound of a job's memory")
struct PolicyMaxMemoryTests {
    @Test("the default policy bounds a job's memory at 8 GiB; maxMemory parses and is checked")
    func maxMemory() throws {
        let strict = try PolicyStore.standard().load("default")
        #expect(strict.limits.maxMemory == 8 << 30 && strict.limits.memory == 2 << 30)
        let parsed = try Policy(json: ["limits": ["memory": "1GiB", "maxMemory": "3GiB"]], directory: nil)
        #expect(parsed.limits.maxMemory == 3 << 30)
        #expect(throws: PolicyError.self) {
            _ = try Policy(json: ["limits": ["maxMemory": "lots"]], directory: nil)
        }
    }
}
