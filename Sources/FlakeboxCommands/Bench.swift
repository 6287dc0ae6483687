import ArgumentParser
import FlakeboxSandbox
import Foundation

extension Flakebox {
    /// Times sandboxed attempts from inside one supervisor, as a job runs them (spawn, namespaces,
    /// overlay, cgroups, seccomp, the command, teardown), interleaved round-robin with baselines
    /// spawned and waited for by the same clock, so that load on the machine hits every row alike.
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time sandboxed attempts against baselines, interleaved (for scripts/bench.sh).",
            shouldDisplay: false)

        @Option(help: "A small checkout to overlay.")
        var workspace: String

        @Option(help: "A large checkout to overlay too (overlay cost must not grow with size).")
        var largeWorkspace: String?

        @Option(help: "Rounds (after 5 warm-up rounds); each round runs every row once.")
        var runs: Int = 200

        @Option(help: "Policy name or file.")
        var policy: String = "default"

        @Option(help: "Also time attempts at the minimal tier under this policy (e.g. runpod), beside the full tier's.")
        var minimalPolicy: String?

        @Option(help: "A baseline command line, run unsandboxed (repeatable), e.g. \"/usr/bin/true\".")
        var baseline: [String] = []

        func run() async throws {
            let store = PolicyStore.standard()
            // As a job runs them: its checkout does not change, so the next sandbox is built ahead.
            var frozen = Sandbox.Options()
            frozen.frozenWorkspaces = true
            var sandboxes = [try Sandbox(policy: try store.load(policy), options: frozen)]
            // The same tier with each attempt's sandbox built on its path (a workspace that may
            // change between attempts), for comparison.
            let onPath = try Sandbox(policy: try store.load(policy))
            if onPath.tier == .full { sandboxes.append(onPath) }
            if let minimalPolicy {
                // As a job runs them: its checkout does not change, so the next copy is made ahead.
                var options = Sandbox.Options(tier: .minimal)
                options.frozenWorkspaces = true
                sandboxes.append(try Sandbox(policy: try store.load(minimalPolicy), options: options))
            }
            var rows: [(name: String, run: () async -> String?)] = []
            for line in baseline {
                let argv = line.split(separator: " ").map(String.init)
                rows.append(
                    (
                        line,
                        {
                            let r = HostCommand.run(argv)
                            return r.status == 0 ? nil : "exit \(r.status)"
                        }
                    ))
            }
            for sandbox in sandboxes {
                for (name, path) in [("small checkout", workspace), ("large checkout", largeWorkspace)] {
                    guard let path else { continue }
                    let full = URL(fileURLWithPath: path).standardizedFileURL.path
                    try sandbox.adoptWorkspace(full)
                    let request = AttemptRequest(command: ["/usr/bin/true"], workspace: full, label: "bench")
                    rows.append(
                        (
                            "flakebox attempt, \(sandbox.tier) tier\(sandbox === onPath ? " built on the path" : ""), \(name)",
                            {
                                let result = await sandbox.run(request)
                                return result.status == .passed
                                    ? nil : "\(result.status) \(result.setupFailure?.description ?? "")"
                            }
                        ))
                }
            }
            var samples = Array(repeating: [Double](), count: rows.count)
            for round in 0..<(runs + 5) {
                // A new order every round: what one row leaves behind (async namespace teardown,
                // background cgroup work) must not always land on the same next row.
                for index in rows.indices.shuffled() {
                    let row = rows[index]
                    let start = ContinuousClock.now
                    if let failure = await row.run() {
                        throw ValidationError("\(row.name), round \(round): \(failure)")
                    }
                    let elapsed = (ContinuousClock.now - start).components
                    if round >= 5 {
                        samples[index].append(Double(elapsed.seconds) * 1000 + Double(elapsed.attoseconds) / 1e15)
                    }
                }
            }
            print("| per attempt (\(runs) interleaved rounds) | median ms | p10 ms | min ms |")
            print("|---|---:|---:|---:|")
            for (index, row) in rows.enumerated() {
                let sorted = samples[index].sorted()
                let pick = { (q: Double) in sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
                print(String(format: "| %@ | %.2f | %.2f | %.2f |", row.name, pick(0.5), pick(0.1), sorted[0]))
            }
        }
    }
}
