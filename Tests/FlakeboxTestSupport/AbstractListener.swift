import FlakeboxSandbox
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A listening unix socket in the abstract namespace of the host's network namespace.
public final class AbstractListener {
    public let fd: Int32
    public let name = "flakebox-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"

    public init() throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(name.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw[0] = 0
            for (k, byte) in bytes.enumerated() { raw[k + 1] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 4) == 0 else { throw SandboxError(.system, "abstract listen: \(errno)") }
    }

    deinit { close(fd) }
}
