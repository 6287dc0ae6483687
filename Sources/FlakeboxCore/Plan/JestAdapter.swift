/// Jest: each attempt gets `--seed=<TEST_SEED>` (what `jest.getSeed()` returns; Jest does not
/// reseed `Math.random`) and, when the job shuffles, `--randomize` (test order within each file
/// permuted by the seed; Jest 29.4+, older Jest says it has none). Jest reads no options from
/// the environment, and rewriting a shell string misses `npm test`, so the flags are added by
/// `JestPreload`, loaded into every Node process through `NODE_OPTIONS`, inside Jest's own
/// process. Per-test results come from Jest's own `--json` report (Jest writes no JUnit without
/// the jest-junit package), read by `JestReport`. No cache is shared between attempts: Jest's
/// cache is under the attempt's private `/tmp` or in its copy-on-write workspace.
public struct JestAdapter: TestRunnerAdapter {
    public init() {}

    public var name: String { "jest" }

    /// Where the preload lives inside the checkout (a dot directory: Jest's default `testMatch`
    /// does not collect `.cjs` files there anyway).
    public static let preloadDirectory = ".flakebox-jest"
    /// Jest's `--json` report and the preload's note of what it did.
    public static let reportName = ".flakebox-jest-results.json"
    public static let infoName = ".flakebox-jest-info.json"

    /// The command runs Jest: a word `jest` or ending in `/jest` (`npx jest`, `node_modules/.bin/jest`,
    /// `node …/jest-cli/bin/jest.js`).
    public static func runs(_ command: String) -> Bool {
        TestRunnerDetector.words(command).contains { word in
            word == "jest" || word.hasSuffix("/jest") || word.hasSuffix("/bin/jest.js")
        }
    }

    public var supportFiles: [(path: String, contents: String)] {
        [("\(Self.preloadDirectory)/\(JestPreload.fileName)", JestPreload.source)]
    }

    public func junitPath(workspace: String) -> String? { nil }

    public func contribution(for attempt: AttemptPlanContext) -> AttemptContribution {
        let workspace = attempt.workspace
        let preload = "--require \(workspace)/\(Self.preloadDirectory)/\(JestPreload.fileName)"
        var artifacts = ["\(workspace)/\(Self.reportName)", "\(workspace)/\(Self.infoName)"]
        if let junit = attempt.jobJUnitPath { artifacts.append("\(workspace)/\(junit)") }
        return AttemptContribution(
            command: attempt.testCommand,
            environment: [
                "NODE_OPTIONS": ([attempt.environment["NODE_OPTIONS"]].compactMap { $0 } + [preload])
                    .joined(separator: " "),
                // Jest takes seeds in -2^31 ..< 2^31; small seeds are TEST_SEED itself.
                "JEST_FLAKEBOX_SEED": "\(attempt.seed % 2_147_483_648)",
                "JEST_FLAKEBOX_SHUFFLE": attempt.shuffle ? "1" : "0",
                "JEST_FLAKEBOX_REPORT": "\(workspace)/\(Self.reportName)",
                "JEST_FLAKEBOX_INFO": "\(workspace)/\(Self.infoName)",
            ],
            artifacts: artifacts)
    }

    /// Jest lists test files (`--listTests`), not tests.
    public func listCommand(testCommand: String) -> String? { nil }

    /// `test` is `<file>::<full name>` as `JestReport` names it.
    public func selectCommand(testCommand: String, test: String) -> String? {
        guard let split = test.firstRange(of: "::") else { return nil }
        let file = String(test[..<split.lowerBound])
        let name = String(test[split.upperBound...])
        let pattern = "^" + name.map { "\\^$.*+?()[]{}|/".contains($0) ? "\\\($0)" : String($0) }.joined() + "$"
        return "jest --ci --runTestsByPath " + JobRunner.shellQuote(file) + " -t " + JobRunner.shellQuote(pattern)
    }
}
