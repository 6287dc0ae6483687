import CFlakeboxSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Finds out, by trying, which isolation layers this machine allows: it runs real sandboxes of
/// a tiny probe command through the same helper and plan as every attempt, first at the full
/// tier, then without the overlay, then without namespaces, and checks cgroups separately.
public enum CapabilityProbe {
    private static let cache = Mutex<[String: IsolationReport]>([:])

    /// Probes once per helper and identity for the life of the process.
    public static func shared(helperPath: String, identity: SandboxIdentity) -> IsolationReport {
        let key = "\(helperPath)|\(identity.uid)|\(identity.gid)"
        if let known = cache.withLock({ $0[key] }) { return known }
        let report = run(helperPath: helperPath, identity: identity)
        cache.withLock { $0[key] = report }
        return report
    }

    /// A seccomp program of one instruction, `return ALLOW`: proves filters load, changes nothing.
    static let allowAllProgram: [UInt8] = [0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0x7f]

    static let probePolicy = Policy(
        name: "probe", summary: "capability probe", minimumTier: .minimal, network: .none,
        filesystem: .init(
            readOnlyPaths: ["/usr", "/bin", "/sbin", "/lib", "/lib64"], etc: [], workspace: "/workspace",
            workspaceSize: 16 << 20, tmpSize: 16 << 20, shmSize: 1 << 20, inodes: 4096),
        limits: .init(
            memory: nil, pids: nil, cpus: nil, cpuSeconds: nil, fileSize: nil, openFiles: nil, processes: nil,
            timeoutSeconds: 20, outputCapture: 8192, outputLimit: 1 << 20),
        environment: .init(passthrough: [], set: ["PATH": "/usr/bin:/bin"]), seccompProfile: "unconfined",
        allowForeignABIs: false, directory: nil)

    /// Removes a lower directory (needs overlay whiteouts: userxattr), writes a file, and shows
    /// the seccomp and no_new_privs state of the sandboxed process.
    static let probeCommand = [
        "/bin/sh", "-c",
        "rm -rf d && echo written > f && cat f && grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status",
    ]

    public static func run(helperPath: String, identity: SandboxIdentity) -> IsolationReport {
        var layers: [IsolationReport.Layer] = []
        let kernel = kernelRelease()
        let cgroups = CgroupSupport.shared
        let cgroupsUsable = cgroups.preferred != nil
        let cgroupDetail =
            cgroups.preferred.map {
                "\($0.version): \($0.controllers.sorted().map(\.rawValue).joined(separator: ", "))"
            }
            ?? cgroups.description

        guard let program = try? SealedProgram(bytes: allowAllProgram) else {
            layers.append(.init(name: "seccomp", available: false, detail: "memfd_create failed"))
            return IsolationReport(
                tier: .minimal, layers: layers, kernel: kernel, rootless: geteuid() != 0, cgroupsUsable: false)
        }
        let full = attempt(helperPath: helperPath, identity: identity, tier: .full, program: program)
        var tier: IsolationTier
        if full.status == .passed {
            tier = .full
            layers.append(.init(name: "namespaces", available: true, detail: "user, mount, pid, net, ipc, uts, cgroup"))
            layers.append(.init(name: "overlayfs", available: true, detail: "copy-on-write workspace (userxattr)"))
        } else if let failure = full.setupFailure, failure.stage.hasPrefix("overlay") || full.status == .failed {
            layers.append(.init(name: "namespaces", available: true, detail: "user, mount, pid, net, ipc, uts, cgroup"))
            let why = full.setupFailure.map(\.description) ?? "removing a lower directory failed: \(full.stderr.text)"
            layers.append(.init(name: "overlayfs", available: false, detail: "\(why); per-attempt copies instead"))
            let copy = attempt(helperPath: helperPath, identity: identity, tier: .reduced, program: program)
            tier = copy.status == .passed ? .reduced : .minimal
        } else {
            let why = full.setupFailure?.description ?? "\(full.status): \(full.stderr.text)"
            layers.append(.init(name: "namespaces", available: false, detail: why))
            layers.append(.init(name: "overlayfs", available: false, detail: "needs namespaces"))
            tier = .minimal
        }
        let seccompRun =
            tier == .minimal
            ? attempt(helperPath: helperPath, identity: identity, tier: .minimal, program: program)
            : full
        let status = seccompRun.stdout.text
        let seccompOK = status.contains("Seccomp:\t2")
        layers.append(
            .init(
                name: "seccomp", available: seccompOK,
                detail: seccompOK
                    ? "filters load in the sandbox"
                    : "filter not in force: \(seccompRun.setupFailure?.description ?? seccompRun.stderr.text)"))
        layers.append(
            .init(
                name: "no_new_privs", available: status.contains("NoNewPrivs:\t1"),
                detail: status.contains("NoNewPrivs:\t1") ? "set before exec" : "not set"))
        layers.append(.init(name: "cgroups", available: cgroupsUsable, detail: cgroupDetail))
        if tier == .full && !cgroupsUsable { tier = .reduced }
        layers += minimalLayers(helperPath: helperPath, identity: identity, program: program)
        if tier == .minimal {
            let found = Set(layers.filter(\.available).map(\.name))
            layers += IsolationReport.minimalGaps(
                guarded: found.contains(IsolationReport.loopbackGuard),
                landlocked: found.contains(IsolationReport.landlock),
                privateTemp: found.contains(IsolationReport.privateDirectories))
        }
        return IsolationReport(
            tier: tier, layers: layers, kernel: kernel, rootless: geteuid() != 0, cgroupsUsable: cgroupsUsable)
    }

