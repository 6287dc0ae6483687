/// A system call ABI as seccomp profiles name it (`SCMP_ARCH_X86_64`, …).
///
/// The raw value is the OCI / Docker spelling. ``profileName`` is the Go-style name that Docker's
/// `includes.arches` / `excludes.arches` filters use (`amd64`, `arm64`, …).
public enum SeccompArchitecture: String, Sendable, Hashable, CaseIterable, Decodable {
    case x86 = "SCMP_ARCH_X86"
    case x86_64 = "SCMP_ARCH_X86_64"
    case x32 = "SCMP_ARCH_X32"
    case arm = "SCMP_ARCH_ARM"
    case aarch64 = "SCMP_ARCH_AARCH64"
    case mips = "SCMP_ARCH_MIPS"
    case mips64 = "SCMP_ARCH_MIPS64"
    case mips64n32 = "SCMP_ARCH_MIPS64N32"
    case mipsel = "SCMP_ARCH_MIPSEL"
    case mipsel64 = "SCMP_ARCH_MIPSEL64"
    case mipsel64n32 = "SCMP_ARCH_MIPSEL64N32"
    case ppc = "SCMP_ARCH_PPC"
    case ppc64 = "SCMP_ARCH_PPC64"
    case ppc64le = "SCMP_ARCH_PPC64LE"
    case s390 = "SCMP_ARCH_S390"
    case s390x = "SCMP_ARCH_S390X"
    case parisc = "SCMP_ARCH_PARISC"
    case parisc64 = "SCMP_ARCH_PARISC64"
    case riscv64 = "SCMP_ARCH_RISCV64"
    case loongarch64 = "SCMP_ARCH_LOONGARCH64"
    case m68k = "SCMP_ARCH_M68K"
    case sh = "SCMP_ARCH_SH"
    case sheb = "SCMP_ARCH_SHEB"

    /// The architecture this process runs on, if flakebox can filter for it.
    public static var host: SeccompArchitecture? {
        #if arch(x86_64)
            return .x86_64
        #elseif arch(arm64)
            return .aarch64
        #else
            return nil
        #endif
    }

    /// The Go-style name Docker compares `includes.arches` / `excludes.arches` against.
    public var profileName: String {
        switch self {
        case .x86: "x86"
        case .x86_64: "amd64"
        case .x32: "x32"
        case .arm: "arm"
        case .aarch64: "arm64"
        case .mips: "mips"
        case .mips64: "mips64"
        case .mips64n32: "mips64n32"
        case .mipsel: "mipsel"
        case .mipsel64: "mipsel64"
        case .mipsel64n32: "mipsel64n32"
        case .ppc: "ppc"
        case .ppc64: "ppc64"
        case .ppc64le: "ppc64le"
        case .s390: "s390"
        case .s390x: "s390x"
        case .parisc: "parisc"
        case .parisc64: "parisc64"
        case .riscv64: "riscv64"
        case .loongarch64: "loongarch64"
        case .m68k: "m68k"
        case .sh: "sh"
        case .sheb: "sheb"
        }
    }

    /// Every spelling that names this architecture in `includes.arches` / `excludes.arches`:
    /// ``profileName`` plus the aliases found in Docker's code and profiles (`loong64`, `mipsle`,
    /// `mips3l64n32`).
    public var profileNames: Set<String> {
        switch self {
        case .loongarch64: ["loongarch64", "loong64"]
        case .mipsel: ["mipsel", "mipsle"]
        case .mipsel64n32: ["mipsel64n32", "mips3l64n32"]
        default: [profileName]
        }
    }

    /// Every spelling accepted in `includes.arches` / `excludes.arches`.
    static let acceptedProfileNames: Set<String> = allCases.reduce(into: []) { $0.formUnion($1.profileNames) }

    /// The name libseccomp's `seccomp_arch_resolve_name` understands (`x86_64`, `aarch64`, …).
    var libseccompName: String {
        String(rawValue.dropFirst("SCMP_ARCH_".count)).lowercased()
    }

    /// The kernel's `AUDIT_ARCH_*` value, as seen in `seccomp_data.arch`, for the architectures
    /// flakebox can filter natively. x32 shares `AUDIT_ARCH_X86_64` and is told apart by bit 30 of
    /// the system call number.
    public var auditArch: UInt32? {
        switch self {
        case .x86_64, .x32: 0xC000_003E
        case .x86: 0x4000_0003
        case .aarch64: 0xC000_00B7
        case .arm: 0x4000_0028
        case .riscv64: 0xC000_00F3
        default: nil
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let architecture = SeccompArchitecture(rawValue: text) else {
            throw decoder.profileError(.invalidValue, "unknown architecture \"\(text)\"")
        }
        self = architecture
    }
}
