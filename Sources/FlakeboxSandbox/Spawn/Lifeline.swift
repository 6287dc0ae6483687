import CFlakeboxSpawn

/// A pipe whose write end this process holds until it dies: every helper gets the read end and
/// sees POLLHUP when the supervisor is gone, however it died, and then kills its sandbox.
/// (PR_SET_PDEATHSIG alone would fire when the spawning *thread* exits, and Swift's pool
/// threads come and go; the pipe is tied to the process.)
struct Lifeline: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    /// Created on first use; both ends are close-on-exec, and only the read end is ever handed to
    /// a child (explicitly, through the spawn's descriptor table).
    static let shared: Lifeline? = {
        var fds: [Int32] = [-1, -1]
        guard fb_pipe_cloexec(&fds, 0) == 0 else { return nil }
        return Lifeline(readEnd: fds[0], writeEnd: fds[1])
    }()
}
