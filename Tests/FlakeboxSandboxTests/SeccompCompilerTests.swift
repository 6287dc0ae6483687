import FlakeboxSandbox
import Foundation
import Testing

/// x86_64 facts, written out independently of flakebox's own table so a wrong table fails these tests.
enum X86_64 {
    static let auditArch: UInt32 = 0xC000_003E
    static let auditArchI386: UInt32 = 0x4000_0003
    static let x32Bit: Int32 = 0x4000_0000

    static let read: Int32 = 0
    static let write: Int32 = 1
    static let ioctl: Int32 = 16
    static let socket: Int32 = 41
    static let clone: Int32 = 56
    static let personality: Int32 = 135
    static let mount: Int32 = 165
    static let keyctl: Int32 = 250
    static let unshare: Int32 = 272
    static let perfEventOpen: Int32 = 298
    static let openByHandleAt: Int32 = 304
    static let setns: Int32 = 308
    static let bpf: Int32 = 321
    static let userfaultfd: Int32 = 323
    static let ioUringSetup: Int32 = 425
    static let clone3: Int32 = 435
    static let mseal: Int32 = 462
    static let fileSetattr: Int32 = 469
}

enum Errno {
    static let eperm: UInt32 = 1
    static let enosys: UInt32 = 38
}

/// Compiles and evaluates profiles for the tests.
struct CompiledFilter {
    let program: SeccompProgram
    let interpreter: SeccompBPFInterpreter

    init(_ profile: SeccompProfile, options: SeccompCompileOptions = SeccompCompileOptions()) throws {
        program = try SeccompCompiler.compile(profile, options: options)
        interpreter = try SeccompBPFInterpreter(bytes: program.bytes)
    }

    init(json: String, options: SeccompCompileOptions = SeccompCompileOptions()) throws {
        try self.init(SeccompProfile(jsonData: Data(json.utf8)), options: options)
    }

    /// The action for a native x86_64 call.
    func action(_ nr: Int32, _ args: UInt64..., arch: UInt32 = X86_64.auditArch) throws -> UInt32 {
        try interpreter.run(SeccompBPFInterpreter.SeccompData(nr: nr, arch: arch, args: args))
    }
}

let isX86_64Host = SeccompArchitecture.host == .x86_64

@Suite(
    "Seccomp compiler: Docker's default profile on x86_64",
    .enabled(if: isX86_64Host, "assertions use x86_64 system call numbers; this host is another architecture"))
struct SeccompDockerDefaultTests {
    static let profile = Result { try SeccompProfile.load(contentsOf: dockerDefaultProfileURL) }

    /// flakebox's options, pinned so the test does not depend on the machine's kernel.
    static let options = SeccompCompileOptions(
        nativeArchitecture: .x86_64,
        kernelVersion: .init(kernel: 6, major: 18),
        capabilities: [],
        allowForeignABIs: false
    )

    let filter: CompiledFilter

    init() throws {
        filter = try CompiledFilter(Self.profile.get(), options: Self.options)
    }

