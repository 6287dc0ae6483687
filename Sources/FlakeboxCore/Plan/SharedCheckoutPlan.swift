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
    public var artifacts: [String]
    public var noise: BackgroundNoise?

    /// - Parameter indices: the job's attempt indices (0-based) that run together.
    public init(planner: AttemptPlanner, indices: [Int]) {
        let directory = "\(planner.workspace)/\(Self.directoryName)"
        self.directory = directory
        copies = indices.enumerated().map { position, index in
            planner.plan(index: index, reportPrefix: "\(directory)/\(position).")
        }
        command = ["/bin/sh", "-c", Self.script(copies, directory: directory)]
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

    /// Starts every copy in the background with its own variables, then waits for all of them.
    /// Each copy's exit status goes to its `status` file after it ends (a shell reports a copy
    /// killed by signal N as 128+N).
    static func script(_ copies: [AttemptPlan], directory: String) -> String {
        let dir = JobRunner.shellQuote(directory)
        var lines = ["mkdir -p \(dir) || exit 125"]
        for (position, plan) in copies.enumerated() {
            let exports = plan.environment.sorted { $0.key < $1.key }
                .map { "\($0.key)=\(JobRunner.shellQuote($0.value))" }
                .joined(separator: " ")
            let run = plan.command.map(JobRunner.shellQuote).joined(separator: " ")
            let out = JobRunner.shellQuote(file("out", position: position, directory: directory))
            let err = JobRunner.shellQuote(file("err", position: position, directory: directory))
            let status = JobRunner.shellQuote(file("status", position: position, directory: directory))
            lines.append(
                "{ (export \(exports); exec \(run)) >\(out) 2>\(err) </dev/null; echo $? >\(status); } &")
        }
        lines.append("wait")
        return lines.joined(separator: "\n")
    }
}
