import FlakeboxSandbox

/// Interference mode's unit: several attempts' plans run at once by one shell in one sandbox, so
/// they share its workspace, `/tmp`, network namespace and cgroup limits, as the attempts of a
/// one-checkout worker did. The sandbox around them stays whole (nothing of the repository runs
/// on the host); only the walls between the copies are gone.
///
/// Each copy runs its attempt's own plan (command, seed, environment, noise), its output and exit
/// status written to files of its own in `directory`, brought back as the sandbox's artifacts, with
/// the adapter's reports beside them (`reportPrefix`).
public struct SharedCheckoutPlan: Sendable, Equatable {
    /// The directory, inside the workspace, the copies' output goes to (a dot directory: pytest
    /// does not collect it).
    public static let directoryName = ".flakebox-shared"
    /// Copies at once: at least two (one copy shares with nobody), at most eight (the launcher
    /// brings back at most 64 files, five a copy).
    public static let copiesRange = 2...8

    /// The attempts' plans, in the order of the group.
    public var copies: [AttemptPlan]
    /// Inside the sandbox.
    public var directory: String
    /// `/bin/sh -c <script>`.
    public var command: [String]
    /// The copies' variables, each under a name of its own (`_FB0_TEST_SEED`), and the
    /// directory (`_FB_DIR`): passed as variables, not written into the script, so that the
    /// sandbox points their workspace paths at the attempt's copy where it has to (minimal tier).
    public var environment: [String: String]
    public var artifacts: [String]
    public var noise: BackgroundNoise?

    /// - Parameter indices: the job's attempt indices (0-based) that run together.
    public init(planner: AttemptPlanner, indices: [Int]) {
        let directory = "\(planner.workspace)/\(Self.directoryName)"
        self.directory = directory
        copies = indices.enumerated().map { position, index in
            planner.plan(index: index, reportPrefix: "\(directory)/\(position).")
        }
        command = ["/bin/sh", "-c", Self.script(copies)]
        var environment = [Self.directoryVariable: directory]
        for (position, plan) in copies.enumerated() {
            for (name, value) in plan.environment { environment[Self.variable(name, position: position)] = value }
        }
        self.environment = environment
        artifacts = ["\(directory)/*"]
        noise = planner.input.stress
    }

    /// How many attempts run at once for a job of `parallelism`.
    public static func copies(parallelism: Int) -> Int {
        min(max(parallelism, copiesRange.lowerBound), copiesRange.upperBound)
    }

    /// The file of copy `position` holding `kind` (`out`, `err`, `status`).
    public static func file(_ kind: String, position: Int, directory: String) -> String {
        "\(directory)/\(position).\(kind)"
    }

    static let directoryVariable = "_FB_DIR"

    /// Copy `position`'s `name` as the script receives it.
    static func variable(_ name: String, position: Int) -> String { "_FB\(position)_\(name)" }

    /// Starts every copy in the background with its own variables (taken from its prefixed ones,
    /// which it then unsets, so no copy sees another's), then waits for all of them. Each copy's
    /// exit status goes to its `status` file after it ends (a shell reports a copy killed by
    /// signal N as 128+N).
    static func script(_ copies: [AttemptPlan]) -> String {
        let all = copies.enumerated().flatMap { position, plan in
            plan.environment.keys.sorted().map { variable($0, position: position) }
        }
        let unset = "unset \(directoryVariable) " + all.joined(separator: " ")
        var lines = ["d=\"$\(directoryVariable)\"", "mkdir -p \"$d\" || exit 125"]
        for (position, plan) in copies.enumerated() {
            let exports = plan.environment.keys.sorted()
                .map { "\($0)=\"$\(variable($0, position: position))\"" }
                .joined(separator: " ")
            let run = plan.command.map(JobRunner.shellQuote).joined(separator: " ")
            let files = ["out", "err", "status"].map { "\"$d/\(position).\($0)\"" }
            lines.append(
                "{ (export \(exports); \(unset); exec \(run)) >\(files[0]) 2>\(files[1]) </dev/null; "
                    + "echo $? >\(files[2]); } &")
        }
        lines.append("wait")
        return lines.joined(separator: "\n")
    }
}