    @Test("compiles; report instruction count, skipped names and compile time")
    func compiles() throws {
        let profile = try Self.profile.get()
        let clock = ContinuousClock()
        var program: SeccompProgram?
        let elapsed = try clock.measure {
            program = try SeccompCompiler.compile(profile, options: Self.options)
        }
        let compiled = try #require(program)
        let report = compiled.report
        print(
            """
            [seccomp] Docker default on x86_64 (libseccomp \(report.libseccompVersion)): \
            \(compiled.instructionCount) instructions, \(compiled.bytes.count) bytes, \
            \(report.rulesAdded) libseccomp rules, compiled in \(elapsed)
            [seccomp] skipped (not on x86_64): \(report.skippedNameList.joined(separator: " "))
            [seccomp] dropped rules: \(report.droppedRules.map { "#\($0.index) \($0.names.prefix(3).joined(separator: ","))… (\($0.reason))" }.joined(separator: "; "))
            [seccomp] ENOSYS above \(report.enosysAbove.map(String.init) ?? "-"); architectures \(report.architectures.map(\.rawValue)); excluded \(report.excludedArchitectures.map(\.rawValue))
            """
        )
        // Native x86_64 only; with the i386 and x32 sub-architectures it is about 1,000 (see below).
        #expect((250...700).contains(compiled.instructionCount))
        #expect(compiled.instructionCount <= SeccompProgram.maximumInstructionCount)
        #expect(compiled.bytes.count == compiled.instructionCount * SeccompProgram.instructionSize)
        #expect(report.architectures == [.x86_64])
        #expect(report.excludedArchitectures == [.x86, .x32])
        #expect(report.enosysAbove == 470)
        let skipped = Set(report.skippedNameList)
        for name in ["socketcall", "_llseek", "mmap2", "chown32", "clock_gettime64", "riscv_hwprobe", "waitpid"] {
            #expect(skipped.contains(name), "\(name) should be skipped on x86_64")
        }
        for name in ["read", "mseal", "uretprobe", "listmount", "getxattrat", "cachestat", "map_shadow_stack"] {
            #expect(!skipped.contains(name), "\(name) is an x86_64 system call")
        }
        // Rules gated on capabilities are dropped (flakebox grants none); the arch-specific ones too.
        #expect(report.droppedRules.contains { $0.names.contains("mount") && $0.reason.contains("CAP_SYS_ADMIN") })
        #expect(report.droppedRules.contains { $0.names == ["riscv_flush_icache"] })
        #expect(!report.droppedRules.contains { $0.names == ["arch_prctl"] })
        #expect(!report.droppedRules.contains { $0.names.contains("ptrace") && $0.reason.contains("minKernel") })
    }

    @Test("a lookup walks a tree, not a chain of ~350 compares (the kernel runs it per number at attach)")
    func treeShaped() throws {
        var longest = 0
        for nr in Int32(0)...Int32(SyscallTable.table(for: .x86_64)!.highestNumber) {
            let data = SeccompBPFInterpreter.SeccompData(nr: nr, arch: X86_64.auditArch)
            longest = max(longest, try filter.interpreter.trace(data).executed)
        }
        print(
            "[seccomp] longest path over the x86_64 numbers: \(longest) of \(filter.program.instructionCount) instructions"
        )
        // A binary tree over ~360 numbers, after the prelude (56 here); the chain was ~370 long.
        #expect(longest < 100)
    }

    @Test("ordinary calls are allowed")
    func allowed() throws {
        #expect(try filter.action(X86_64.read) == SeccompReturn.allow)
        #expect(try filter.action(X86_64.write) == SeccompReturn.allow)
        #expect(try filter.action(158) == SeccompReturn.allow)  // arch_prctl, includes.arches amd64
        #expect(try filter.action(101) == SeccompReturn.allow)  // ptrace, includes.minKernel 4.8
    }

    @Test(
        "dangerous calls fail with EPERM",
        arguments: [
            ("keyctl", X86_64.keyctl), ("bpf", X86_64.bpf), ("io_uring_setup", X86_64.ioUringSetup),
            ("userfaultfd", X86_64.userfaultfd), ("perf_event_open", X86_64.perfEventOpen),
            ("open_by_handle_at", X86_64.openByHandleAt), ("mount", X86_64.mount), ("unshare", X86_64.unshare),
            ("setns", X86_64.setns),
        ]
    )
    func denied(name: String, nr: Int32) throws {
        #expect(try filter.action(nr) == SeccompReturn.errno(Errno.eperm), "\(name)")
    }

    @Test("clone: namespaces denied, plain fork allowed; clone3 gets ENOSYS")
    func clone() throws {
        let sigchld: UInt64 = 17
        let cloneNewUser: UInt64 = 0x1000_0000
        let cloneNewNet: UInt64 = 0x4000_0000
        #expect(try filter.action(X86_64.clone, sigchld) == SeccompReturn.allow)
        #expect(try filter.action(X86_64.clone, sigchld | cloneNewUser) == SeccompReturn.errno(Errno.eperm))
        #expect(try filter.action(X86_64.clone, sigchld | cloneNewNet) == SeccompReturn.errno(Errno.eperm))
        #expect(try filter.action(X86_64.clone3) == SeccompReturn.errno(Errno.enosys))
    }

