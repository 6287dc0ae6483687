/// `go test`: every attempt really runs (`-count=1`: no cached result) and, when the job asks,
/// in an order shuffled by the seed (`-shuffle=<seed>`), both through `GOFLAGS` so the command
/// is left as written. Go leaves no JUnit report of its own.
public struct GoTestAdapter: TestRunnerAdapter {
    public init() {}

    public var name: String { "go test" }

    /// The command runs `go test` (`go` then `test`, after any path).
    public static func runs(_ command: String) -> Bool {
        TestRunnerDetector.commands(command).contains { words in
            zip(words, words.dropFirst()).contains { ($0 == "go" || $0.hasSuffix("/go")) && $1 == "test" }
        }
    }

    public var supportFiles: [(path: String, contents: String)] { [] }

    public func junitPath(workspace: String) -> String? { nil }

    public func contribution(for attempt: AttemptPlanContext) -> AttemptContribution {
        var flags = [attempt.environment["GOFLAGS"]].compactMap { $0 } + ["-count=1"]
        if attempt.shuffle { flags.append("-shuffle=\(attempt.seed)") }
        return AttemptContribution(
            command: attempt.testCommand, environment: ["GOFLAGS": flags.joined(separator: " ")],
            artifacts: attempt.reportPrefix == nil
                ? attempt.jobJUnitPath.map { ["\(attempt.workspace)/\($0)"] } ?? [] : [])
    }

    public func listCommand(testCommand: String) -> String? { "go test -list '.*' ./..." }

    public func selectCommand(testCommand: String, test: String) -> String? {
        "go test -count=1 -run " + JobRunner.shellQuote("^\(test)$") + " ./..."
    }
}
