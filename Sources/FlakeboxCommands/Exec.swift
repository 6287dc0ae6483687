import ArgumentParser
import FlakeboxSandbox
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

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
            // The sandbox user must own what it writes to, and the user's directory must stay
            // the user's: the attempt runs over a private copy (reflinked where the filesystem
            // can), which is removed afterwards.
            let copy = try Self.privateCopy(of: path)
            defer { WorkspaceFiles.removeTree(copy) }
            try sandbox.adoptWorkspace(copy)
            let result = await sandbox.run(
                AttemptRequest(
                    command: ["/bin/sh", "-c", words.joined(separator: " ")], environment: env, workspace: copy,
                    timeoutSeconds: timeout))
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                // snake_case, as in every --json (exit_code, wall_seconds).
                encoder.keyEncodingStrategy = .convertToSnakeCase
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

extension Flakebox.Exec {
    /// A copy of `path` in a directory named for this process (`flakebox-<pid>-exec-…`), so that
    /// the next flakebox to start removes it if this one is killed.
    static func privateCopy(of path: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("--workspace \(path): not a directory")
        }
        var base = NSTemporaryDirectory()
        if base.hasSuffix("/") { base.removeLast() }
        let copy = "\(base)/flakebox-\(getpid())-exec-\(UUID().uuidString.prefix(8))"
        let copied = HostCommand.run(["/bin/cp", "-a", "--reflink=auto", "--", path, copy])
        guard copied.status == 0 else {
            WorkspaceFiles.removeTree(copy)
            throw ValidationError("--workspace \(path): cannot copy it: \(copied.stderr)")
        }
        chmod(copy, 0o755)
        return copy
    }
}

extension IsolationTier: ExpressibleByArgument {}