    @Test("socket: AF_INET allowed, AF_ALG and AF_VSOCK denied")
    func socket() throws {
        let profile = try SeccompDockerDefaultTests.profile.get()
        let socketRules = profile.syscalls.filter { $0.names == ["socket"] }
        func allowedByProfile(_ family: UInt64) -> Bool {
            socketRules.contains { rule in
                rule.args.allSatisfy { argument in
                    switch argument.op {
                    case .lessThan: family < argument.value
                    case .equalTo: family == argument.value
                    case .greaterThan: family > argument.value
                    case .notEqual: family != argument.value
                    default: false
                    }
                }
            }
        }
        #expect(try filter.action(X86_64.socket, 2, 1, 0) == SeccompReturn.allow)  // AF_INET
        #expect(try filter.action(X86_64.socket, 10, 1, 0) == SeccompReturn.allow)  // AF_INET6
        #expect(try filter.action(X86_64.socket, 1, 1, 0) == SeccompReturn.allow)  // AF_UNIX
        for family: UInt64 in [38, 40] {  // AF_ALG, AF_VSOCK
            let expected = allowedByProfile(family) ? SeccompReturn.allow : SeccompReturn.errno(Errno.eperm)
            #expect(try filter.action(X86_64.socket, family, 1, 0) == expected, "family \(family)")
        }
        #expect(!allowedByProfile(38), "the stored profile blocks AF_ALG")
        #expect(!allowedByProfile(40), "the stored profile blocks AF_VSOCK")
        // Every family decides as the profile's rules say.
        for family: UInt64 in 0...50 {
            let expected = allowedByProfile(family) ? SeccompReturn.allow : SeccompReturn.errno(Errno.eperm)
            #expect(try filter.action(X86_64.socket, family) == expected, "family \(family)")
        }
    }

    @Test("ioctl: TIOCSTI and TIOCLINUX denied on the low 32 bits, TCGETS allowed")
    func ioctl() throws {
        #expect(try filter.action(X86_64.ioctl, 0, 0x5412) == SeccompReturn.errno(Errno.eperm))
        #expect(try filter.action(X86_64.ioctl, 0, 0xFFFF_FFFF_0000_5412) == SeccompReturn.errno(Errno.eperm))
        #expect(try filter.action(X86_64.ioctl, 0, 0x0000_0001_0000_5412) == SeccompReturn.errno(Errno.eperm))
        #expect(try filter.action(X86_64.ioctl, 3, 0x541C) == SeccompReturn.errno(Errno.eperm))
        #expect(try filter.action(X86_64.ioctl, 0, 0x5401) == SeccompReturn.allow)  // TCGETS
        #expect(try filter.action(X86_64.ioctl, 0, 0x5413) == SeccompReturn.allow)  // TIOCGWINSZ
    }

    @Test("numbers above the highest known get ENOSYS; known numbers keep the profile's answer")
    func enosys() throws {
        #expect(try filter.action(1000) == SeccompReturn.errno(Errno.enosys))
        #expect(try filter.action(471) == SeccompReturn.errno(Errno.enosys))
        #expect(try filter.action(X86_64.fileSetattr) == SeccompReturn.errno(Errno.eperm))  // known, not allowed
        #expect(try filter.action(400) == SeccompReturn.errno(Errno.eperm))  // a gap below the maximum
    }

    @Test("calls newer than libseccomp 2.5.4 follow the profile")
    func newerThanLibseccomp() throws {
        #expect(try filter.action(X86_64.mseal) == SeccompReturn.allow)
        #expect(try filter.action(335) == SeccompReturn.allow)  // uretprobe
        #expect(try filter.action(458) == SeccompReturn.allow)  // listmount
        #expect(try filter.action(464) == SeccompReturn.allow)  // getxattrat
        #expect(try filter.action(459) == SeccompReturn.errno(Errno.eperm))  // lsm_get_self_attr: CAP_SYS_ADMIN
    }

