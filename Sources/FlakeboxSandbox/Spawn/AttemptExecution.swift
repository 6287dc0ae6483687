import CFlakeboxSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Everything one attempt's supervision needs, decided before the helper starts.
struct ExecutionPlan: Sendable {
    var helperPath: String
    /// Forks the launcher rather than executing it, when set (see `LauncherServer`).
    var server: LauncherServer? = nil
    var arguments: [String]
    var seccompFD: Int32?
    var timeoutSeconds: Double
    var outputCapture: Int
    var outputLimit: UInt64
    var tier: IsolationTier
    var cgroup: AttemptCgroup?
    var observer: OutputObserver?
    /// A launcher already started and holding (then `arguments` are only the rest of them).
    var warm: SpawnedHelper?
    /// The result may be reported once the command's exit record is in and its output pipes are
    /// at end of file (no process of the sandbox writes them any more); the launcher is reaped,
    /// and `afterReap` run, on a thread of `teardowns` (needs the cgroup: the CPU time is its).
    var endsAtExitRecord = false
    var teardowns: LauncherTeardowns?
    /// Runs once the launcher is gone (retires the attempt's cgroup), whichever way the attempt
    /// ended; when set, the caller leaves that to it.
    var afterReap: (@Sendable () -> Void)?
}

/// Why the supervisor ended an attempt early.
enum KillReason: Sendable {
    case timeout, outputLimit, cancelled
}

