/// How ``SeccompCompiler`` turns a profile into a program for this machine.
public struct SeccompCompileOptions: Sendable, Hashable {
    /// The ABI the sandboxed programs use. Defaults to the running machine's; libseccomp can only build
    /// filters whose native ABI is its own, so anything else is rejected when compiling.
    public var nativeArchitecture: SeccompArchitecture
    /// The kernel that `includes.minKernel` / `excludes.minKernel` are compared with. Defaults to the
    /// running kernel (`uname -r`).
    public var kernelVersion: SeccompProfile.KernelVersion
    /// The capabilities the sandboxed process holds. flakebox grants none, so rules gated on
    /// `includes.caps` are dropped and rules with `excludes.caps` kept.
    public var capabilities: Set<String>
    /// Whether to let foreign ABIs (i386 and x32 on x86_64, arm on aarch64) through, as Docker does
    /// with the `archMap` sub-architectures. When `false` (the default) only the native ABI is in the
    /// filter and every other one kills the process (`SCMP_FLTATR_ACT_BADARCH` = `KILL_PROCESS`): a
    /// 32-bit `socketcall(2)` hides the socket family behind a pointer no filter can read.
    public var allowForeignABIs: Bool

    /// Creates options; every parameter defaults to this machine and flakebox's policy.
    public init(
        nativeArchitecture: SeccompArchitecture = SeccompArchitecture.host ?? .x86_64,
        kernelVersion: SeccompProfile.KernelVersion = .running ?? SeccompProfile.KernelVersion(kernel: 0, major: 0),
        capabilities: Set<String> = [],
        allowForeignABIs: Bool = false
    ) {
        self.nativeArchitecture = nativeArchitecture
        self.kernelVersion = kernelVersion
        self.capabilities = capabilities
        self.allowForeignABIs = allowForeignABIs
    }
}
