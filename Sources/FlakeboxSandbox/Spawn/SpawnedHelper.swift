#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A started launcher: its pid and the supervisor's ends of its pipes.
struct SpawnedHelper: Sendable {
    var pid: pid_t
    var stdoutFD: Int32
    var stderrFD: Int32
    var reportFD: Int32
    var artifactFD: Int32
    /// Where a held launcher waits for the rest of its arguments; -1 once released.
    var holdFD: Int32

    /// Lets a held launcher go unused: end of file on its hold pipe makes it exit; it is reaped
    /// on a thread of its own.
    func discard() {
        if holdFD >= 0 { close(holdFD) }
        for fd in [stdoutFD, stderrFD, reportFD, artifactFD] where fd >= 0 { close(fd) }
        let pid = pid
        DetachedThread.start {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }
}

extension AttemptResult.SetupFailure: Error {}
