import CFlakeboxSpawn
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The launcher as a fork server (`flakebox-sandbox --serve`), one per sandbox: a launcher forked
/// from it does not pay the ~0.8 ms of CPU that executing one costs on this VM (glibc's start-up
/// probing of the CPU's caches traps to the hypervisor; issue 17). The forked launcher is this
/// process's child (`CLONE_PARENT`), with the descriptor table it would have been spawned with,
/// so everything after the spawn is unchanged. Started on first use; when it cannot be used the
/// caller spawns the launcher as before.
final class LauncherServer: Sendable {
    private struct State {
        var socket: Int32 = -1
        var pid: pid_t = 0
        /// Starts and requests that failed; past `maxFailures` the server is not tried again.
        var failures = 0
        /// Launchers it made.
        var forked = 0
    }

    static let maxFailures = 3
    private let helperPath: String
    /// A server that stopped answering (stopped, wedged) costs a request this long, then is
    /// replaced; a loaded machine answers in milliseconds.
    private let answerSeconds: Int
    private let state = Mutex(State())

    init(helperPath: String, answerSeconds: Int = 10) {
        self.helperPath = helperPath
        self.answerSeconds = answerSeconds
    }

    deinit {
        state.withLock { Self.stop(&$0) }
    }

    /// What became of a request.
    enum Outcome: Equatable {
        case forked(pid_t)
        /// Nothing was made: the caller spawns the launcher itself.
        case notForked
        /// The request reached a server that did not answer (errno): a launcher with these
        /// descriptors may exist, so the caller must not start a second one on them.
        case unanswered(Int32)
    }

    /// A launcher with descriptor table `fds` (as `fb_spawn` takes it) and `argv`.
    func spawn(argv: [String], fds: [Int32]) -> Outcome {
        var bytes: [CChar] = []
        for argument in argv {
            bytes += argument.utf8CString
        }
        return state.withLock { state -> Outcome in
            if state.socket < 0 {
                guard state.failures < Self.maxFailures, start(&state) else { return .notForked }
            }
            var pid: pid_t = 0
            var delivered: Int32 = 0
            let answer = fds.withUnsafeBufferPointer { table in
                bytes.withUnsafeBufferPointer {
                    fb_server_request(
                        state.socket, table.baseAddress, Int32(table.count), $0.baseAddress, $0.count, &pid,
                        &delivered)
                }
            }
            if answer == 0 {
                state.forked += 1
                return .forked(pid)
            }
            if answer > 0 { return .notForked }
            // Gone, silent or out of protocol: let it go; the next request starts another.
            state.failures += 1
            Self.stop(&state)
            return delivered != 0 ? .unanswered(-answer) : .notForked
        }
    }

    /// The running server's pid (nil when none runs), and how many launchers it made: for tests
    /// and reports.
    var status: (pid: pid_t?, forked: Int, failures: Int) {
        state.withLock { ($0.socket >= 0 ? $0.pid : nil, $0.forked, $0.failures) }
    }

    private func start(_ state: inout State) -> Bool {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            state.failures += 1
            return false
        }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devNull >= 0 else {
            close(pair[0])
            close(pair[1])
            state.failures += 1
            return false
        }
        let table: [Int32] = [devNull, devNull, devNull, pair[1]]
        let (pid, err) = ProcessSpawn.start(helperPath, argv: [helperPath, "--serve", "3"], table: table)
        close(pair[1])
        close(devNull)
        guard err == 0 else {
            close(pair[0])
            state.failures += 1
            return false
        }
        var timeout = timeval(tv_sec: answerSeconds, tv_usec: 0)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            _ = setsockopt(pair[0], SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        state.socket = pair[0]
        state.pid = pid
        return true
    }

    /// Ends the server now and reaps it before returning: its sandbox's cgroups are removed next,
    /// and on v2 the supervisor's own cgroup may only be given back once the server left it.
    func shutdown() {
        state.withLock { Self.stop(&$0, wait: true) }
    }

    /// Closes the socket and ends the server (its launchers are not its children: they go on),
    /// reaped off the caller's thread unless `wait`. Unreaped, its pid cannot have been reused.
    private static func stop(_ state: inout State, wait: Bool = false) {
        guard state.socket >= 0 else { return }
        close(state.socket)
        let pid = state.pid
        kill(pid, SIGKILL)
        state.socket = -1
        state.pid = 0
        let reap: @Sendable () -> Void = {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        if wait || !DetachedThread.start(reap) { reap() }
    }
}
