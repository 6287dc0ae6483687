/// The classic-BPF instructions flakebox puts in front of the program libseccomp generates.
///
/// BPF jumps only go forward and are relative, so prepending keeps libseccomp's program valid: every
/// path through the prelude either returns or jumps to the program's first instruction, which reloads
/// what it needs from `seccomp_data`. The prelude
///
/// 1. returns `EPERM` for `ioctl(fd, TIOCSTI)` and `ioctl(fd, TIOCLINUX)`, comparing only the low
///    32 bits of the request (the kernel truncates it to `unsigned int`; comparing 64 bits is
///    CVE-2019-10063). This cannot be a libseccomp rule: when the profile already allows `ioctl`
///    unconditionally, libseccomp 2.5.4 refuses a conditional rule with another action (`EACCES`), and
///    adding it first would be overridden by the unconditional one;
/// 2. returns `ENOSYS` for native system call numbers above the highest one flakebox knows, so that
///    libc falls back from system calls newer than the profile (runc's `patchbpf` does the same);
/// 3. sends x32 calls (bit 30 of the number on x86_64) and every other ABI on to libseccomp's program,
///    which kills them unless `allowForeignABIs` put them in the filter.
struct SeccompPrelude {
    /// `ioctl` on one ABI: the `seccomp_data.arch` value and the number exactly as the filter sees it
    /// (x32 numbers include bit 30).
    struct IoctlCall: Hashable {
        var auditArch: UInt32
        var number: UInt32
    }

    var nativeAuditArch: UInt32
    /// Whether numbers with bit 30 set are a different ABI (x32) under the native `auditArch`.
    var hasX32Bit: Bool
    /// Native numbers above this return `ENOSYS`; `nil` disables the check.
    var enosysAbove: UInt32?
    /// Where to deny `TIOCSTI` / `TIOCLINUX`.
    var ioctlCalls: [IoctlCall]

    static let x32SyscallBit: UInt32 = 0x4000_0000
    static let tiocsti: UInt32 = 0x5412
    static let tioclinux: UInt32 = 0x541C
    static let eperm: UInt32 = 1
    static let enosys: UInt32 = 38
    static let retErrno: UInt32 = 0x0005_0000

    // struct seccomp_data offsets.
    static let nrOffset: UInt32 = 0
    static let archOffset: UInt32 = 4
    /// The low 32 bits of `args[1]` (the targets are little-endian).
    static let ioctlRequestOffset: UInt32 = 16 + 8

    // Classic BPF opcodes.
    static let ldAbsWord: UInt16 = 0x20  // BPF_LD | BPF_W | BPF_ABS
    static let jeqK: UInt16 = 0x15  // BPF_JMP | BPF_JEQ | BPF_K
    static let jgtK: UInt16 = 0x25  // BPF_JMP | BPF_JGT | BPF_K
    static let jgeK: UInt16 = 0x35  // BPF_JMP | BPF_JGE | BPF_K
    static let ja: UInt16 = 0x05  // BPF_JMP | BPF_JA
    static let retK: UInt16 = 0x06  // BPF_RET | BPF_K

    private enum Label: Hashable {
        case original, ioctlRequest, deny, enosys
        case group(Int)
    }

    private enum Target {
        case next
        case label(Label)
    }

    private enum Step {
        case mark(Label)
        case load(UInt32)
        case jump(UInt16, UInt32, ifTrue: Target, ifFalse: Target)
        case always(Label)
        case ret(UInt32)
    }

    /// One `struct sock_filter`.
    struct Instruction: Hashable {
        var code: UInt16
        var jt: UInt8
        var jf: UInt8
        var k: UInt32

        /// The instruction in the host's byte order.
        func append(to bytes: inout [UInt8]) {
            withUnsafeBytes(of: code) { bytes.append(contentsOf: $0) }
            bytes.append(jt)
            bytes.append(jf)
            withUnsafeBytes(of: k) { bytes.append(contentsOf: $0) }
        }
    }

    /// The prelude's instructions; the original program starts right after the last one.
    func instructions() -> [Instruction] {
        resolve(steps())
    }

    private func steps() -> [Step] {
        var steps: [Step] = []
        var groups: [UInt32] = [nativeAuditArch]
        for call in ioctlCalls where !groups.contains(call.auditArch) {
            groups.append(call.auditArch)
        }
        for (index, arch) in groups.enumerated() {
            let isNative = index == 0
            let next: Target = index + 1 < groups.count ? .label(.group(index + 1)) : .label(.original)
            steps.append(.mark(.group(index)))
            steps.append(.load(Self.archOffset))
            steps.append(.jump(Self.jeqK, arch, ifTrue: .next, ifFalse: next))
            steps.append(.load(Self.nrOffset))
            let calls = ioctlCalls.filter { $0.auditArch == arch }
            if isNative && hasX32Bit {
                for call in calls where call.number & Self.x32SyscallBit != 0 {
                    steps.append(.jump(Self.jeqK, call.number, ifTrue: .label(.ioctlRequest), ifFalse: .next))
                }
                steps.append(.jump(Self.jgeK, Self.x32SyscallBit, ifTrue: .label(.original), ifFalse: .next))
            }
            for call in calls where !(isNative && hasX32Bit && call.number & Self.x32SyscallBit != 0) {
                steps.append(.jump(Self.jeqK, call.number, ifTrue: .label(.ioctlRequest), ifFalse: .next))
            }
            if isNative, let enosysAbove {
                steps.append(.jump(Self.jgtK, enosysAbove, ifTrue: .label(.enosys), ifFalse: .next))
            }
            steps.append(.always(.original))
        }
        if !ioctlCalls.isEmpty {
            steps.append(.mark(.ioctlRequest))
            steps.append(.load(Self.ioctlRequestOffset))
            steps.append(.jump(Self.jeqK, Self.tiocsti, ifTrue: .label(.deny), ifFalse: .next))
            steps.append(.jump(Self.jeqK, Self.tioclinux, ifTrue: .label(.deny), ifFalse: .next))
            steps.append(.always(.original))
            steps.append(.mark(.deny))
            steps.append(.ret(Self.retErrno | Self.eperm))
        }
        if enosysAbove != nil {
            steps.append(.mark(.enosys))
            steps.append(.ret(Self.retErrno | Self.enosys))
        }
        steps.append(.mark(.original))
        return steps
    }

    private func resolve(_ steps: [Step]) -> [Instruction] {
        var positions: [Label: Int] = [:]
        var count = 0
        for step in steps {
            if case .mark(let label) = step {
                positions[label] = count
            } else {
                count += 1
            }
        }
        var instructions: [Instruction] = []
        func offset(_ target: Target, from pc: Int) -> UInt8 {
            guard case .label(let label) = target else { return 0 }
            let distance = positions[label]! - (pc + 1)
            precondition((0...255).contains(distance), "prelude jump out of range")
            return UInt8(distance)
        }
        for step in steps {
            let pc = instructions.count
            switch step {
            case .mark:
                continue
            case .load(let offset):
                instructions.append(Instruction(code: Self.ldAbsWord, jt: 0, jf: 0, k: offset))
            case .jump(let code, let k, let ifTrue, let ifFalse):
                instructions.append(
                    Instruction(code: code, jt: offset(ifTrue, from: pc), jf: offset(ifFalse, from: pc), k: k)
                )
            case .always(let label):
                instructions.append(Instruction(code: Self.ja, jt: 0, jf: 0, k: UInt32(positions[label]! - (pc + 1))))
            case .ret(let value):
                instructions.append(Instruction(code: Self.retK, jt: 0, jf: 0, k: value))
            }
        }
        return instructions
    }
}
