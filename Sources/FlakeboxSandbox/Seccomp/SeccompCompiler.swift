import CSeccomp

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Compiles a ``SeccompProfile`` into a ``SeccompProgram`` through libseccomp, once per policy.
///
/// Docker / runc semantics, with flakebox's fixes:
/// - `archMap`: the entry of the native ABI gives `[architecture] + subArchitectures`; only the native
///   ABI goes into the filter unless ``SeccompCompileOptions/allowForeignABIs``. Anything else is killed
///   (`SCMP_FLTATR_ACT_BADARCH` = `KILL_PROCESS`). `SCMP_FLTATR_CTL_NNP` and `_TSYNC` are off: the
///   sandbox helper sets `no_new_privs` itself and is single-threaded. `SCMP_FLTATR_CTL_OPTIMIZE` is 2
///   (a binary tree: cheaper for the kernel to cache at attach time, see ``configure(_:)``).
/// - `includes` / `excludes` as Docker evaluates them (see ``SeccompProfile/Filter``).
/// - Rules whose action equals the default action are skipped (runc).
/// - All `args` of a rule are ANDed in one libseccomp rule, unless two use the same `index`: then every
///   condition becomes a rule of its own, ORed (runc).
/// - Names resolve against flakebox's ``SyscallTable`` and rules are added by number, so names newer than
///   libseccomp (`mseal`, `uretprobe`, …) are filtered as the profile says. A name that exists only on
///   other ABIs is skipped and reported; a name no ABI knows is an error.
/// - Every program denies `ioctl(TIOCSTI)` / `ioctl(TIOCLINUX)` and answers `ENOSYS` above the highest
///   known number (see ``SeccompPrelude``).
public enum SeccompCompiler {
    /// Compiles `profile` for this machine.
    public static func compile(
        _ profile: SeccompProfile,
        options: SeccompCompileOptions = SeccompCompileOptions()
    ) throws(SeccompProfileError) -> SeccompProgram {
        let native = options.nativeArchitecture
        guard native == SeccompArchitecture.host, let table = SyscallTable.table(for: native),
            let nativeAudit = native.auditArch
        else {
            let host = SeccompArchitecture.host?.rawValue ?? "this machine"
            throw SeccompProfileError(
                code: .unsupported,
                path: "",
                message: "cannot compile for \(native.rawValue) on \(host): libseccomp only builds filters "
                    + "for its own native ABI, and flakebox has syscall tables for x86_64 and aarch64"
            )
        }
        var report = SeccompProgram.Report()
        report.libseccompVersion = libseccompVersion()
        report.requestedFlags = profile.flags

        let defaultAction = try resolve(profile.defaultAction, errnoRet: profile.defaultErrnoRet, path: "defaultAction")
        let planned = try plan(profile, table: table, options: options, defaultAction: defaultAction, report: &report)

        // The ABIs the profile asks for, as Docker expands them.
        var requested: [SeccompArchitecture] = []
        if let entry = profile.archMap.first(where: { $0.architecture == native }) {
            requested = [entry.architecture] + entry.subArchitectures
        } else {
            requested = profile.architectures
        }
        var foreign: [SeccompArchitecture] = []
        for architecture in requested where architecture != native && !foreign.contains(architecture) {
            foreign.append(architecture)
        }
        report.architectures = [native]

        let context = try SeccompFilterContext(defaultAction: defaultAction)
        try configure(context)
        try checkConflicts(planned)
        for rule in planned {
            guard let number = rule.nativeNumber else { continue }
            for conditions in rule.conditionSets {
                let result = context.addRule(action: rule.action, syscall: number, conditions: conditions)
                guard result == 0 else {
                    throw SeccompProfileError(
                        code: .libseccompFailed,
                        path: rule.path,
                        message: "libseccomp refused the rule for \"\(rule.name)\" (number \(number)): "
                            + SeccompFilterContext.errorName(-result)
                            + (result == -EACCES
                                ? "; it conflicts with an earlier rule for the same call with another action" : "")
                    )
                }
                report.rulesAdded += 1
            }
        }

        var ioctlCalls = [SeccompPrelude.IoctlCall(auditArch: nativeAudit, number: UInt32(table.number(of: "ioctl")!))]
        if options.allowForeignABIs && !foreign.isEmpty {
            let added = try addForeignABIs(
                foreign, rules: planned, defaultAction: defaultAction, into: context, report: &report)
            ioctlCalls += added
        } else {
            report.excludedArchitectures = foreign
        }

        let exported = try context.exportBPF()
        let prelude = SeccompPrelude(
            nativeAuditArch: nativeAudit,
            hasX32Bit: native == .x86_64,
            enosysAbove: profile.defaultAction.denies ? UInt32(table.highestNumber) : nil,
            ioctlCalls: ioctlCalls
        )
        report.enosysAbove = prelude.enosysAbove.map { Int32($0) }
        report.flakeboxRules = [
            "ioctl: arg1 & 0xffffffff == 0x5412 (TIOCSTI) or 0x541C (TIOCLINUX) -> ERRNO(EPERM)"
        ]
        if let above = report.enosysAbove {
            report.flakeboxRules.append("native system call numbers above \(above) -> ERRNO(ENOSYS)")
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(exported.count + 64 * SeccompProgram.instructionSize)
        for instruction in prelude.instructions() {
            instruction.append(to: &bytes)
        }
        bytes += exported
        let count = bytes.count / SeccompProgram.instructionSize
        guard exported.count % SeccompProgram.instructionSize == 0, !exported.isEmpty else {
            throw SeccompProfileError(
                code: .libseccompFailed,
                path: "",
                message: "seccomp_export_bpf produced \(exported.count) bytes, not whole instructions"
            )
        }
        guard count <= SeccompProgram.maximumInstructionCount else {
            throw SeccompProfileError(
                code: .programTooLarge,
                path: "syscalls",
                message: "the compiled filter has \(count) instructions; the kernel accepts at most "
                    + "\(SeccompProgram.maximumInstructionCount)"
            )
        }
        return SeccompProgram(bytes: bytes, architecture: native, report: report)
    }

    // MARK: - Planning

    /// One name of one rule, ready for libseccomp.
    struct PlannedRule {
        var path: String
        var name: String
        /// The number on the native ABI, `nil` when the name does not exist there.
        var nativeNumber: Int32?
        var action: UInt32
        /// One libseccomp rule per element (runc's split for repeated argument indexes).
        var conditionSets: [[scmp_arg_cmp]]
    }

    static func plan(
        _ profile: SeccompProfile,
        table: SyscallTable,
        options: SeccompCompileOptions,
        defaultAction: UInt32,
        report: inout SeccompProgram.Report
    ) throws(SeccompProfileError) -> [PlannedRule] {
        var planned: [PlannedRule] = []
        for (ruleIndex, rule) in profile.syscalls.enumerated() {
            let rulePath = "syscalls[\(ruleIndex)]"
            // Names are checked in every rule, including those dropped below: a typo in a rule that only
            // applies with some capability is still a typo.
            var numbers: [Int32?] = []
            for (nameIndex, name) in rule.names.enumerated() {
                let path = "\(rulePath).names[\(nameIndex)]"
                if let number = table.number(of: name) {
                    numbers.append(number)
                } else if isKnownOnOtherArchitectures(name) {
                    numbers.append(nil)
                } else {
                    throw SeccompProfileError(
                        code: .unknownSyscall, path: path, message: "unknown system call \"\(name)\"")
                }
            }
            // Profiles built in code skip the decoder's checks; never trap on their values.
            for (argumentIndex, argument) in rule.args.enumerated()
            where !(0...SeccompProfile.Argument.maximumIndex).contains(argument.index) {
                throw SeccompProfileError(
                    code: .outOfRange,
                    path: "\(rulePath).args[\(argumentIndex)].index",
                    message:
                        "argument index \(argument.index) is out of range (0...\(SeccompProfile.Argument.maximumIndex))"
                )
            }
            if let reason = dropReason(rule, options: options) {
                report.droppedRules.append(
                    SeccompProgram.DroppedRule(index: ruleIndex, names: rule.names, reason: reason))
                continue
            }
            let action = try resolve(
                rule.action,
                errnoRet: rule.errnoRet ?? profile.defaultErrnoRet,
                path: "\(rulePath).action"
            )
            if action == defaultAction {
                report.rulesMatchingDefaultAction.append(ruleIndex)
                continue
            }
            let conditions = rule.args.map(condition)
            let indexes = rule.args.map(\.index)
            let conditionSets = Set(indexes).count == indexes.count ? [conditions] : conditions.map { [$0] }
            for (nameIndex, name) in rule.names.enumerated() {
                let path = "\(rulePath).names[\(nameIndex)]"
                if numbers[nameIndex] == nil {
                    report.skippedNames.append(
                        SeccompProgram.SkippedName(path: path, name: name, reason: .notOnNativeArchitecture)
                    )
                }
                planned.append(
                    PlannedRule(
                        path: path,
                        name: name,
                        nativeNumber: numbers[nameIndex],
                        action: action,
                        conditionSets: conditionSets
                    )
                )
            }
        }
        return planned
    }

    /// Rejects rule combinations libseccomp would not honour as written. An unconditional rule for a
    /// call swallows every other rule for it: libseccomp 2.5.4 refuses a later conditional rule with
    /// another action (`EACCES`) or drops it silently (seen with `KILL_PROCESS`), and a later
    /// unconditional rule replaces earlier conditional ones. Rules with the same action are redundant,
    /// not conflicting.
    static func checkConflicts(_ planned: [PlannedRule]) throws(SeccompProfileError) {
        var unconditional: [Int32: PlannedRule] = [:]
        var conditional: [Int32: [PlannedRule]] = [:]
        for rule in planned {
            guard let number = rule.nativeNumber else { continue }
            let isUnconditional = rule.conditionSets.contains { $0.isEmpty }
            if let earlier = unconditional[number], earlier.action != rule.action {
                throw conflict(rule, earlier: earlier)
            }
            if isUnconditional {
                if let earlier = conditional[number]?.first(where: { $0.action != rule.action }) {
                    throw conflict(rule, earlier: earlier)
                }
                unconditional[number] = unconditional[number] ?? rule
            } else {
                conditional[number, default: []].append(rule)
            }
        }
    }

    private static func conflict(_ rule: PlannedRule, earlier: PlannedRule) -> SeccompProfileError {
        SeccompProfileError(
            code: .conflictingRules,
            path: rule.path,
            message: "\"\(rule.name)\" also has a rule with another action at \(earlier.path); an unconditional rule "
                + "and a rule with a different action for the same system call cannot both be filtered"
        )
    }

    /// Docker's `excludes` / `includes` evaluation; `nil` keeps the rule.
    static func dropReason(_ rule: SeccompProfile.Syscall, options: SeccompCompileOptions) -> String? {
        let nativeNames = options.nativeArchitecture.profileNames
        if let excludes = rule.excludes {
            if let arch = excludes.arches.first(where: nativeNames.contains) {
                return "excludes.arches contains \(arch)"
            }
            if let cap = excludes.caps.first(where: options.capabilities.contains) {
                return "excludes.caps: \(cap) is granted"
            }
            if let minimum = excludes.minKernel, options.kernelVersion >= minimum {
                return "excludes.minKernel: kernel \(options.kernelVersion) >= \(minimum)"
            }
        }
        if let includes = rule.includes {
            if !includes.arches.isEmpty && !includes.arches.contains(where: nativeNames.contains) {
                return "includes.arches does not contain \(options.nativeArchitecture.profileName)"
            }
            if let cap = includes.caps.first(where: { !options.capabilities.contains($0) }) {
                return "includes.caps: \(cap) is not granted"
            }
            if let minimum = includes.minKernel, options.kernelVersion < minimum {
                return "includes.minKernel: kernel \(options.kernelVersion) < \(minimum)"
            }
        }
        return nil
    }

    /// Whether some other ABI has a system call called `name`: flakebox's other tables, the names
    /// libseccomp predates, or libseccomp's own tables (a pseudo-number below -1 from
    /// `seccomp_syscall_resolve_name`, or a number on any of its ABIs).
    static func isKnownOnOtherArchitectures(_ name: String) -> Bool {
        for architecture in [SeccompArchitecture.x86_64, .aarch64]
        where SyscallTable.table(for: architecture)?.number(of: name) != nil {
            return true
        }
        if SyscallTable.namesOnOtherArchitectures.contains(name) {
            return true
        }
        let pseudo = seccomp_syscall_resolve_name(name)
        if pseudo != fb_nr_scmp_error() {
            return true
        }
        for architecture in SeccompArchitecture.allCases {
            let token = seccomp_arch_resolve_name(architecture.libseccompName)
            if token != 0 && seccomp_syscall_resolve_name_arch(token, name) != fb_nr_scmp_error() {
                return true
            }
        }
        return false
    }

    static func condition(_ argument: SeccompProfile.Argument) -> scmp_arg_cmp {
        let op: scmp_compare =
            switch argument.op {
            case .notEqual: SCMP_CMP_NE
            case .lessThan: SCMP_CMP_LT
            case .lessThanOrEqual: SCMP_CMP_LE
            case .equalTo: SCMP_CMP_EQ
            case .greaterThanOrEqual: SCMP_CMP_GE
            case .greaterThan: SCMP_CMP_GT
            case .maskedEqual: SCMP_CMP_MASKED_EQ
            }
        // For MASKED_EQ libseccomp wants the mask in datum_a and the expected value in datum_b, which is
        // exactly OCI's value / valueTwo.
        return scmp_arg_cmp(arg: UInt32(argument.index), op: op, datum_a: argument.value, datum_b: argument.valueTwo)
    }

    /// The 32-bit libseccomp action for a profile action.
    static func resolve(_ action: SeccompAction, errnoRet: UInt32?, path: String) throws(SeccompProfileError) -> UInt32
    {
        let value = errnoRet ?? UInt32(EPERM)
        guard value <= SeccompProfile.maximumErrno else {
            throw SeccompProfileError(
                code: .outOfRange,
                path: path,
                message: "errno \(value) is out of range (0...\(SeccompProfile.maximumErrno))"
            )
        }
        let code = UInt16(value)
        switch action {
        case .allow: return fb_scmp_act_allow()
        case .kill, .killThread: return fb_scmp_act_kill_thread()
        case .killProcess: return fb_scmp_act_kill_process()
        case .trap: return fb_scmp_act_trap()
        case .log: return fb_scmp_act_log()
        case .errno: return fb_scmp_act_errno(code)
        case .trace: return fb_scmp_act_trace(code)
        case .notify:
            throw SeccompProfileError(
                code: .unsupported,
                path: path,
                message: "SCMP_ACT_NOTIFY is not supported: flakebox runs no seccomp notify agent"
            )
        }
    }

    // MARK: - libseccomp

    static func configure(_ context: borrowing SeccompFilterContext) throws(SeccompProfileError) {
        try context.setAttribute(SCMP_FLTATR_ACT_BADARCH, fb_scmp_act_kill_process(), name: "SCMP_FLTATR_ACT_BADARCH")
        try context.setAttribute(SCMP_FLTATR_CTL_NNP, 0, name: "SCMP_FLTATR_CTL_NNP")
        try context.setAttribute(SCMP_FLTATR_CTL_TSYNC, 0, name: "SCMP_FLTATR_CTL_TSYNC")
        // A binary tree of syscall numbers instead of libseccomp's default linear chain (~350 compares
        // for Docker's profile). Attaching a filter makes the kernel run it once per syscall number to
        // fill its constant-action cache; over the chain that took ~400 µs of every attempt's CPU on
        // the development VM, over the tree ~90 µs. Same decisions, measured in the tests.
        try context.setAttribute(SCMP_FLTATR_CTL_OPTIMIZE, 2, name: "SCMP_FLTATR_CTL_OPTIMIZE")
    }

    /// Builds the foreign ABIs in a context of their own, using libseccomp's name resolution (flakebox
    /// has no tables for them), and merges it into `native`. Returns where their `ioctl` is.
    static func addForeignABIs(
        _ foreign: [SeccompArchitecture],
        rules: [PlannedRule],
        defaultAction: UInt32,
        into native: borrowing SeccompFilterContext,
        report: inout SeccompProgram.Report
    ) throws(SeccompProfileError) -> [SeccompPrelude.IoctlCall] {
        let context = try SeccompFilterContext(defaultAction: defaultAction)
        try configure(context)
        var ioctlCalls: [SeccompPrelude.IoctlCall] = []
        for architecture in foreign {
            let token = seccomp_arch_resolve_name(architecture.libseccompName)
            guard token != 0, context.addArchitecture(token) == 0 else {
                report.excludedArchitectures.append(architecture)
                continue
            }
            report.architectures.append(architecture)
            let number = seccomp_syscall_resolve_name_arch(token, "ioctl")
            if let audit = architecture.auditArch, number >= 0 {
                ioctlCalls.append(SeccompPrelude.IoctlCall(auditArch: audit, number: UInt32(bitPattern: number)))
            }
        }
        guard report.architectures.count > 1 else { return [] }
        let nativeToken = seccomp_arch_native()
        guard context.removeArchitecture(nativeToken) == 0 else {
            throw SeccompFilterContext.failure("seccomp_arch_remove(native)", -EINVAL, path: "")
        }
        var unresolved: Set<String> = []
        for rule in rules {
            // libseccomp numbers are native numbers (or pseudo-numbers for calls the native ABI lacks),
            // translated by name for the ABIs in the context.
            let number = seccomp_syscall_resolve_name(rule.name)
            guard number != fb_nr_scmp_error() else {
                if unresolved.insert(rule.name).inserted {
                    report.skippedNames.append(
                        SeccompProgram.SkippedName(
                            path: rule.path, name: rule.name, reason: .unknownToLibseccompForForeignABIs)
                    )
                }
                continue
            }
            for conditions in rule.conditionSets {
                let result = context.addRule(action: rule.action, syscall: number, conditions: conditions)
                if result == -EFAULT {
                    continue  // not on these ABIs
                }
                guard result == 0 else {
                    throw SeccompProfileError(
                        code: .libseccompFailed,
                        path: rule.path,
                        message: "libseccomp refused the foreign-ABI rule for \"\(rule.name)\": "
                            + SeccompFilterContext.errorName(-result)
                    )
                }
                report.foreignRulesAdded += 1
            }
        }
        try context.merge(into: native)
        return ioctlCalls
    }

    static func libseccompVersion() -> String {
        guard let version = seccomp_version() else { return "unknown" }
        return "\(version.pointee.major).\(version.pointee.minor).\(version.pointee.micro)"
    }
}