    /// The minimal tier's stand-ins, tried in one attempt: the loopback guard (seccomp user
    /// notification and pidfd_getfd) and, for a root supervisor, a uid of the attempt's own.
    static func minimalLayers(helperPath: String, identity: SandboxIdentity, program: SealedProgram)
        -> [IsolationReport.Layer]
    {
        let slotUID = identity.dropsPrivileges ? AttemptSlots.uid(AttemptSlots.count - 1) : nil
        let both = attempt(
            helperPath: helperPath, identity: identity, tier: .minimal, program: program, netGuard: true,
            slotUID: slotUID, command: ["/bin/sh", "-c", "id -u"])
        // A container that maps few uids (userns-remap) refuses the slot's uid: the guard alone.
        let run =
            both.status == .passed || slotUID == nil
            ? both
            : attempt(
                helperPath: helperPath, identity: identity, tier: .minimal, program: program, netGuard: true,
                command: ["/bin/sh", "-c", "id -u"])
        let guardOK = run.status == .passed
        let why = run.setupFailure?.description ?? "\(run.status): \(run.stderr.text)"
        let slotWhy = both.setupFailure?.description ?? "\(both.status): \(both.stderr.text)"
        var layers: [IsolationReport.Layer] = [
            .init(
                name: IsolationReport.loopbackGuard, available: guardOK,
                detail: guardOK
                    ? "minimal tier: own 127.x.y.z per attempt, no egress (seccomp user notification); "
                        + (fb_pidfd_getfd_permitted() != 0
                            ? "calls performed by the launcher on the attempt's socket"
                            : "pidfd_getfd refused (no CAP_SYS_PTRACE): addresses rewritten in place, which a"
                                + " test racing its own call from a second thread can undo")
                    : "minimal tier: \(why)")
        ]
        let abi = fb_landlock_abi()
        let confined = attempt(
            helperPath: helperPath, identity: identity, tier: .minimal, program: program, landlock: true,
            // Writes its own copy; the directory beside it (its owner's too) must be refused.
            command: ["/bin/sh", "-c", "echo x > f && ! (echo y > ../lower/g) 2>/dev/null"])
        let landlockOK = abi >= 1 && confined.status == .passed
        layers.append(
            .init(
                name: IsolationReport.landlock, available: landlockOK,
                detail: landlockOK
                    ? "minimal tier: ABI \(abi): writes only beneath the attempt's directories, reads only the"
                        + " policy's paths" + (abi >= 6 ? "; signals and abstract sockets scoped" : "")
                    : abi < 1
                        ? "minimal tier: the kernel has no Landlock (or it is disabled at boot)"
                        : "minimal tier: \(confined.setupFailure?.description ?? "\(confined.status): \(confined.stderr.text)")"
            ))
        layers.append(
            privateDirectoriesLayer(
                helperPath: helperPath, identity: identity, program: program, guarded: guardOK, landlocked: landlockOK))
        if let slotUID {
            let ok =
                both.status == .passed
                && both.stdout.text.trimmingCharacters(in: .whitespacesAndNewlines) == "\(slotUID)"
            layers.append(
                .init(
                    name: IsolationReport.slotUIDs, available: ok,
                    detail: ok
                        ? "minimal tier: a uid per attempt slot; leftovers killed when the command exits"
                        : "minimal tier: \(slotWhy)"))
        } else {
            layers.append(
                .init(
                    name: IsolationReport.slotUIDs, available: false,
                    detail: "rootless: attempts share the supervisor's uid (they can signal each other)"))
        }
        return layers
    }

