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
        /// The read end of the pipe on which a launcher the server made but could not tell us of
        /// writes its pid (see `reapStrays`).
        var orphans: Int32 = -1
        /// The last launcher this server told us of: the only one whose gate may still be shut
        /// when the server dies (it answers one request at a time, opening the gate before the next).
        var lastTold: pid_t = 0
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
                state.lastTold = pid
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
        var orphans: [Int32] = [-1, -1]
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard devNull >= 0, fb_pipe_cloexec(&orphans, 0) == 0 else {
            for fd in pair + orphans + [devNull] where fd >= 0 { close(fd) }
            state.failures += 1
            return false
        }
        let table: [Int32] = [devNull, devNull, devNull, pair[1], orphans[1]]
        let (pid, err) = ProcessSpawn.start(helperPath, argv: [helperPath, "--serve", "3", "4"], table: table)
        for fd in [pair[1], orphans[1], devNull] { close(fd) }
        guard err == 0 else {
            close(pair[0])
            close(orphans[0])
            state.failures += 1
            return false
        }
        var timeout = timeval(tv_sec: answerSeconds, tv_usec: 0)
        for option in [SO_RCVTIMEO, SO_SNDTIMEO] {
            _ = setsockopt(pair[0], SOL_SOCKET, option, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
        state.socket = pair[0]
        state.pid = pid
        state.orphans = orphans[0]
        state.lastTold = 0
        return true
    }

    /// Ends the server now and reaps it before returning: its sandbox's cgroups are removed next,
    /// and on v2 the supervisor's own cgroup may only be given back once the server left it.
    func shutdown() {
        state.withLock { Self.stop(&$0, wait: true) }
    }

    /// Ends the server (its launchers are not its children: they go on) and reaps it, with the
    /// launchers it made that we were never told of (`reapStrays`), off the caller's thread unless
    /// `wait`. Unreaped, none of their pids can have been reused meanwhile.
    private static func stop(_ state: inout State, wait: Bool = false) {
        guard state.socket >= 0 else { return }
        let (socket, pid, orphans, lastTold) = (state.socket, state.pid, state.orphans, state.lastTold)
        kill(pid, SIGKILL)
        state.socket = -1
        state.pid = 0
        state.orphans = -1
        state.lastTold = 0
        let reap: @Sendable () -> Void = {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            reapStrays(socket: socket, orphans: orphans, lastTold: lastTold)
        }
        if wait || !DetachedThread.start(reap) { reap() }
    }

    /// After its server is gone: the launchers it made that no caller was told of, killed and
    /// reaped, so that none stays a zombie of this process. Those are answers still unread on
    /// `socket` (to requests their callers gave up on) and the pids written on `orphans` by
    /// launchers whose gate never opened, but for `lastTold`, whose caller reaps it. Closes both
    /// descriptors; returns the pids it reaped.
    @discardableResult
    static func reapStrays(socket: Int32, orphans: Int32, lastTold: pid_t) -> [pid_t] {
        var strays: [pid_t] = []
        var answer: Int32 = 0
        while recv(socket, &answer, MemoryLayout<Int32>.size, Int32(MSG_DONTWAIT)) == MemoryLayout<Int32>.size {
            if answer > 0 { strays.append(answer) }
        }
        close(socket)
        // End of file once the server and every launcher it made have let go of the pipe: a
        // launcher past its gate closed it first thing, one at a shut gate exits on writing.
        var pid: Int32 = 0
        while true {
            let n = read(orphans, &pid, MemoryLayout<Int32>.size)
            if n < 0 && errno == EINTR { continue }
            guard n == MemoryLayout<Int32>.size else { break }
            strays.append(pid)
        }
        close(orphans)
        var reaped: [pid_t] = []
        for stray in Set(strays) where stray != lastTold {
            kill(stray, SIGKILL)
            var status: Int32 = 0
            var r: pid_t
            repeat { r = waitpid(stray, &status, 0) } while r < 0 && errno == EINTR
            if r == stray { reaped.append(stray) }
        }
        return reaped
    }
}
