import ArgumentParser
import FlakeboxSandbox
import Foundation

extension Flakebox {
    /// Times sandboxed attempts from inside one supervisor, as a job runs them: spawn, namespaces,
    /// overlay, cgroup create/read/remove, seccomp, the command, teardown. Used by scripts/bench.sh.
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time sequential sandboxed attempts (for scripts/bench.sh).", shouldDisplay: false)

        @Option(help: "The checkout to overlay.")
        var workspace: String

        @Option(help: "Number of timed attempts (after 5 warm-up ones).")
        var runs: Int = 200

        @Option(help: "Policy name or file.")
        var policy: String = "default"

        @Argument(help: "The command (argv, no shell).")
        var command: [String] = ["/usr/bin/true"]

        func run() async throws {
            let sandbox = try Sandbox(policy: try PolicyStore.standard().load(policy))
            let path = URL(fileURLWithPath: workspace).standardizedFileURL.path
            try sandbox.adoptWorkspace(path)
            var samples: [Double] = []
            for index in 0..<(runs + 5) {
                let start = ContinuousClock.now
                let result = await sandbox.run(AttemptRequest(command: command, workspace: path, label: "bench"))
                let elapsed = ContinuousClock.now - start
                guard result.status == .passed else {
                    throw ValidationError(
                        "attempt \(index) ended \(result.status): \(result.setupFailure?.description ?? "")")
                }
                if index >= 5 {
                    samples.append(
                        Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
                }
            }
            samples.sort()
            let pick = { (q: Double) in samples[min(samples.count - 1, Int(Double(samples.count) * q))] }
            print(
                String(
                    format: "median=%.2f p10=%.2f min=%.2f runs=%d tier=%@", pick(0.5), pick(0.1), samples[0],
                    samples.count, sandbox.tier.rawValue))
        }
    }
}
