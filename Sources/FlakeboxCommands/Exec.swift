import ArgumentParser
import FlakeboxSandbox
import Foundation

extension Flakebox {
    /// Runs one command in one sandbox over a directory: the engine without the job around it.
    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run one command once in a sandbox over a directory (copy-on-write) and report how it ended.")

        @Option(help: "The directory to show (copy-on-write) at the policy's workspace path.")
        var workspace: String

        @Option(help: "Policy name or file.")
        var policy: String = "default"

        @Option(help: "Run at this tier (minimal, reduced, full) instead of the strongest available.")
        var tier: IsolationTier?

        @Option(help: "Wall-clock limit in seconds (default: the policy's).")
        var timeout: Double?

        @Option(name: .customLong("env"), help: "NAME=VALUE to set in the sandbox (repeatable).")
        var environment: [String] = []

        @Flag(help: "Print the result as JSON.")
        var json = false

        @Argument(parsing: .postTerminator, help: "The command after --, run as /bin/sh -c '<words joined by spaces>'.")
        var command: [String] = []

        func run() async throws {
            var words = command
            if words.first == "--" { words.removeFirst() }
            guard !words.isEmpty else { throw ValidationError("give the command after --") }
            var env: [String: String] = [:]
            for pair in environment {
                guard let eq = pair.firstIndex(of: "="), Policy.isValidVariableName(String(pair[..<eq])) else {
                    throw ValidationError("--env takes NAME=VALUE, got \(pair)")
                }
                env[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            }
            let loaded = try PolicyStore.standard().load(policy)
            let sandbox = try Sandbox(policy: loaded, options: .init(tier: tier))
            let path = URL(fileURLWithPath: workspace).standardizedFileURL.path
            try sandbox.adoptWorkspace(path)
            let result = await sandbox.run(
                AttemptRequest(
                    command: ["/bin/sh", "-c", words.joined(separator: " ")], environment: env, workspace: path,
                    timeoutSeconds: timeout))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(result), as: UTF8.self))
            } else {
                FileHandle.standardOutput.write(Data(result.stdout.head + result.stdout.tail))
                FileHandle.standardError.write(Data(result.stderr.head + result.stderr.tail))
                var line = "[flakebox] \(result.status.rawValue)"
                if let code = result.exitCode { line += " exit=\(code)" }
                if let signal = result.signal { line += " signal=\(signal)" }
                if let failure = result.setupFailure { line += " stage=\(failure)" }
                line += String(format: " wall=%.3fs", result.wallSeconds)
                if let cpu = result.cpuSeconds { line += String(format: " cpu=%.3fs", cpu) }
                if let peak = result.peakMemoryBytes { line += " peak=\(peak / 1024)KiB" }
                line += " tier=\(result.tier.rawValue)"
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            throw ExitCode(result.status == .passed ? 0 : result.status == .sandboxError ? 2 : 1)
        }
    }
}

extension IsolationTier: ExpressibleByArgument {}
