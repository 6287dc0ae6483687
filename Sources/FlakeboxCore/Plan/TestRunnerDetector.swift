/// Which adapter a test command gets: `go test` or Jest when the command runs it, else pytest. pytest's
/// plumbing is all variables (`PYTEST_ADDOPTS`, `PYTHONPATH`) that nothing else reads, so a
/// command that reaches pytest through `make` or `tox` still gets it.
public enum TestRunnerDetector {
    public static func adapter(for testCommand: String) -> any TestRunnerAdapter {
        if GoTestAdapter.runs(testCommand) { return GoTestAdapter() }
        if JestAdapter.runs(testCommand) { return JestAdapter() }
        return PytestAdapter(named: mentionsPytest(testCommand))
    }

    /// The command names pytest itself (`pytest`, `py.test`, `python -m pytest`).
    static func mentionsPytest(_ command: String) -> Bool {
        words(command).contains { $0 == "pytest" || $0.hasSuffix("/pytest") || $0 == "py.test" }
    }

    /// The words of each simple command of `command` (split at `;`, `&`, `|`, parentheses and
    /// newlines), so that `echo go; test -f x` is not `go test`.
    static func commands(_ command: String) -> [[Substring]] {
        command.split(whereSeparator: { ";&|()\n".contains($0) }).map {
            $0.split(whereSeparator: { $0 == " " || $0 == "\t" })
        }
    }

    static func words(_ command: String) -> [Substring] { commands(command).flatMap { $0 } }
}
