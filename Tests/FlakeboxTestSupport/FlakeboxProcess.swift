import FlakeboxSandbox
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The built `flakebox` binary running one of its commands (`worker`, `serve`), with its output
/// captured as it comes.
///
/// Spawned with posix_spawn, the signal mask emptied and every disposition reset: a child of a
/// Swift concurrency thread (or of Foundation's Process there) would otherwise inherit a mask with
/// SIGTERM blocked, and the SIGTERM test would test nothing. The child leads a process group of
/// its own, which `kill()` ends whole. Pipes are drained, and the exit awaited, on threads of
/// their own: the cooperative pool is never blocked.
public final class FlakeboxProcess: Sendable {
    public enum Termination: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): "exit \(code)"
            case .signaled(let signal): "signal \(signal)"
            }
        }
    }

    private struct State {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        var openStreams = 2
        /// Set while the exited child is still a zombie, so that no signal can reach a reused pid.
        var termination: Termination?
    }

    public let pid: pid_t
    private let state = Mutex(State())

    /// Starts `flakebox <arguments>` with exactly `environment`, in `directory`.
    public init(arguments: [String], environment: [String: String], directory: String) throws {
        let executable = HelperLocator.executableDirectory().appendingPathComponent("flakebox").path
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard pipe(&out) == 0, pipe(&err) == 0 else {
            throw ProcessError(message: "pipe: \(String(cString: strerror(errno)))")
        }
        // CLOEXEC: the child gets its ends through dup2 only; no other child inherits them and holds
        // a pipe open past this worker's exit. (pipe2 is hidden from Swift; a spawn by another thread
        // between these lines could inherit them, which only delays that EOF until it exits.)
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        // `env -C` sets the working directory, then execs the worker in the same process
        // (posix_spawn_file_actions_addchdir_np is hidden from Swift).
        let argv = (["/usr/bin/env", "-C", directory, executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv + envp { free(pointer) }
        }
        var pid: pid_t = 0
        let failure = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, envp)
        close(out[1])
        close(err[1])
        guard failure == 0 else {
            close(out[0])
            close(err[0])
            throw ProcessError(message: "posix_spawn \(executable): \(String(cString: strerror(failure)))")
        }
        self.pid = pid
        drain(out[0], isStdout: true)
        drain(err[0], isStdout: false)
        awaitExit()
    }

    /// What the worker has written to stdout so far.
    public var stdout: String { state.withLock { String(decoding: $0.stdout, as: UTF8.self) } }
    public var stderr: String { state.withLock { String(decoding: $0.stderr, as: UTF8.self) } }
    public var termination: Termination? { state.withLock { $0.termination } }

    /// Sends `signal` to the worker alone, unless it has exited.
    public func send(_ signal: Int32) {
        state.withLock { state in
            if state.termination == nil { _ = Glibc.kill(pid, signal) }
        }
    }

    /// Ends the worker's whole process group with SIGKILL, unless the worker has exited.
    public func kill() {
        state.withLock { state in
            if state.termination == nil { _ = Glibc.kill(-pid, SIGKILL) }
        }
    }

    /// Waits until the worker has exited and its output is read to the end; nil after `timeout` seconds.
    public func waitForExit(timeout: Double) async -> Termination? {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while ContinuousClock.now < deadline {
            let (termination, open) = state.withLock { ($0.termination, $0.openStreams) }
            if let termination, open == 0 { return termination }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return state.withLock { $0.openStreams == 0 ? $0.termination : nil }
    }

    /// The end of the worker's output, for failure messages.
    public var logTail: String {
        let out = stdout.suffix(6000)
        let err = stderr.suffix(3000)
        return "flakebox \(pid) (\(termination?.description ?? "running")) stdout:\n\(out)\nstderr:\n\(err)"
    }

    private func drain(_ fd: Int32, isStdout: Bool) {
        DetachedThread.start { [self] in
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0, errno == EINTR { continue }
                if count <= 0 { break }
                state.withLock { state in
                    if isStdout { state.stdout += buffer[..<count] } else { state.stderr += buffer[..<count] }
                }
            }
            close(fd)
            state.withLock { $0.openStreams -= 1 }
        }
    }

    /// Learns of the exit without reaping (WNOWAIT), marks it, then reaps: `send` and `kill`
    /// check the mark under the lock, so they never signal a pid the kernel has given to another.
    private func awaitExit() {
        DetachedThread.start { [self] in
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
            var status: Int32 = 0
            state.withLock { state in
                while waitpid(pid, &status, 0) < 0, errno == EINTR {}
                let signal = status & 0x7f
                state.termination = signal == 0 ? .exited((status >> 8) & 0xff) : .signaled(signal)
            }
        }
    }
}

/// A child process that could not be started.
public struct ProcessError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