/// Runs one helper to completion on a thread of its own: spawns it with an exact descriptor table
/// and an empty environment, captures output within bounds, enforces the wall-clock limit, and
/// turns what the helper reported into an `AttemptResult`.
enum AttemptExecution {
    static func run(_ plan: ExecutionPlan) async -> AttemptResult {
        let cancel = CancelSignal()
        defer { cancel.close() }
        if Task.isCancelled { cancel.fire() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<AttemptResult, Never>) in
                // A dedicated thread: the loop blocks in poll(2), which must not starve the
                // cooperative pool that other attempts and the caller share.
                let started = DetachedThread.start {
                    continuation.resume(returning: execute(plan, cancel: cancel))
                }
                if !started {
                    plan.afterReap?()
                    continuation.resume(returning: failure("thread", errno, start: monotonicSeconds(), tier: plan.tier))
                }
            }
        } onCancel: {
            cancel.fire()
        }
    }

    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private static func makeArgumentsMemfd(_ arguments: [String]) -> Int32 {
        let fd = fb_memfd_create("flakebox-plan")
        guard fd >= 0 else { return -1 }
        var bytes: [UInt8] = []
        for argument in arguments {
            bytes += Array(argument.utf8)
            bytes.append(0)
        }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                close(fd)
                return -1
            }
            offset += n
        }
        return fd
    }

    private static func failure(
        _ stage: String, _ err: Int32, start: Double, tier: IsolationTier
    ) -> AttemptResult {
        AttemptResult(
            status: .sandboxError, exitCode: nil, signal: nil,
            setupFailure: .init(stage: stage, errno: err), wallSeconds: monotonicSeconds() - start, cpuSeconds: nil,
            peakMemoryBytes: nil, stdout: CapturedOutput(head: [], tail: [], totalBytes: 0),
            stderr: CapturedOutput(head: [], tail: [], totalBytes: 0), tier: tier)
    }

    /// Starts the launcher. With `hold`, it joins its cgroups and then waits for the rest of its
    /// arguments on `holdFD` (see `WarmLaunchers`).
    static func spawn(
        helperPath: String, arguments: [String], seccompFD: Int32?, hold: Bool, server: LauncherServer? = nil
    ) -> Result<SpawnedHelper, AttemptResult.SetupFailure> {
        guard let lifeline = Lifeline.shared else { return .failure(.init(stage: "lifeline", errno: errno)) }
        // stdout, stderr, report, artifacts, hold.
        var pipes: [[Int32]] = []
        for _ in 0..<5 {
            var pair: [Int32] = [-1, -1]
            guard fb_pipe_cloexec(&pair, 0) == 0 else {
                let e = errno
                for fd in pipes.joined() { close(fd) }
                return .failure(.init(stage: "pipe", errno: e))
            }
            pipes.append(pair)
        }
        let (outPipe, errPipe, reportPipe, artifactPipe, holdPipe) = (pipes[0], pipes[1], pipes[2], pipes[3], pipes[4])
        let argsFD = makeArgumentsMemfd(arguments + (hold ? ["--hold-fd", "\(HelperArguments.holdFD)"] : []))
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        // The helper's descriptor table, exactly: 0 /dev/null (never a tty), 1-2 capture pipes,
        // 3 report, 4 lifeline, 5 seccomp, 6 the plan, 7 artifacts, 8 hold. Everything else is closed.
        let table: [Int32] = [
            devNull, outPipe[1], errPipe[1], reportPipe[1], lifeline.readEnd, seccompFD ?? -1, argsFD,
            artifactPipe[1], hold ? holdPipe[0] : -1,
        ]
        let argv = [helperPath, "--args", "\(HelperArguments.argsFD)"]
        var pid: pid_t = 0
        var spawnError: Int32 = 0
        var stage = "spawn"
        let outcome = argsFD >= 0 && devNull >= 0 ? server?.spawn(argv: argv, fds: table) : nil
        if case .forked(let forked) = outcome {
            pid = forked
        } else if case .unanswered(let err) = outcome {
            // A launcher may hold these descriptors already: not a second one on them.
            (spawnError, stage) = (err, "launcher-server")
        } else {
            (pid, spawnError) = ProcessSpawn.start(helperPath, argv: argv, table: table)
        }
        for fd in [outPipe[1], errPipe[1], reportPipe[1], artifactPipe[1], holdPipe[0], argsFD, devNull] where fd >= 0 {
            close(fd)
        }
        if !hold { close(holdPipe[1]) }
        if spawnError != 0 || argsFD < 0 || devNull < 0 {
            for fd in [outPipe[0], errPipe[0], reportPipe[0], artifactPipe[0]] { close(fd) }
            if hold { close(holdPipe[1]) }
            stage = spawnError != 0 ? stage : argsFD < 0 ? "plan-memfd" : "open-devnull"
            return .failure(.init(stage: stage, errno: spawnError != 0 ? spawnError : errno))
        }
        for fd in [outPipe[0], errPipe[0], reportPipe[0], artifactPipe[0]] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        return .success(
            SpawnedHelper(
                pid: pid, stdoutFD: outPipe[0], stderrFD: errPipe[0], reportFD: reportPipe[0],
                artifactFD: artifactPipe[0], holdFD: hold ? holdPipe[1] : -1))
    }

    static func execute(_ plan: ExecutionPlan, cancel: CancelSignal) -> AttemptResult {
        let start = monotonicSeconds()
        var handedOff = false
        defer { if !handedOff { plan.afterReap?() } }
        let helper: SpawnedHelper
        if let warm = plan.warm {
            // Release the held launcher: the rest of its arguments, then end of file.
            var bytes: [UInt8] = []
            for argument in plan.arguments {
                bytes += Array(argument.utf8)
                bytes.append(0)
            }
            var offset = 0
            var err: Int32 = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { write(warm.holdFD, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 {
                    err = errno
                    break
                }
                offset += n
            }
            close(warm.holdFD)
            if err != 0 {
                warm.discard()
                return failure("hold", err, start: start, tier: plan.tier)
            }
            helper = warm
        } else {
            switch spawn(
                helperPath: plan.helperPath, arguments: plan.arguments, seccompFD: plan.seccompFD, hold: false,
                server: plan.server)
            {
            case .success(let spawned): helper = spawned
            case .failure(let failure):
                return Self.failure(failure.stage, failure.errno, start: start, tier: plan.tier)
            }
        }
        let (pid, outPipe, errPipe, reportPipe, artifactPipe) = (
            helper.pid, [helper.stdoutFD], [helper.stderrFD], [helper.reportFD], [helper.artifactFD]
        )

        var loop = SupervisionLoop(
            pid: pid, pidfd: fb_pidfd_open(pid), stdoutFD: outPipe[0], stderrFD: errPipe[0], reportFD: reportPipe[0],
            artifactFD: artifactPipe[0], cancelFD: cancel.readEnd, plan: plan, start: start)
        loop.run()
        // Read before the teardown is handed off: its end retires (removes) the cgroup, which on
        // a quick end raced this read and lost an OOM kill's record (a memory bomb reported as
        // exit 137). The command has exited, so its figures are final.
        let stats = plan.cgroup?.statistics()
        if loop.handedOff, let teardowns = plan.teardowns {
            // The command and its output are done; PID 1 is ending the rest (the cgroup's
            // retirement kills whatever it has not) off the attempt's path.
            teardowns.reap(pid: pid, pidfd: loop.pidfd, then: plan.afterReap)
            handedOff = true
        }

        let wall = monotonicSeconds() - start
        var cpu =
            Double(loop.usage.ru_utime.tv_sec) + Double(loop.usage.ru_utime.tv_usec) / 1e6
            + Double(loop.usage.ru_stime.tv_sec) + Double(loop.usage.ru_stime.tv_usec) / 1e6
        // Not reaped yet after an early end: no rusage (the cgroup has the figures).
        var peak: UInt64? = handedOff ? nil : UInt64(max(loop.usage.ru_maxrss, 0)) * 1024
        var oomKills = 0
        var memoryLimitHits: Int?
        let report = HelperReport(parsing: loop.reportText)
        if let stats {
            // The test's CPU time: what the cgroup counted after the launcher's cpu-base. A
            // pre-started launcher builds the sandbox inside the cgroup (~2 ms of CPU here), which
            // made a Python start look 1.35x slower inside than out (issue 17).
            if let ns = stats.cpuTimeNanoseconds { cpu = Double(ns - min(ns, report.cpuBaseNanoseconds ?? 0)) / 1e9 }
            if let bytes = stats.peakMemoryBytes { peak = bytes }
            oomKills = stats.oomKills ?? 0
            memoryLimitHits = stats.memoryLimitHits
        }
        let outcome = AttemptOutcome.classify(
            report: report, killReason: loop.killReason, oomKills: oomKills, memoryLimitHits: memoryLimitHits)
        return AttemptResult(
            status: outcome.status, exitCode: outcome.exitCode, signal: outcome.signal,
            setupFailure: outcome.setupFailure, wallSeconds: wall, cpuSeconds: cpu, peakMemoryBytes: peak,
            stdout: loop.stdout.finish(), stderr: loop.stderr.finish(), tier: plan.tier,
            artifacts: Artifact.parse(stream: loop.artifactBytes))
    }
}

