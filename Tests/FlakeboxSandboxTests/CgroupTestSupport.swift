import FlakeboxSandbox
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What the cgroup tests may rely on here, detected once per test process.
enum CgroupTestEnvironment {
    static let support = CgroupSupport.detect()
    static let python = "/usr/bin/python3"

    /// Whether the preferred version offers all `controllers`.
    static func has(_ controllers: CgroupController...) -> Bool {
        support.version != nil && Set(controllers).isSubset(of: support.controllers)
    }

    /// The skip reason shown by Swift Testing when `has(controllers)` is false.
    static func missing(_ controllers: CgroupController...) -> Comment {
        guard let preferred = support.preferred else {
            return Comment(rawValue: "no usable cgroup hierarchy (uid \(getuid())): \(support)")
        }
        let reasons = controllers.filter { !preferred.controllers.contains($0) }
            .map { "\($0): \(preferred.missing[$0] ?? "unavailable")" }
        return Comment(rawValue: "cgroup \(preferred.version) lacks \(reasons.joined(separator: "; "))")
    }

    static var hasPython: Bool { access(python, X_OK) == 0 }

    /// A manager with a parent name of its own: tests run in parallel in one process, and
    /// `flakebox-<pid>` would be shared between them.
    static func makeManager(_ label: String, version: CgroupVersion? = nil) throws -> CgroupManager {
        try CgroupManager(support: support, parentName: "flakebox-test-\(getpid())-\(label)", version: version)
    }
}

/// A `/bin/sh` that writes its own pid into the attempt's `cgroup.procs` files (as the sandbox
/// helper does) and then runs `script`, typically ending in `exec`.
struct JoinedShell {
    let process: Process
    let outputFile: URL

    static func start(in group: AttemptCgroup, _ script: String) throws -> JoinedShell {
        let quoted = group.procsFiles.map { "'\($0)'" }.joined(separator: " ")
        let outputFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("flakebox-cgroup-test-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputFile)
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "for f in \(quoted); do echo $$ > \"$f\" || exit 97; done\n\(script)"]
        process.standardInput = FileHandle.nullDevice
        // A file, not a pipe: daemonized grandchildren would keep a pipe open after the shell exits.
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return JoinedShell(process: process, outputFile: outputFile)
    }

    /// Waits for the shell itself to exit; returns (reason, status) as Foundation reports them.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> (Process.TerminationReason, Int32) {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                Issue.record("process \(process.processIdentifier) still running after \(timeout)")
                kill(process.processIdentifier, SIGKILL)
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return (process.terminationReason, process.terminationStatus)
    }

    var output: String {
        defer { try? FileManager.default.removeItem(at: outputFile) }
        return (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while try !condition() {
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: .milliseconds(5))
    }
    return true
}

/// Whether `pid` is gone (or a zombie nobody has reaped yet, which holds no resources).
func isDead(_ pid: pid_t) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
    // "pid (comm) S …": the state follows the last ')'.
    guard let close = stat.lastIndex(of: ")") else { return true }
    return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

func directoryExists(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
}

let mebibyte: UInt64 = 1 << 20
