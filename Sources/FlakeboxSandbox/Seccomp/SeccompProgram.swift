/// A compiled seccomp filter: classic BPF, ready for
/// `prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &(struct sock_fprog){ count, bytes })`.
///
/// ``bytes`` is an array of `struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }` in the
/// host's byte order, 8 bytes per instruction. Only this value leaves the compiler; the libseccomp
/// context it came from is released before ``SeccompCompiler/compile(_:options:)`` returns.
public struct SeccompProgram: Sendable, Hashable {
    /// The `struct sock_filter` array.
    public let bytes: [UInt8]
    /// The ABI the program filters for natively.
    public let architecture: SeccompArchitecture
    /// What the compiler did with each rule.
    public let report: Report

    /// The size of one `struct sock_filter`.
    public static let instructionSize = 8
    /// The kernel's limit on a filter's length (`BPF_MAXINSNS`).
    public static let maximumInstructionCount = 4096

    /// The number of BPF instructions (the `len` of `struct sock_fprog`).
    public var instructionCount: Int { bytes.count / Self.instructionSize }

    init(bytes: [UInt8], architecture: SeccompArchitecture, report: Report) {
        self.bytes = bytes
        self.architecture = architecture
        self.report = report
    }
}
