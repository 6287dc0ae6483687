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
///
/// Started with `posix_spawn`, not Foundation's `Process`: `Process` notices the exit only when
/// every holder of an inherited socket has closed it, so a shell that leaves background `sleep`s
/// behind looks alive until they die (swift-corelibs-foundation #4795).
struct JoinedShell {
    enum Termination: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        var description: String {
            switch self {
            case .exited(let status): "exited with status \(status)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    let pid: pid_t
    let outputPath: String

    static func start(in group: AttemptCgroup, _ script: String) throws -> JoinedShell {
        let quoted = group.procsFiles.map { "'\($0)'" }.joined(separator: " ")
        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("flakebox-cgroup-test-\(UUID().uuidString).log").path
        let arguments = ["/bin/sh", "-c", "for f in \(quoted); do echo $$ > \"$f\" || exit 97; done\n\(script)"]

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // A file, not a pipe: daemonized grandchildren would keep a pipe open after the shell exits.
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        // A clean signal state: the test runs on a pool thread whose blocked signals would be inherited.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        var all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, "/bin/sh", &actions, &attributes, &argv, environ)
        guard result == 0 else {
            throw POSIXError(POSIXError.Code(rawValue: result) ?? .EINVAL)
        }
        return JoinedShell(pid: pid, outputPath: outputPath)
    }

    /// Waits for the shell itself (not its background children) to exit, and reaps it.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Termination {
        let deadline = ContinuousClock.now + timeout
        var killed = false
        while true {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid {
                // WIFEXITED/WTERMSIG are macros Swift cannot import.
                let signal = status & 0x7f
                return signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
            }
            if result < 0 && errno != EINTR {
                throw POSIXError(POSIXError.Code(rawValue: errno) ?? .ECHILD)
            }
            if ContinuousClock.now >= deadline && !killed {
                Issue.record("process \(pid) still running after \(timeout); killing it")
                kill(pid, SIGKILL)
                killed = true
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The shell's combined stdout and stderr; removes the file.
    var output: String {
        defer { unlink(outputPath) }
        return (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
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