    @Test("foreign ABIs are killed")
    func foreignABIs() throws {
        #expect(try filter.action(3, arch: X86_64.auditArchI386) == SeccompReturn.killProcess)
        #expect(try filter.action(X86_64.read, arch: X86_64.auditArchI386) == SeccompReturn.killProcess)
        let x32Read = try filter.action(X86_64.x32Bit | X86_64.read)
        #expect(x32Read != SeccompReturn.allow)
        #expect(x32Read == SeccompReturn.killProcess)
        #expect(try filter.action(X86_64.x32Bit | 514) == SeccompReturn.killProcess)  // x32 ioctl
        #expect(try filter.action(2, arch: 0xC000_00B7) == SeccompReturn.killProcess)  // aarch64
    }

    @Test("personality: only the harmless personas")
    func personality() throws {
        #expect(try filter.action(X86_64.personality, 0) == SeccompReturn.allow)
        #expect(try filter.action(X86_64.personality, 0xFFFF_FFFF) == SeccompReturn.allow)
        let readImpliesExec: UInt64 = 0x040_0000
        let addrNoRandomize: UInt64 = 0x004_0000
        #expect(try filter.action(X86_64.personality, readImpliesExec) == SeccompReturn.errno(Errno.eperm))
        #expect(try filter.action(X86_64.personality, addrNoRandomize) == SeccompReturn.errno(Errno.eperm))
    }
}

@Suite(
    "Seccomp compiler: semantics",
    .enabled(if: isX86_64Host, "assertions use x86_64 system call numbers; this host is another architecture"))
struct SeccompCompilerSemanticsTests {
    static let options = SeccompCompileOptions(nativeArchitecture: .x86_64, kernelVersion: .init(kernel: 6, major: 18))

