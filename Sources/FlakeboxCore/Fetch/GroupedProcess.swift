import CFlakeboxSpawn
import FlakeboxSandbox

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs one host tool (git) to completion in a session of its own, so that it and everything it
/// starts can be killed at once: a wall-clock deadline, a cancellation pipe and an optional
/// periodic check (the size limit) each end the whole tree. Blocking: call it from a thread of
/// its own, never from the cooperative pool.
///
/// How the tree is killed: the tool is spawned (clean signal state, an exact descriptor table:
/// /dev/null, a stdout pipe, a stderr pipe; an explicit environment) as `setsid TOOL ARGS…`.
/// A freshly spawned child is never a process-group leader, so setsid(1) calls setsid(2) and
/// execs the tool in place: the tool's pid is also its session and process-group id, and every
/// process it forks (git's `remote-https`, `index-pack`, `upload-pack`, ssh) inherits that group.
/// `kill(-pid, SIGKILL)` then reaches all of them, grandchildren included, which a timeout(1)
/// wrapper or killing the pid alone would not. The group is also killed after a normal exit, to
/// remove anything left behind, and always while the leader is still an unreaped zombie, so the
/// group id cannot have been recycled. What escapes: a descendant that calls setsid/setpgid
/// itself (git does so only to daemonize `gc --auto`, which the fetcher turns off).
struct GroupedProcess {
    /// Why the supervisor ended the process early.
    enum Stop: Sendable, Equatable {
        case deadline, cancelled, watchdog
    }

    /// A check run every `interval` seconds or more while the process runs (stretched to ten
    /// times its own duration, so a slow check never dominates); returning true kills the tree.
    struct Watchdog {
        var interval: Double
        var shouldStop: () -> Bool
    }

    struct Outcome: Sendable {
        /// The exit code, or 128 + the signal number.
        var status: Int32
        /// The first `stdoutLimit` bytes.
        var stdout: [UInt8]
        /// The last `stderrLimit` bytes.
        var stderr: [UInt8]
        var stop: Stop?
        /// The session and process-group id (the tool's pid).
        var processGroup: pid_t
    }

    /// The tool and its arguments; `argv[0]` an absolute path.
    var argv: [String]
    /// Exactly the environment the tool gets, `NAME=value` each.
    var environment: [String]
    /// Monotonic seconds (`GroupedProcess.now()`).
    var deadline: Double
    var cancelFD: Int32 = -1
    var watchdog: Watchdog?
    var stdoutLimit = 64 << 10
    var stderrLimit = 16 << 10

    /// setsid(1) from util-linux (essential on Debian and Ubuntu).
    static let setsidPath: String? = ["/usr/bin/setsid", "/bin/setsid"].first { access($0, X_OK) == 0 }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Spawns, supervises and reaps the process; fails only if it could not be started.
    func run() throws(FetchError) -> Outcome {
        guard let setsid = Self.setsidPath else { throw FetchError(.system, "setsid(1) not found") }
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        // Blocking pipes (a non-blocking write end would make the tool's writes fail with EAGAIN
        // whenever the pipe is full); only the supervisor's read ends are made non-blocking.
        guard fb_pipe_cloexec(&outPipe, 0) == 0 else { throw Self.systemError("pipe", errno) }
        guard fb_pipe_cloexec(&errPipe, 0) == 0 else {
            let err = errno
            for fd in outPipe { close(fd) }
            throw Self.systemError("pipe", err)
        }
        for fd in [outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        let table: [Int32] = [devNull, outPipe[1], errPipe[1]]
        let (pid, spawnError) =
            devNull < 0
            ? (0, errno) : ProcessSpawn.start(setsid, argv: [setsid] + argv, environment: environment, table: table)
        for fd in [devNull, outPipe[1], errPipe[1]] where fd >= 0 { close(fd) }
        guard spawnError == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw Self.systemError("spawn \(argv.first ?? "")", spawnError)
        }
        var loop = Supervision(process: self, pid: pid, stdoutFD: outPipe[0], stderrFD: errPipe[0])
        return loop.run()
    }

    private static func systemError(_ call: String, _ err: Int32) -> FetchError {
        FetchError(.system, "\(call): \(String(cString: strerror(err)))")
    }
}

/// The poll loop of one grouped process: output, exit, deadline, cancellation, watchdog.
private struct Supervision {
    let process: GroupedProcess
    let pid: pid_t
    let pidfd: Int32
    var stdoutFD: Int32
    var stderrFD: Int32
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []
    var stop: GroupedProcess.Stop?

    init(process: GroupedProcess, pid: pid_t, stdoutFD: Int32, stderrFD: Int32) {
        self.process = process
        self.pid = pid
        self.pidfd = fb_pidfd_open(pid)
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
    }

