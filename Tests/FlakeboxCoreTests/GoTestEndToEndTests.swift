import FlakeboxCore
import FlakeboxTestSupport
import Foundation
import Testing

enum GoToolchain {
    /// `go` where the sandbox sees it (under /usr), if the machine has it.
    static let path: String? = ["/usr/local/go/bin/go", "/usr/bin/go", "/usr/lib/go/bin/go"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}

@Suite(
    "go test adapter end to end",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
    .enabled(if: GoToolchain.path != nil, "needs a Go toolchain under /usr (no `go` on this machine)"))
struct GoTestEndToEndTests {
    @Test("an order-dependent pair passes in declaration order and fails for some seeds under -shuffle")
    func shuffleExposesOrderDependency() async throws {
        let go = try #require(GoToolchain.path)
        let repo = try TestRepository(files: [
            "go.mod": "module example.com/od\n\ngo 1.17\n",
            "od_test.go": """
            package od

            import "testing"

            var registry []string

            func TestA(t *testing.T) { registry = append(registry, "a") }

            func TestB(t *testing.T) {
                if len(registry) == 0 {
                    t.Fatal("registry empty: TestA did not run first")
                }
            }
            """,
        ])
        var input = JobInput(repo: repo.path, testCommand: "\(go) test ./...", runs: 10, parallelism: 2)
        let plain = try await runJob(input)
        #expect(plain["failures"] as? Int == 0, "\(results(plain).map { $0["stdout"] ?? "" })")
        #expect(seedReach(plain)["reached_nothing"] as? Bool == true)
        input.shuffle = true
        let shuffled = try await runJob(input)
        let failures = shuffled["failures"] as? Int ?? 0
        #expect(failures > 0 && failures < 10, "\(results(shuffled).map { $0["stdout"] ?? "" })")
        #expect(seedReach(shuffled)["order_shuffled_by"] as? [String] == ["go test -shuffle"])
    }
}
