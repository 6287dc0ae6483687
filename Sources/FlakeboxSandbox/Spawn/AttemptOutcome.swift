import CFlakeboxSpawn

#if canImport(Glibc)
    import Glibc
#endif

/// Decides an attempt's one status from the facts, in order of precedence: the harness's own
/// failure first (never a test failure), then what the supervisor did (timeout, output limit,
/// cancel), then the kernel's OOM verdict, then the command's own exit.
struct AttemptOutcome: Equatable {
    var status: AttemptStatus
    var exitCode: Int32?
    var signal: Int32?
    var setupFailure: AttemptResult.SetupFailure?

    /// The stage of an attempt the OOM killer ended below its own limit.
    static let hostMemoryStage = "host-memory"

    /// - Parameter memoryLimitHits: how often the attempt reached its own memory limit (nil:
    ///   unknown). An OOM kill without one is the host's or the job budget's shortage: a harness
    ///   failure, never the test's.
    static func classify(report: HelperReport, killReason: KillReason?, oomKills: Int, memoryLimitHits: Int? = nil)
        -> AttemptOutcome
    {
        var exitCode: Int32?
        var signal: Int32?
        if let status = report.exitStatus {
            if fb_wifexited(status) != 0 { exitCode = fb_wexitstatus(status) }
            if fb_wifsignaled(status) != 0 { signal = fb_wtermsig(status) }
        }
        if let failure = report.setupFailure {
            return AttemptOutcome(status: .sandboxError, exitCode: exitCode, signal: signal, setupFailure: failure)
        }
        switch killReason {
        case .cancelled: return AttemptOutcome(status: .cancelled, exitCode: exitCode, signal: signal)
        case .timeout: return AttemptOutcome(status: .timeout, exitCode: exitCode, signal: signal)
        case .outputLimit: return AttemptOutcome(status: .outputLimit, exitCode: exitCode, signal: signal)
        case nil: break
        }
        if oomKills > 0 {
            if memoryLimitHits == 0 {
                return AttemptOutcome(
                    status: .sandboxError, exitCode: exitCode, signal: signal,
                    setupFailure: .init(stage: hostMemoryStage, errno: ENOMEM))
            }
            return AttemptOutcome(status: .oom, exitCode: exitCode, signal: signal)
        }
        if let code = exitCode {
            return AttemptOutcome(status: code == 0 ? .passed : .failed, exitCode: code, signal: nil)
        }
        if let signal { return AttemptOutcome(status: .signaled, exitCode: nil, signal: signal) }
        let stage =
            report.reaperStatus.map { "reaper ended without a status (wait status \($0))" }
            ?? "helper ended without a status"
        return AttemptOutcome(status: .sandboxError, setupFailure: .init(stage: stage, errno: 0))
    }
}