    /// SIGKILL to the whole group; also to the pid itself, in case setsid(1) has not yet made it
    /// a group leader (then nothing else exists yet).
    private func killTree() {
        _ = kill(-pid, SIGKILL)
        _ = kill(pid, SIGKILL)
    }

    private mutating func halt(_ reason: GroupedProcess.Stop) {
        guard stop == nil else { return }
        stop = reason
        killTree()
    }

    /// Whether the leader has exited, without reaping it (its pid stays reserved).
    private func hasExited() -> Bool {
        var info = siginfo_t()
        let r = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        if r < 0 { return errno != EINTR }
        return info.si_signo == SIGCHLD
    }

    /// Reads what is there; false at end of file (or on an error other than "try again").
    private mutating func drain(_ fd: Int32, isStdout: Bool) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16384)
        for _ in 0..<64 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                if isStdout {
                    let room = process.stdoutLimit - stdout.count
                    if room > 0 { stdout += buffer[0..<min(n, room)] }
                } else {
                    stderr += buffer[0..<n]
                    if stderr.count > 2 * process.stderrLimit { stderr.removeFirst(stderr.count - process.stderrLimit) }
                }
                continue
            }
            if n == 0 { return false }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK
        }
        return true
    }

    private mutating func pollOnce(timeoutMS: Int32, watchCancel: Bool) {
        var fds: [pollfd] = []
        var roles: [Int] = []
        for (fd, role) in [(stdoutFD, 1), (stderrFD, 2)] where fd >= 0 {
            fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            roles.append(role)
        }
        if pidfd >= 0 {
            fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0))
            roles.append(3)
        }
        if watchCancel && process.cancelFD >= 0 {
            fds.append(pollfd(fd: process.cancelFD, events: Int16(POLLIN), revents: 0))
            roles.append(4)
        }
        let ready = poll(&fds, nfds_t(fds.count), timeoutMS)
        guard ready > 0 else { return }
        for (index, entry) in fds.enumerated() where entry.revents != 0 {
            switch roles[index] {
            case 1:
                if !drain(stdoutFD, isStdout: true) {
                    close(stdoutFD)
                    stdoutFD = -1
                }
            case 2:
                if !drain(stderrFD, isStdout: false) {
                    close(stderrFD)
                    stderrFD = -1
                }
            case 4: halt(.cancelled)
            default: break  // the pidfd: hasExited() decides
            }
        }
    }

    mutating func run() -> GroupedProcess.Outcome {
        var nextCheck = GroupedProcess.now() + (process.watchdog?.interval ?? .infinity)
        while !hasExited() {
            let now = GroupedProcess.now()
            if stop == nil && now >= process.deadline { halt(.deadline) }
            if stop == nil, let watchdog = process.watchdog, now >= nextCheck {
                let began = GroupedProcess.now()
                if watchdog.shouldStop() { halt(.watchdog) }
                let took = GroupedProcess.now() - began
                nextCheck = GroupedProcess.now() + max(watchdog.interval, took * 10)
            }
            // Killed already: only wait for the exit. Otherwise sleep until the next deadline,
            // at most a second (and 20 ms when no pidfd can say the process exited).
            let wake = stop == nil ? min(process.deadline, nextCheck) : now + 0.05
            var timeoutMS = Int32(max(0, min((wake - now) * 1000 + 1, 1000)))
            if pidfd < 0 { timeoutMS = min(timeoutMS, 20) }
            pollOnce(timeoutMS: timeoutMS, watchCancel: stop == nil)
        }
        // The leader is a zombie, so its pid (the group id) cannot have been reused: kill any
        // straggler in the group, then reap.
        _ = kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if pidfd >= 0 { close(pidfd) }
        // Whatever is still in the pipes; the writers are dead, so end of file comes at once
        // unless a process escaped the group (then give up after a second).
        let drainUntil = GroupedProcess.now() + 1
        while (stdoutFD >= 0 || stderrFD >= 0) && GroupedProcess.now() < drainUntil {
            var fds: [pollfd] = []
            for fd in [stdoutFD, stderrFD] where fd >= 0 {
                fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
            }
            if poll(&fds, nfds_t(fds.count), 100) <= 0 { continue }
            if stdoutFD >= 0 && !drain(stdoutFD, isStdout: true) {
                close(stdoutFD)
                stdoutFD = -1
            }
            if stderrFD >= 0 && !drain(stderrFD, isStdout: false) {
                close(stderrFD)
                stderrFD = -1
            }
        }
        for fd in [stdoutFD, stderrFD] where fd >= 0 { close(fd) }
        if stderr.count > process.stderrLimit { stderr.removeFirst(stderr.count - process.stderrLimit) }
        let code = fb_wifexited(status) != 0 ? fb_wexitstatus(status) : 128 + fb_wtermsig(status)
        return GroupedProcess.Outcome(status: code, stdout: stdout, stderr: stderr, stop: stop, processGroup: pid)
    }
}
