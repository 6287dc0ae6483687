import FlakeboxCore
import FlakeboxTestSupport
import Foundation
import Testing

enum JestToolchain {
    /// Debian's `jest` package (under /usr, where the sandbox sees it).
    static let path: String? = ["/usr/bin/jest"].first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Its version, from the package beside its command.
    static let version: [Int] = {
        guard let path, let bin = try? FileManager.default.destinationOfSymbolicLink(atPath: path) else { return [] }
        let package = URL(fileURLWithPath: bin, relativeTo: URL(fileURLWithPath: "/usr/bin/"))
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("package.json")
        guard let data = try? Data(contentsOf: package),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let version = object["version"] as? String
        else { return [] }
        return version.split(separator: ".").compactMap { Int($0) }
    }()

    /// `--randomize` came with Jest 29.4.
    static let hasRandomize = version.lexicographicallyPrecedes([29, 4]) == false && !version.isEmpty

    /// Debian's Jest expects Debian's Node (its module paths and `process.config`'s
    /// `node_relative_path`); NodeSource's Node has neither, so the test repository carries this
    /// shim and the job loads it. With Debian's Node it changes nothing.
    static let debianNodeShim = """
        const c = process.config;
        if (c && c.variables && c.variables.node_relative_path === undefined) {
          Object.defineProperty(process, 'config', {
            value: { ...c, variables: { ...c.variables, node_prefix: '/usr',
              node_relative_path: 'lib/x86_64-linux-gnu/nodejs:share/nodejs:lib/nodejs' } },
            configurable: true, enumerable: true });
        }
        """

    static func repository(_ files: [String: String]) throws -> TestRepository {
        var all = files
        all["package.json"] = "{\"name\": \"flakebox-jest-fixture\", \"private\": true}\n"
        all["debian-node.cjs"] = debianNodeShim
        return try TestRepository(files: all)
    }

    static func job(_ repo: TestRepository, runs: Int) -> JobInput {
        var input = JobInput(
            repo: repo.path, testCommand: "jest", runs: runs, parallelism: 2,
            environment: [
                "NODE_PATH": "/usr/share/nodejs:/usr/lib/nodejs", "NODE_OPTIONS": "--require ./debian-node.cjs",
            ])
        input.rerun = 0
        return input
    }
}

@Suite(
    "Jest adapter end to end",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
    .enabled(if: JestToolchain.path != nil, "needs Debian's jest package (apt-get install jest); not installed"))
struct JestEndToEndTests {
    @Test("a test that fails when jest.getSeed() is odd fails for exactly the odd seeds, named per test")
    func seedReachesJest() async throws {
        let repo = try JestToolchain.repository([
            "seed.test.js": """
            test('seed is even', () => { expect(jest.getSeed() % 2).toBe(0); });
            test('always passes', () => { expect(1).toBe(1); });
            """
        ])
        let summary = try await runJob(JestToolchain.job(repo, runs: 6))
        #expect(summary["failing_seeds"] as? [Int] == [1, 3, 5], "\(results(summary).map { $0["stderr"] ?? "" })")
        let tests = summary["tests"] as? [[String: Any]] ?? []
        let failing = tests.filter { ($0["failures"] as? Int ?? 0) > 0 }.compactMap { $0["name"] as? String }
        #expect(failing == ["seed.test.js::seed is even"], "\(tests)")
        let reach = seedReach(summary)
        #expect(reach["runner"] as? String == "jest")
        #expect(reach["plugin_active"] as? Int == 6)
        #expect((reach["sentence"] as? String)?.contains("jest.getSeed()") == true, "\(reach)")
    }

    @Test(
        "an order-dependent pair never fails in declaration order and fails for some seeds with --randomize",
        .enabled(if: JestToolchain.hasRandomize, "needs Jest 29.4+ for --randomize; this machine's Jest is older"))
    func randomizeExposesOrderDependency() async throws {
        let repo = try JestToolchain.repository(["od.test.js": Self.orderDependentPair])
        var input = JestToolchain.job(repo, runs: 10)
        let plain = try await runJob(input)
        #expect(plain["failures"] as? Int == 0, "\(results(plain).map { $0["stderr"] ?? "" })")
        input.shuffle = true
        let shuffled = try await runJob(input)
        let failures = shuffled["failures"] as? Int ?? 0
        #expect(failures > 0 && failures < 10, "\(results(shuffled).map { $0["stderr"] ?? "" })")
        #expect(seedReach(shuffled)["order_shuffled_by"] as? [String] == ["jest --randomize"])
    }

    @Test(
        "with a Jest that has no --randomize, shuffle is reported as not done, never claimed",
        .enabled(if: !JestToolchain.hasRandomize, "this machine's Jest has --randomize"))
    func shuffleWithoutRandomizeIsSaid() async throws {
        let repo = try JestToolchain.repository(["od.test.js": Self.orderDependentPair])
        var input = JestToolchain.job(repo, runs: 4)
        input.shuffle = true
        let summary = try await runJob(input)
        #expect(summary["failures"] as? Int == 0, "\(results(summary).map { $0["stderr"] ?? "" })")
        let reach = seedReach(summary)
        #expect(reach["order_shuffled_by"] as? [String] == [])
        #expect(reach["reached_nothing"] as? Bool == true)
        #expect((reach["sentence"] as? String)?.contains("has no --randomize") == true, "\(reach)")
    }

    static let orderDependentPair = """
        const registry = [];
        test('a registers', () => { registry.push('a'); });
        test('b needs a', () => { expect(registry).toContain('a'); });
        """
}