    @Test("unknown system call names are errors naming the field")
    func unknownName() throws {
        let profile = try SeccompProfile(
            jsonData: Data(
                #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["write","foo"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN"]}}]}"#
                    .utf8
            )
        )
        #expect {
            try SeccompCompiler.compile(profile, options: Self.options)
        } throws: { error in
            (error as? SeccompProfileError)?.description == #"syscalls[1].names[1]: unknown system call "foo""#
                && (error as? SeccompProfileError)?.code == .unknownSyscall
        }
    }

    @Test("SCMP_ACT_NOTIFY is a clear unsupported error")
    func notify() throws {
        let profile = try SeccompProfile(
            jsonData: Data(
                #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_NOTIFY"}]}"#.utf8)
        )
        #expect {
            try SeccompCompiler.compile(profile, options: Self.options)
        } throws: { error in
            let error = error as? SeccompProfileError
            return error?.code == .unsupported && error?.path == "syscalls[0].action"
        }
    }

    @Test("a name only other ABIs have is skipped and reported")
    func foreignName() throws {
        let filter = try CompiledFilter(
            json:
                #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","socketcall","arm_fadvise64_64"],"action":"SCMP_ACT_ALLOW"}]}"#,
            options: Self.options
        )
        #expect(filter.program.report.skippedNameList == ["socketcall", "arm_fadvise64_64"])
        #expect(filter.program.report.skippedNames.first?.path == "syscalls[0].names[1]")
        #expect(try filter.action(X86_64.read) == SeccompReturn.allow)
    }

    @Test("includes and excludes follow Docker's rules")
    func includesExcludes() throws {
        let json = #"""
            {"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
              {"names":["read"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_SYS_ADMIN","CAP_NET_ADMIN"]}},
              {"names":["write"],"action":"SCMP_ACT_ALLOW","excludes":{"caps":["CAP_SYS_ADMIN"]}},
              {"names":["getpid"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"6.19"}},
              {"names":["getppid"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"5.4"}},
              {"names":["gettid"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["arm64","amd64"]}},
              {"names":["getuid"],"action":"SCMP_ACT_ALLOW","excludes":{"arches":["amd64"]}},
              {"names":["getgid"],"action":"SCMP_ACT_ALLOW","includes":{"arches":["arm64"]}}
            ]}
            """#
        let withoutCaps = try CompiledFilter(json: json, options: Self.options)
        #expect(try withoutCaps.action(0) == SeccompReturn.errno(1))  // read: needs both caps
        #expect(try withoutCaps.action(1) == SeccompReturn.allow)  // write: CAP_SYS_ADMIN not held
        #expect(try withoutCaps.action(39) == SeccompReturn.errno(1))  // getpid: kernel 6.18 < 6.19
        #expect(try withoutCaps.action(110) == SeccompReturn.errno(1))  // getppid: kernel >= 5.4
        #expect(try withoutCaps.action(186) == SeccompReturn.allow)  // gettid: amd64 included
        #expect(try withoutCaps.action(102) == SeccompReturn.errno(1))  // getuid: amd64 excluded
        #expect(try withoutCaps.action(104) == SeccompReturn.errno(1))  // getgid: arm64 only
        #expect(withoutCaps.program.report.droppedRules.map(\.index) == [0, 2, 3, 5, 6])

        var granted = Self.options
        granted.capabilities = ["CAP_SYS_ADMIN"]
        granted.kernelVersion = .init(kernel: 6, major: 19)
        let someCaps = try CompiledFilter(json: json, options: granted)
        #expect(try someCaps.action(0) == SeccompReturn.errno(1))  // read: CAP_NET_ADMIN missing
        #expect(try someCaps.action(1) == SeccompReturn.errno(1))  // write: excluded by CAP_SYS_ADMIN
        #expect(try someCaps.action(39) == SeccompReturn.allow)  // getpid: 6.19 >= 6.19

        granted.capabilities = ["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]
        granted.kernelVersion = .init(kernel: 5, major: 3)
        let allCaps = try CompiledFilter(json: json, options: granted)
        #expect(try allCaps.action(0) == SeccompReturn.allow)
        #expect(try allCaps.action(110) == SeccompReturn.allow)  // getppid: 5.3 < 5.4
    }

    @Test("args: different indexes are ANDed, a repeated index splits into ORed rules")
    func argumentCombination() throws {
        let json = #"""
            {"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"syscalls":[
              {"names":["socket"],"action":"SCMP_ACT_ALLOW","args":[
                {"index":0,"value":2,"op":"SCMP_CMP_EQ"},{"index":1,"value":1,"op":"SCMP_CMP_EQ"}]},
              {"names":["personality"],"action":"SCMP_ACT_ALLOW","args":[
                {"index":0,"value":8,"op":"SCMP_CMP_LT"},{"index":0,"value":100,"op":"SCMP_CMP_GT"}]},
              {"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[
                {"index":0,"value":255,"valueTwo":17,"op":"SCMP_CMP_MASKED_EQ"}]}
            ]}
            """#
        let filter = try CompiledFilter(json: json, options: Self.options)
        #expect(try filter.action(X86_64.socket, 2, 1) == SeccompReturn.allow)
        #expect(try filter.action(X86_64.socket, 2, 2) == SeccompReturn.errno(1))  // AND: second fails
        #expect(try filter.action(X86_64.socket, 10, 1) == SeccompReturn.errno(1))
        #expect(try filter.action(X86_64.personality, 3) == SeccompReturn.allow)  // < 8
        #expect(try filter.action(X86_64.personality, 200) == SeccompReturn.allow)  // > 100
        #expect(try filter.action(X86_64.personality, 50) == SeccompReturn.errno(1))  // neither
        #expect(try filter.action(X86_64.clone, 0x1100 | 17) == SeccompReturn.allow)  // (x & 0xff) == 17
        #expect(try filter.action(X86_64.clone, 18) == SeccompReturn.errno(1))
        #expect(filter.program.report.rulesAdded == 1 + 2 + 1)
    }

    @Test("errnoRet falls back to defaultErrnoRet, then EPERM; rules equal to the default are skipped")
    func errnoFallback() throws {
        let json = #"""
            {"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":13,"syscalls":[
              {"names":["read"],"action":"SCMP_ACT_ALLOW"},
              {"names":["write"],"action":"SCMP_ACT_ERRNO","errnoRet":5},
              {"names":["getpid"],"action":"SCMP_ACT_ERRNO"},
              {"names":["getuid"],"action":"SCMP_ACT_KILL_PROCESS"},
              {"names":["getgid"],"action":"SCMP_ACT_TRAP"}
            ]}
            """#
        let filter = try CompiledFilter(json: json, options: Self.options)
        #expect(try filter.action(1) == SeccompReturn.errno(5))
        #expect(try filter.action(39) == SeccompReturn.errno(13))
        #expect(try filter.action(62) == SeccompReturn.errno(13))  // kill: default
        #expect(try filter.action(102) == SeccompReturn.killProcess)
        #expect(try filter.action(104) == SeccompReturn.trap)
        #expect(filter.program.report.rulesMatchingDefaultAction == [2])

        let noDefaultErrno = try CompiledFilter(
            json: #"{"defaultAction":"SCMP_ACT_KILL","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO"}]}"#,
            options: Self.options
        )
        #expect(try noDefaultErrno.action(39) == SeccompReturn.errno(Errno.eperm))
        #expect(try noDefaultErrno.action(0) == SeccompReturn.killThread)
    }

    @Test("a deny-list profile (default ALLOW) gets no ENOSYS, but still no TIOCSTI")
    func denyList() throws {
        let filter = try CompiledFilter(
            json: #"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount"],"action":"SCMP_ACT_ERRNO"}]}"#,
            options: Self.options
        )
        #expect(filter.program.report.enosysAbove == nil)
        #expect(try filter.action(1000) == SeccompReturn.allow)
        #expect(try filter.action(X86_64.mount) == SeccompReturn.errno(Errno.eperm))
        #expect(try filter.action(X86_64.ioctl, 0, 0x5412) == SeccompReturn.errno(Errno.eperm))
        #expect(try filter.action(X86_64.ioctl, 0, 0x5401) == SeccompReturn.allow)
    }

    @Test("allowForeignABIs lets the archMap sub-architectures through, with their own TIOCSTI check")
    func foreignABIsAllowed() throws {
        var options = SeccompDockerDefaultTests.options
        options.allowForeignABIs = true
        let filter = try CompiledFilter(SeccompDockerDefaultTests.profile.get(), options: options)
        print(
            "[seccomp] Docker default with foreign ABIs: \(filter.program.instructionCount) instructions, "
                + "\(filter.program.report.foreignRulesAdded) foreign rules"
        )
        #expect((800...1400).contains(filter.program.instructionCount))
        #expect(filter.program.report.architectures == [.x86_64, .x86, .x32])
        #expect(filter.program.report.excludedArchitectures.isEmpty)
        let i386 = X86_64.auditArchI386
        #expect(try filter.action(3, arch: i386) == SeccompReturn.allow)  // i386 read
        #expect(try filter.action(21, arch: i386) == SeccompReturn.errno(Errno.eperm))  // i386 mount
        #expect(try filter.action(54, arch: i386) == SeccompReturn.allow)  // i386 ioctl
        #expect(try filter.action(54, 0, 0x5412, arch: i386) == SeccompReturn.errno(Errno.eperm))
        #expect(try filter.action(X86_64.x32Bit | X86_64.read) == SeccompReturn.allow)  // x32 read
        #expect(try filter.action(X86_64.x32Bit | 514, 0, 0x5412) == SeccompReturn.errno(Errno.eperm))  // x32 ioctl
        #expect(try filter.action(X86_64.x32Bit | 514, 0, 0x5401) == SeccompReturn.allow)
        #expect(try filter.action(X86_64.read) == SeccompReturn.allow)
        #expect(try filter.action(X86_64.mseal) == SeccompReturn.allow)
        // mseal is unknown to libseccomp 2.5.4, so it cannot be allowed on the foreign ABIs.
        if filter.program.report.libseccompVersion.hasPrefix("2.5.") {
            #expect(
                filter.program.report.skippedNames.contains {
                    $0.name == "mseal" && $0.reason == .unknownToLibseccompForForeignABIs
                })
        }
    }

    @Test("with capabilities granted, Docker's cap-gated rules apply instead")
    func capabilitiesGranted() throws {
        var options = SeccompDockerDefaultTests.options
        options.capabilities = ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYSLOG", "CAP_BPF", "CAP_PERFMON"]
        let filter = try CompiledFilter(SeccompDockerDefaultTests.profile.get(), options: options)
        #expect(try filter.action(X86_64.mount) == SeccompReturn.allow)
        #expect(try filter.action(X86_64.clone, 0x1000_0000 | 17) == SeccompReturn.allow)
        #expect(try filter.action(X86_64.clone3) == SeccompReturn.allow)
        #expect(try filter.action(X86_64.bpf) == SeccompReturn.allow)
        #expect(try filter.action(X86_64.keyctl) == SeccompReturn.errno(Errno.eperm))  // no rule at all
        #expect(try filter.action(X86_64.ioctl, 0, 0x5412) == SeccompReturn.errno(Errno.eperm))
    }

    @Test("profiles built in code with out-of-range values are errors, not traps")
    func codeBuiltProfiles() {
        let badIndex = SeccompProfile(
            defaultAction: .errno,
            syscalls: [.init(names: ["read"], action: .allow, args: [.init(index: -1, value: 0, op: .equalTo)])]
        )
        #expect {
            try SeccompCompiler.compile(badIndex, options: Self.options)
        } throws: { error in
            (error as? SeccompProfileError)?.path == "syscalls[0].args[0].index"
        }
        let badErrno = SeccompProfile(
            defaultAction: .allow,
            syscalls: [.init(names: ["mount"], action: .errno, errnoRet: 70_000)]
        )
        #expect {
            try SeccompCompiler.compile(badErrno, options: Self.options)
        } throws: { error in
            (error as? SeccompProfileError)?.path == "syscalls[0].action"
        }
    }

    @Test("compiling for an ABI other than the host's is rejected, not mis-compiled")
    func otherArchitecture() throws {
        let profile = try SeccompProfile(
            jsonData: Data(
                #"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#.utf8)
        )
        var options = Self.options
        options.nativeArchitecture = .aarch64
        #expect {
            try SeccompCompiler.compile(profile, options: options)
        } throws: { error in
            (error as? SeccompProfileError)?.code == .unsupported
        }
    }

    @Test(
        "rules libseccomp cannot honour together are an error naming the rule",
        arguments: [
            #"[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["read"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":0,"value":5,"op":"SCMP_CMP_EQ"}]}]"#,
            #"[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":5,"args":[{"index":0,"value":5,"op":"SCMP_CMP_EQ"}]}]"#,
            #"[{"names":["read"],"action":"SCMP_ACT_LOG","args":[{"index":0,"value":5,"op":"SCMP_CMP_EQ"}]},{"names":["write","read"],"action":"SCMP_ACT_ALLOW"}]"#,
            #"[{"names":["read"],"action":"SCMP_ACT_ALLOW"},{"names":["read"],"action":"SCMP_ACT_TRAP"}]"#,
        ]
    )
    func conflictingRules(_ rules: String) throws {
        let profile = try SeccompProfile(
            jsonData: Data(#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":\#(rules)}"#.utf8))
        #expect {
            try SeccompCompiler.compile(profile, options: Self.options)
        } throws: { error in
            let error = error as? SeccompProfileError
            return error?.code == .conflictingRules && error?.path.hasPrefix("syscalls[1].names[") == true
        }
    }

    @Test("redundant rules with the same action are fine")
    func redundantRules() throws {
        let filter = try CompiledFilter(
            json: #"""
                {"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"},
                 {"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":5,"op":"SCMP_CMP_EQ"}]},
                 {"names":["read"],"action":"SCMP_ACT_ALLOW"}]}
                """#,
            options: Self.options
        )
        #expect(try filter.action(X86_64.read, 7) == SeccompReturn.allow)
    }
}