/// The poll loop of one attempt: output, reports, the helper's exit, the deadline, cancellation.
struct SupervisionLoop {
    let pid: pid_t
    let pidfd: Int32
    var stdoutFD: Int32
    var stderrFD: Int32
    var reportFD: Int32
    var artifactFD: Int32
    let cancelFD: Int32
    let plan: ExecutionPlan
    let start: Double

    var stdout: OutputCapture
    var stderr: OutputCapture
    var reportText = ""
    /// The launcher sends at most 16 MiB of files plus their headers.
    var artifactBytes: [UInt8] = []
    var killReason: KillReason?
    var usage = rusage()
    /// The attempt ended at the command's exit record (`ExecutionPlan.endsAtExitRecord`): the
    /// launcher is still to be reaped, and `pidfd` still open.
    private(set) var handedOff = false
    private var sawExitRecord = false
    private var exited = false
    private var escalateAt: Double?
    private var drainUntil: Double?

    init(
        pid: pid_t, pidfd: Int32, stdoutFD: Int32, stderrFD: Int32, reportFD: Int32, artifactFD: Int32,
        cancelFD: Int32, plan: ExecutionPlan, start: Double
    ) {
        self.pid = pid
        self.pidfd = pidfd
        self.stdoutFD = stdoutFD
        self.stderrFD = stderrFD
        self.reportFD = reportFD
        self.artifactFD = artifactFD
        self.cancelFD = cancelFD
        self.plan = plan
        self.start = start
        stdout = OutputCapture(capacity: plan.outputCapture)
        stderr = OutputCapture(capacity: plan.outputCapture)
    }

    private mutating func kill(_ reason: KillReason) {
        guard killReason == nil, !exited else { return }
        killReason = reason
        if plan.tier == .minimal {
            // Without a pid namespace only the helper knows the whole tree (it is the subreaper).
            _ = Glibc.kill(pid, SIGTERM)
            escalateAt = AttemptExecution.monotonicSeconds() + 2
        } else {
            // PID 1 has PDEATHSIG=SIGKILL: the helper's death takes the whole namespace with it.
            _ = Glibc.kill(pid, SIGKILL)
        }
    }

