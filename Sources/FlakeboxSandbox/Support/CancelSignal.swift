import CFlakeboxSpawn
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Carries a task's cancellation to a thread blocked in poll(2) (an attempt's supervision, a
/// git fetch), as a byte on a pipe that thread watches. The write end is closed under the same
/// lock, so a late cancel never writes to a descriptor number that has since been reused.
public final class CancelSignal: Sendable {
    private let writeEnd: Mutex<Int32?>
    /// Readable once `fire()` has run; -1 if no pipe could be made (then only deadlines stop the work).
    public let readEnd: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        if fb_pipe_cloexec(&fds, 1) == 0 {
            readEnd = fds[0]
            writeEnd = Mutex(fds[1])
        } else {
            readEnd = -1
            writeEnd = Mutex(nil)
        }
    }

    public func fire() {
        writeEnd.withLock { fd in
            guard let fd else { return }
            var byte: UInt8 = 1
            _ = write(fd, &byte, 1)
        }
    }

    /// Whether `fire()` has run (without consuming the byte).
    public var isFired: Bool {
        guard readEnd >= 0 else { return false }
        var entry = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0
    }

    public func close() {
        writeEnd.withLock { fd in
            if let open = fd { _ = Glibc.close(open) }
            fd = nil
        }
        if readEnd >= 0 { _ = Glibc.close(readEnd) }
    }
}
