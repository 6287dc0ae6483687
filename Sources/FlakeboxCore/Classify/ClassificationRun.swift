import FlakeboxSandbox

/// What one classification run said about its target, from the run's JUnit report and the
/// selection plugin's report.
enum ClassificationRun {
    /// - Parameters:
    ///   - order: the tests asked for, the target last.
    ///   - reportPath: the selection plugin's report, inside the sandbox.
    static func observe(_ result: AttemptResult, order: [String], reportPath: String) -> Classifier.Observation {
        let nodeIDs = result.artifacts.first { $0.path == reportPath }.flatMap { OrderPlugin.selectedNodeIDs($0.bytes) }
        func nothing(_ why: String) -> Classifier.Observation { .init(outcome: .inconclusive(why), nodeIDs: nodeIDs) }
        switch result.status {
        case .sandboxError:
            return nothing("the sandbox failed" + (result.setupFailure.map { " at \($0)" } ?? ""))
        case .cancelled:
            return nothing("cancelled")
        default:
            break
        }
        guard let target = order.last else { return nothing("no test named") }
        var ran: [String] = []
        var outcome: JUnitReport.Outcome?
        for artifact in result.artifacts where artifact.path != reportPath {
            guard let report = JUnitReport.parse(artifact.bytes) else { continue }
            for testCase in report.testCases {
                if testCase.id == target {
                    outcome = testCase.outcome
                    break
                }
                if !ran.contains(testCase.id) { ran.append(testCase.id) }
            }
            if outcome != nil { break }
        }
        let plugin =
            nodeIDs == nil
            ? "; the selection plugin did not load (flakebox selects tests with a pytest plugin: is the command pytest?)"
            : ""
        guard let outcome else {
            let code = result.exitCode.map { ", exit code \($0)" } ?? ""
            return nothing("it did not run (\(result.status.rawValue)\(code))\(plugin)")
        }
        guard ran == Array(order.dropLast()) else {
            return nothing(
                "the tests did not run in the order given (\(ran.count) ran before it instead of \(order.count - 1))"
                    + plugin)
        }
        switch outcome {
        case .passed: return .init(outcome: .passed, nodeIDs: nodeIDs)
        case .failed, .errored: return .init(outcome: .failed, nodeIDs: nodeIDs)
        case .skipped: return nothing("it was skipped")
        }
    }

    /// The words of `testCommand` that start pytest (`pytest`, `py.test`, `python -m pytest`, and
    /// whatever comes before them), or `python3 -m pytest` when it has none.
    static func pytestPrefix(of testCommand: String) -> String {
        let words = testCommand.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        for (index, word) in words.enumerated() {
            let name = word.split(separator: "/").last.map(String.init) ?? word
            if name == "pytest" || name == "py.test" {
                let isModule = index > 0 && words[index - 1] == "-m"
                if isModule || !word.hasPrefix("-") { return words[...index].joined(separator: " ") }
            }
        }
        return "python3 -m pytest"
    }
}
