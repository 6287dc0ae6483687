#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Launchers of attempts whose results were reported before they exited (the command's exit
/// record and the end of its output came first): each is reaped on a thread of its own while
/// PID 1 ends the rest of the sandbox and the kernel tears its namespaces down. A launcher that
/// has not exited after a while is killed (its PID 1 dies with it: PDEATHSIG).
final class LauncherTeardowns: Sendable {
    /// How long a launcher may take to end after its command's exit record.
    static let graceSeconds: Int32 = 30
    private let background = BackgroundWork()

    /// Reaps `pid` (through `pidfd`, which this closes), then runs `then`.
    func reap(pid: pid_t, pidfd: Int32, then: (@Sendable () -> Void)?) {
        background.run {
            var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            var ready: Int32
            repeat { ready = poll(&entry, 1, Self.graceSeconds * 1000) } while ready < 0 && errno == EINTR
            if ready == 0 { _ = kill(pid, SIGKILL) }
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            close(pidfd)
            then?()
        }
    }

    /// Waits (up to a minute) until every teardown has finished: the sandbox's cgroups are
    /// removed after this.
    func wait() { background.wait() }
}
