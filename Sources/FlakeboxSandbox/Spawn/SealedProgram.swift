import CFlakeboxSpawn

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Compiled seccomp BPF in a sealed memfd: written once per policy, read (with pread, from
/// offset 0) by every helper. Sealing makes the shared bytes immutable.
final class SealedProgram: Sendable {
    let fd: Int32
    let byteCount: Int

    init(bytes: [UInt8]) throws(SandboxError) {
        let fd = fb_memfd_create("flakebox-seccomp")
        guard fd >= 0 else { throw SandboxError.system("memfd_create", errno) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                let err = errno
                close(fd)
                throw SandboxError.system("write(memfd)", err)
            }
            offset += written
        }
        guard fb_memfd_seal(fd) == 0 else {
            let err = errno
            close(fd)
            throw SandboxError.system("seal(memfd)", err)
        }
        self.fd = fd
        self.byteCount = bytes.count
    }

    deinit { close(fd) }
}