    /// The path guard, tried for real: an attempt writes `/tmp`, `/var/tmp` and `/dev/shm` by
    /// their absolute paths, and the files must land in its own directories.
    static func privateDirectoriesLayer(
        helperPath: String, identity: SandboxIdentity, program: SealedProgram, guarded: Bool, landlocked: Bool
    ) -> IsolationReport.Layer {
        let name = IsolationReport.privateDirectories
        guard guarded else {
            return .init(
                name: name, available: false, detail: "minimal tier: needs the loopback guard's seccomp notification")
        }
        guard landlocked else {
            return .init(
                name: name, available: false,
                detail:
                    "minimal tier: needs Landlock, which keeps the shared /tmp closed when a path escapes the rewrite")
        }
        guard access(PrivateDirectories.aliasDirectory, W_OK) == 0 else {
            return .init(
                name: name, available: false,
                detail: "minimal tier: the supervisor may not write / for the aliases (rootless, or a read-only root)")
        }
        let marker = "flakebox-probe-\(getpid())"
        let run = attempt(
            helperPath: helperPath, identity: identity, tier: .minimal, program: program, netGuard: true,
            landlock: true, privateDirectories: true,
            command: [
                "/bin/sh", "-c",
                "for d in /tmp /var/tmp /dev/shm; do echo ok > $d/\(marker) && [ \"$(cat $d/\(marker))\" = ok ] || exit 1; done",
            ])
        guard run.status == .passed else {
            return .init(
                name: name, available: false,
                detail: "minimal tier: \(run.setupFailure?.description ?? "\(run.status): \(run.stderr.text)")")
        }
        return .init(
            name: name, available: true,
            detail: "minimal tier: absolute paths beneath /tmp, /var/tmp and /dev/shm rewritten to the attempt's own"
                + " directories (seccomp notification on path calls; aliases /.XY at /)")
    }

    static func attempt(
        helperPath: String, identity: SandboxIdentity, tier: IsolationTier, program: SealedProgram,
        netGuard: Bool = false, slotUID: UInt32? = nil, landlock: Bool = false, privateDirectories: Bool = false,
        command: [String] = probeCommand
    ) -> AttemptResult {
        let base = NSTemporaryDirectory() + "flakebox-probe-\(getpid())-\(tier.rawValue)"
        defer { WorkspaceFiles.removeTree(base) }
        let lower = "\(base)/lower"
        do {
            try WorkspaceFiles.makeDirectory("\(lower)/d/e", uid: nil, gid: nil, mode: 0o755)
            WorkspaceFiles.writeFile("\(lower)/d/e/x", Array("x".utf8))
            try WorkspaceFiles.chownTree(lower, uid: identity.uid, gid: identity.gid)
        } catch {
            return Sandbox.harnessFailure("probe-workspace", error.errno ?? 0, tier: tier)
        }
        var source = lower
        if tier != .full {
            source = "\(base)/copy"
            do { try WorkspaceFiles.copyTree(lower, to: source) } catch {
                return Sandbox.harnessFailure("probe-copy", error.errno ?? 0, tier: tier)
            }
        }
        if let slotUID {
            do { try WorkspaceFiles.chownTree(source, uid: slotUID, gid: slotUID) } catch {
                return Sandbox.harnessFailure("probe-chown", error.errno ?? 0, tier: tier)
            }
        }
        var directories: PrivateDirectories?
        if privateDirectories {
            do {
                directories = try PrivateDirectories.make(in: "\(base)/private", uid: identity.uid, gid: identity.gid)
            } catch {
                return Sandbox.harnessFailure("private-directories", error.errno ?? 0, tier: tier)
            }
        }
        defer { directories?.remove() }
        let request = AttemptRequest(command: command, workspace: lower, label: "probe")
        let etc = tier == .minimal ? nil : try? CuratedEtc(entries: [], scratch: base)
        let arguments = HelperArguments(
            policy: probePolicy, tier: tier, identity: identity, hasSeccomp: true, etc: etc?.path, netGuard: netGuard,
            landlock: landlock, privateDirectories: privateDirectories
        )
        .arguments(
            for: request, workspaceSource: source, cgroupProcs: [], environment: probePolicy.environment.set,
            slotUID: slotUID, writable: landlock ? [source] + (privateDirectories ? ["\(base)/private"] : []) : [],
            privateDirectories: directories)
        let plan = ExecutionPlan(
            helperPath: helperPath, arguments: arguments, seccompFD: program.fd, timeoutSeconds: 20,
            outputCapture: 8192, outputLimit: 1 << 20, tier: tier, cgroup: nil)
        let cancel = CancelSignal()
        defer { cancel.close() }
        return AttemptExecution.execute(plan, cancel: cancel)
    }

    static func kernelRelease() -> String {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}
