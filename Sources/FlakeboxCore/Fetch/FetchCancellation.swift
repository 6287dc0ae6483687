import CFlakeboxSpawn
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Carries a task's cancellation to the thread that runs git, as a byte on a pipe its poll loop
/// watches. The write end is closed under the same lock, so a late cancel never writes to a
/// descriptor number that has since been reused.
final class FetchCancellation: Sendable {
    private let writeEnd: Mutex<Int32?>
    /// Becomes readable once `fire()` has run; -1 if no pipe could be made (then only the
    /// deadline stops git).
    let readEnd: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        if fb_pipe_cloexec(&fds, 1) == 0 {
            readEnd = fds[0]
            writeEnd = Mutex(fds[1])
        } else {
            readEnd = -1
            writeEnd = Mutex(nil)
        }
    }

    func fire() {
        writeEnd.withLock { fd in
            guard let fd else { return }
            var byte: UInt8 = 1
            _ = write(fd, &byte, 1)
        }
    }

    /// Whether `fire()` has run (without consuming the byte).
    var isFired: Bool {
        guard readEnd >= 0 else { return false }
        var entry = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }

    func close() {
        writeEnd.withLock { fd in
            if let open = fd { _ = Glibc.close(open) }
            fd = nil
        }
        if readEnd >= 0 { _ = Glibc.close(readEnd) }
    }
}
