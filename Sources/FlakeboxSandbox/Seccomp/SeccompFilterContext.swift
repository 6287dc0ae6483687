import CSeccomp

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Owns one libseccomp `scmp_filter_ctx`, released in `deinit`.
///
/// `~Copyable` so the handle has exactly one owner and cannot outlive the function that compiles a
/// profile; it is never `Sendable`. Only the exported `[UInt8]` leaves ``SeccompCompiler``.
struct SeccompFilterContext: ~Copyable {
    private let handle: scmp_filter_ctx

    /// A context whose default action is `defaultAction` and whose only architecture is libseccomp's
    /// native one.
    init(defaultAction: UInt32) throws(SeccompProfileError) {
        guard let handle = seccomp_init(defaultAction) else {
            throw SeccompProfileError(
                code: .libseccompFailed,
                path: "defaultAction",
                message: "seccomp_init rejected the default action 0x\(String(defaultAction, radix: 16))"
            )
        }
        self.handle = handle
    }

    deinit {
        seccomp_release(handle)
    }

    func setAttribute(_ attribute: scmp_filter_attr, _ value: UInt32, name: String) throws(SeccompProfileError) {
        let result = seccomp_attr_set(handle, attribute, value)
        guard result == 0 else {
            throw Self.failure("seccomp_attr_set(\(name), \(value))", result, path: "")
        }
    }

    /// Adds an ABI by libseccomp token; `-EEXIST` (already present) is not an error.
    func addArchitecture(_ token: UInt32) -> Int32 {
        let result = seccomp_arch_add(handle, token)
        return result == -EEXIST ? 0 : result
    }

    func removeArchitecture(_ token: UInt32) -> Int32 {
        seccomp_arch_remove(handle, token)
    }

    /// `seccomp_rule_add_array`: libseccomp reads `syscall` in its *native* numbering (translating it
    /// by name for the other ABIs in the context) and accepts numbers it has no name for on the native
    /// ABI. Returns libseccomp's result (0 or a negative errno).
    func addRule(action: UInt32, syscall: Int32, conditions: [scmp_arg_cmp]) -> Int32 {
        conditions.withUnsafeBufferPointer { buffer in
            seccomp_rule_add_array(handle, action, syscall, UInt32(buffer.count), buffer.baseAddress)
        }
    }

    /// Moves every ABI of this context into `destination` (`seccomp_merge`). The two must have the
    /// same attributes and no ABI in common.
    consuming func merge(into destination: borrowing SeccompFilterContext) throws(SeccompProfileError) {
        let result = seccomp_merge(destination.handle, handle)
        guard result == 0 else {
            _ = consume self  // still ours after a failed merge: release it
            throw Self.failure("seccomp_merge", result, path: "")
        }
        // seccomp_merge freed this context on success.
        discard self
    }

    /// The filter as raw BPF, via `seccomp_export_bpf` into a memfd (libseccomp 2.5 has no
    /// `seccomp_export_bpf_mem`).
    func exportBPF() throws(SeccompProfileError) -> [UInt8] {
        let fd = fb_memfd_create("flakebox-seccomp", FB_MFD_CLOEXEC)
        guard fd >= 0 else {
            throw Self.failure("memfd_create", -errno, path: "")
        }
        defer { close(fd) }
        let exported = seccomp_export_bpf(handle, fd)
        guard exported == 0 else {
            throw Self.failure("seccomp_export_bpf", exported, path: "")
        }
        let size = lseek(fd, 0, SEEK_END)
        guard size >= 0, lseek(fd, 0, SEEK_SET) == 0 else {
            throw Self.failure("lseek on the BPF memfd", -errno, path: "")
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        var filled = 0
        while filled < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                read(fd, buffer.baseAddress! + filled, buffer.count - filled)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                throw Self.failure("read of the BPF memfd", count < 0 ? -errno : -EIO, path: "")
            }
            filled += count
        }
        return bytes
    }

    static func failure(_ operation: String, _ result: Int32, path: String) -> SeccompProfileError {
        SeccompProfileError(
            code: .libseccompFailed,
            path: path,
            message: "\(operation) failed: \(errorName(-result))"
        )
    }

    /// `strerror` text plus the errno number.
    static func errorName(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