    /// Reads what is available (at most 1 MiB, so a flood cannot hold the loop); returns false at
    /// end of file.
    private mutating func drain(_ fd: Int32, into which: Int) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        for _ in 0..<16 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                buffer.withUnsafeBytes { raw in
                    let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<n])
                    switch which {
                    case 1:
                        stdout.append(chunk)
                        plan.observer?(.stdout, Array(chunk))
                    case 2:
                        stderr.append(chunk)
                        plan.observer?(.stderr, Array(chunk))
                    case 6:
                        if artifactBytes.count < 17 << 20 { artifactBytes.append(contentsOf: chunk) }
                    default:
                        // Report lines are short; more than a few KiB means a broken helper.
                        if reportText.utf8.count < 16384 { reportText += String(decoding: chunk, as: UTF8.self) }
                        // A record is one write(2) of a short line: it arrives whole.
                        if plan.endsAtExitRecord && plan.teardowns != nil && !sawExitRecord {
                            sawExitRecord = HelperReport(parsing: reportText).exitStatus != nil
                        }
                    }
                }
                continue
            }
            if n == 0 { return false }
            if errno == EINTR { continue }
            return errno == EAGAIN || errno == EWOULDBLOCK
        }
        return true
    }

    private mutating func reap() {
        var status: Int32 = 0
        let r = wait4(pid, &status, WNOHANG, &usage)
        if r == pid || (r < 0 && errno == ECHILD) {
            exited = true
            drainUntil = AttemptExecution.monotonicSeconds() + 2
        }
    }

    mutating func run() {
        let deadline = start + plan.timeoutSeconds
        while true {
            let now = AttemptExecution.monotonicSeconds()
            if !exited {
                if now >= deadline { kill(.timeout) }
                if let at = escalateAt, now >= at {
                    _ = Glibc.kill(pid, SIGKILL)
                    escalateAt = nil
                }
            }
            let streamsOpen = stdoutFD >= 0 || stderrFD >= 0 || reportFD >= 0 || artifactFD >= 0
            if exited && (!streamsOpen || now >= (drainUntil ?? now)) { break }

            var wake = exited ? (drainUntil ?? now) : deadline
            if let at = escalateAt { wake = min(wake, at) }
            var timeoutMS = Int32(max(0, min((wake - now) * 1000 + 1, 60_000)))
            if pidfd < 0 && !exited { timeoutMS = min(timeoutMS, 10) }

            var fds: [pollfd] = []
            var roles: [Int] = []
            for (fd, role) in [(stdoutFD, 1), (stderrFD, 2), (reportFD, 3), (artifactFD, 6)] where fd >= 0 {
                fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                roles.append(role)
            }
            if pidfd >= 0 && !exited {
                fds.append(pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0))
                roles.append(4)
            }
            if cancelFD >= 0 && killReason == nil && !exited {
                fds.append(pollfd(fd: cancelFD, events: Int16(POLLIN), revents: 0))
                roles.append(5)
            }
            let ready = poll(&fds, nfds_t(fds.count), timeoutMS)
            if ready < 0 && errno != EINTR { break }
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                switch roles[index] {
                case 1:
                    if !drain(stdoutFD, into: 1) {
                        close(stdoutFD)
                        stdoutFD = -1
                    }
                case 2:
                    if !drain(stderrFD, into: 2) {
                        close(stderrFD)
                        stderrFD = -1
                    }
                case 3:
                    if !drain(reportFD, into: 3) {
                        close(reportFD)
                        reportFD = -1
                    }
                case 6:
                    if !drain(artifactFD, into: 6) {
                        close(artifactFD)
                        artifactFD = -1
                    }
                case 4: reap()
                default: kill(.cancelled)
                }
            }
            if pidfd < 0 && !exited { reap() }
            if stdout.totalBytes + stderr.totalBytes > plan.outputLimit { kill(.outputLimit) }
            if sawExitRecord && !exited && killReason == nil && pidfd >= 0 && stdoutFD < 0 && stderrFD < 0 {
                // PID 1 sent the artifacts before the exit record: what is left of them is in
                // the pipe now.
                if artifactFD >= 0 && !drain(artifactFD, into: 6) {
                    close(artifactFD)
                    artifactFD = -1
                }
                if reportFD >= 0 && !drain(reportFD, into: 3) {
                    close(reportFD)
                    reportFD = -1
                }
                handedOff = true
                break
            }
        }
        for fd in [stdoutFD, stderrFD, reportFD, artifactFD] where fd >= 0 { close(fd) }
        if handedOff { return }
        if pidfd >= 0 { close(pidfd) }
        if !exited {
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = wait4(pid, &status, 0, &usage)
        }
    }
}
