import CFlakeboxSpawn
import Foundation
import Testing

@testable import FlakeboxSandbox

#if canImport(Glibc)
    import Glibc
#endif

@Suite(
    "Launcher server: launchers forked from a resident one",
    .enabled(if: TestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct LauncherServerTests {
    /// Starts one launcher for `/bin/sh -c script` (through `server` when given), waits for it,
    /// and returns its exit status and report lines. A successful `waitpid` proves that the
    /// launcher is this process's child, whoever started it.
    private func launch(
        _ sandbox: Sandbox, server: LauncherServer?, script: String
    ) throws -> (status: Int32, report: [String], cmdline: String) {
        let ws = try TestWorkspace()
        let arguments = sandbox.helperArguments.arguments(
            for: AttemptRequest(command: ["/bin/sh", "-c", script], workspace: ws.path), workspaceSource: ws.path,
            cgroupProcs: [], cpuUsage: nil, environment: ["PATH": "/usr/bin:/bin"])
        let spawned = AttemptExecution.spawn(
            helperPath: sandbox.helperPath, arguments: arguments, seccompFD: sandbox.program?.fd, hold: false,
            server: server)
        guard case .success(let helper) = spawned else { throw SandboxError(.system, "spawn failed: \(spawned)") }
        // Read while it runs (the script sleeps first): the launcher's own command line.
        let cmdline = String(
            decoding: (FileManager.default.contents(atPath: "/proc/\(helper.pid)/cmdline") ?? Data()).map {
                $0 == 0 ? 0x20 : $0
            }, as: UTF8.self)
        let (waited, status, lines) = helper.finish()
        #expect(waited == helper.pid, "the launcher must be the supervisor's child (errno \(errno))")
        // All but the host pid of its PID 1.
        return (status, lines.filter { !$0.hasPrefix("init ") }, cmdline)
    }

    @Test("a forked launcher is the supervisor's child and reports as an executed one does")
    func forkedLikeSpawned() throws {
        let sandbox = try Sandbox(policy: TestMachine.policy())
        let server = LauncherServer(helperPath: sandbox.helperPath)
        for script in ["sleep 0.2; exit 3", "sleep 0.2; kill -TERM $$"] {
            let forked = try launch(sandbox, server: server, script: script)
            let spawned = try launch(sandbox, server: nil, script: script)
            #expect(forked.status == spawned.status)
            #expect(forked.report == spawned.report && !forked.report.isEmpty, "\(forked.report) \(spawned.report)")
            #expect(forked.cmdline.contains("--serve 3"), "forked: \(forked.cmdline)")
        }
        #expect(server.status.forked == 2 && server.status.failures == 0)
    }

    @Test("a server that died is replaced at the next request; none is left behind")
    func replacedAfterDeath() throws {
        let sandbox = try Sandbox(policy: TestMachine.policy())
        var server: LauncherServer? = LauncherServer(helperPath: sandbox.helperPath)
        _ = try launch(sandbox, server: server, script: "exit 0")
        let first = try #require(server?.status.pid)
        kill(first, SIGKILL)
        // Dead, its socket closed (a request racing its exit would reach it and go unanswered,
        // which fails that launch instead: the next test).
        var info = siginfo_t()
        while waitid(P_PID, id_t(first), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        // The request that finds it dead is spawned the old way; the one after starts a new server.
        for _ in 0..<2 {
            let result = try launch(sandbox, server: server, script: "exit 5")
            #expect(result.report.contains("exit 1280"), "\(result.report)")
        }
        let second = try #require(server?.status.pid)
        #expect(second != first)
        #expect(server?.status.failures == 1)
        server = nil
        // Let go with its sandbox: end of file on its socket; reaped off the caller's thread.
        var gone = false
        for _ in 0..<100 where !gone {
            gone = kill(second, 0) != 0
            if !gone { usleep(20_000) }
        }
        #expect(gone, "server \(second) still runs after its owner went")
    }

    @Test(
        "a server that stops answering fails that one launch after its timeout (never two launchers on one table), then is replaced",
        .timeLimit(.minutes(1)))
    func replacedWhenStopped() throws {
        let sandbox = try Sandbox(policy: TestMachine.policy())
        let server = LauncherServer(helperPath: sandbox.helperPath, answerSeconds: 1)
        _ = try launch(sandbox, server: server, script: "exit 0")
        let first = try #require(server.status.pid)
        kill(first, SIGSTOP)
        let ws = try TestWorkspace()
        let arguments = sandbox.helperArguments.arguments(
            for: AttemptRequest(command: ["/bin/true"], workspace: ws.path), workspaceSource: ws.path,
            cgroupProcs: [], cpuUsage: nil, environment: ["PATH": "/usr/bin:/bin"])
        let start = ContinuousClock.now
        let spawned = AttemptExecution.spawn(
            helperPath: sandbox.helperPath, arguments: arguments, seccompFD: sandbox.program?.fd, hold: false,
            server: server)
        #expect(ContinuousClock.now - start >= .seconds(1))
        guard case .failure(let failure) = spawned else {
            Issue.record("a request the server never answered must not start a launcher: \(spawned)")
            return
        }
        #expect(failure.stage == "launcher-server" && failure.errno == EAGAIN, "\(failure)")
        #expect(server.status.failures == 1 && server.status.pid == nil && server.status.forked == 1)
        // Killed (SIGKILL ends a stopped process too) and reaped.
        var gone = false
        for _ in 0..<100 where !gone {
            gone = kill(first, 0) != 0
            if !gone { usleep(20_000) }
        }
        #expect(gone, "stopped server \(first) left behind")
        let next = try launch(sandbox, server: server, script: "sleep 0.2; exit 6")
        #expect(next.report.contains("exit 1536"), "\(next.report)")
        #expect(next.cmdline.contains("--serve 3"), "\(next.cmdline)")
        #expect(server.status.forked == 2)
    }

    @Test(
        "a launcher whose pid could not be told to the supervisor never runs (the gate), and is reaped from its pid on the orphans pipe",
        .timeLimit(.minutes(1)))
    func gateHoldsUntold() throws {
        let helper = try #require(TestMachine.helper)
        var pair: [Int32] = [-1, -1]
        try #require(socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0)
        var orphans: [Int32] = [-1, -1]
        try #require(fb_pipe_cloexec(&orphans, 0) == 0)
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devNull) }
        let (server, err) = ProcessSpawn.start(
            helper, argv: [helper, "--serve", "3", "4"], table: [devNull, devNull, devNull, pair[1], orphans[1]])
        close(pair[1])
        close(orphans[1])
        try #require(err == 0)
        // The request reaches a stopped server; its answer can no longer go out when it runs on.
        kill(server, SIGSTOP)
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(pair[0], SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var output: [Int32] = [-1, -1]
        try #require(fb_pipe_cloexec(&output, 0) == 0)
        // Without the gate the launcher would print its usage on slot 1.
        let launcher: [Int32] = [devNull, output[1], devNull]
        var bytes: [CChar] = []
        for argument in [helper, "--help"] { bytes += argument.utf8CString }
        var pid: pid_t = 0
        var delivered: Int32 = 0
        let answer = launcher.withUnsafeBufferPointer { fds in
            bytes.withUnsafeBufferPointer {
                fb_server_request(pair[0], fds.baseAddress, 3, $0.baseAddress, $0.count, &pid, &delivered)
            }
        }
        #expect(answer == -EAGAIN && delivered == 1, "answer \(answer), delivered \(delivered)")
        close(pair[0])
        close(output[1])
        kill(server, SIGCONT)
        // End of file once the server and the untold launcher have let go of the pipe.
        var printed: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(output[0], &buffer, buffer.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            printed += buffer[0..<n]
        }
        close(output[0])
        let ran = !printed.isEmpty
        #expect(!ran, "the untold launcher ran: \(String(decoding: printed, as: UTF8.self).prefix(80))")
        var status: Int32 = 0
        #expect(waitpid(server, &status, 0) == server, "the server ends at its socket's end of file")
        // The untold launcher is this process's child (CLONE_PARENT), so only we can reap it: left
        // a zombie, it would be what any wait for any child finds first, for ever (swift-testing's
        // exit tests wait so, and hung behind one). It told its pid on the orphans pipe.
        let reaped = LauncherServer.reapStrays(socket: -1, orphans: orphans[0], lastTold: 0)
        #expect(reaped.count == 1, "the untold launcher's pid on the orphans pipe, reaped: \(reaped)")
    }

    @Test("attempts run through their sandbox's server by default, and without one when turned off")
    func sandboxUsesServer() async throws {
        let sandbox = try Sandbox(policy: TestMachine.policy())
        let result = try await sandbox.sh("tr '\\0' ' ' < /proc/1/cmdline")
        #expect(result.status == .passed, "\(result.summary)")
        #expect(result.out.contains("flakebox-sandbox --serve 3 4"), "\(result.summary)")
        #expect((sandbox.server?.status.forked ?? 0) >= 1)

        var options = Sandbox.Options()
        options.launcherServer = false
        let plain = try Sandbox(policy: TestMachine.policy(), options: options)
        let other = try await plain.sh("tr '\\0' ' ' < /proc/1/cmdline")
        #expect(other.out.contains("flakebox-sandbox --args 6"), "\(other.summary)")
        #expect(plain.server == nil)
    }
}
