import Foundation

/// The helper's command line (passed on a memfd, never in argv, so PID 1's /proc/1/cmdline
/// shows nothing of it). What depends only on the policy and tier — identities, rlimits and the
/// filesystem view, which takes a look at ~25 host paths — is built once per sandbox; each
/// attempt appends its cgroups, workspace, environment and command.
struct HelperArguments: Sendable {
    /// Descriptor numbers inside the helper (see `AttemptExecution`).
    static let reportFD = 3
    static let lifelineFD = 4
    static let seccompFD = 5
    static let argsFD = 6
    static let artifactFD = 7
    static let holdFD = 8

    let policy: Policy
    let tier: IsolationTier
    /// The arguments every attempt of this policy and tier shares.
    let common: [String]

    /// - Parameters:
    ///   - etc: host directory to bind read-only at `/etc` (namespaced tiers).
    ///   - netGuard: minimal tier: give each attempt a loopback of its own (seccomp notification).
    ///   - landlock: minimal tier: confine reads to the policy's paths, writes to the attempt's own.
    ///   - privateDirectories: minimal tier: attempts get `PrivateDirectories` (so the shared
    ///     `/dev/shm` is not granted).
    init(
        policy: Policy, tier: IsolationTier, identity: SandboxIdentity, hasSeccomp: Bool, etc: String?,
        netGuard: Bool = false, landlock: Bool = false, privateDirectories: Bool = false,
        egressAllowsPrivateAddresses: Bool = false
    ) {
        self.policy = policy
        self.tier = tier
        var args = ["--report-fd", "\(Self.reportFD)", "--lifeline-fd", "\(Self.lifelineFD)"]
        if hasSeccomp { args += ["--seccomp-fd", "\(Self.seccompFD)"] }
        if identity.dropsPrivileges {
            args += ["--uid", "\(identity.uid)", "--gid", "\(identity.gid)"]
        }
        args += ["--inner-uid", "\(SandboxIdentity.innerUID)", "--inner-gid", "\(SandboxIdentity.innerGID)"]
        let limits = policy.limits
        args += ["--rlimit", "core", "0"]
        if let n = limits.openFiles { args += ["--rlimit", "nofile", "\(n)"] }
        if let n = limits.processes { args += ["--rlimit", "nproc", "\(n)"] }
        if let n = limits.fileSize { args += ["--rlimit", "fsize", "\(n)"] }
        if let n = limits.cpuSeconds { args += ["--rlimit", "cpu", "\(n)"] }
        if tier == .minimal {
            args.append("--no-namespaces")
            if netGuard { args.append("--net-guard") }
            if policy.network != .none { args.append("--share-net") }
            if policy.network == .proxy && netGuard && !egressAllowsPrivateAddresses { args.append("--egress-public") }
            if landlock { args += Self.landlockView(policy, sharedShm: !privateDirectories) }
        } else {
            args += Self.filesystemView(policy, etc: etc)
            if policy.network == .proxy {
                args += ["--egress-proxy", "\(Policy.egressProxyPort)"]
                if egressAllowsPrivateAddresses { args.append("--egress-allow-private") }
            }
        }
        common = args
    }

    /// What is `path` on the host: a symlink (recreated as one), a file or dir (bound), or absent.
    static func hostEntry(_ path: String) -> (exists: Bool, symlinkTarget: String?) {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) { return (true, target) }
        return (FileManager.default.fileExists(atPath: path), nil)
    }

    /// What a minimal-tier attempt may read (and, for the harmless devices, write) besides its
    /// own directories. Without the path guard's private directories, /dev/shm stays writable and
    /// shared (POSIX semaphores need it; reported in the isolation warning); with them, the shared
    /// one is closed, so a path that escapes the rewrite gets EACCES.
    static func landlockView(_ policy: Policy, sharedShm: Bool = true) -> [String] {
        var args = ["--landlock"]
        for path in policy.filesystem.readOnlyPaths + ["/etc", "/proc", "/dev/random", "/dev/urandom"]
            + passthroughPaths(policy)
        {
            args += ["--landlock-ro", path]
        }
        for path in ["/dev/null", "/dev/zero", "/dev/full"] + (sharedShm ? ["/dev/shm"] : []) {
            args += ["--landlock-rw", path]
        }
        return args
    }

    /// Host paths named by the variables the policy passes through from the supervisor (a
    /// `PIP_FIND_LINKS` wheel directory, a `PIP_CERT`): what a policy hands over it lets the
    /// attempt read. Never from a job's own variables, nor from a name that looks like a secret.
    static func passthroughPaths(
        _ policy: Policy, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> [String] {
        var paths: [String] = []
        for name in policy.environment.passthrough where !Sandbox.isSecretName(name) {
            guard let value = environment[name] else { continue }
            for word in value.split(whereSeparator: { $0 == " " || $0 == ":" }) where word.hasPrefix("/") {
                let path = String(word)
                if Policy.isCleanAbsolute(path) && FileManager.default.fileExists(atPath: path) { paths.append(path) }
            }
        }
        return paths
    }

    private static func filesystemView(_ policy: Policy, etc: String?) -> [String] {
        let fs = policy.filesystem
        var args = ["--hostname", "flakebox"]
        if policy.network == .host { args.append("--share-net") }
        for path in fs.readOnlyPaths {
            let entry = hostEntry(path)
            guard entry.exists else { continue }
            if let target = entry.symlinkTarget {
                args += ["--symlink", target, path]
            } else {
                args += ["--ro-bind", path, path]
            }
        }
        args += etc.map { ["--ro-bind", $0, "/etc"] } ?? ["--dir", "/etc"]
        args += ["--tmpfs", "/tmp", "\(fs.tmpSize)", "\(fs.inodes)"]
        args += ["--proc", "/proc", "--dev", "/dev", "\(fs.shmSize)"]
        return args
    }

    /// The full command line of one attempt.
    /// - Parameters:
    ///   - slotUID: minimal tier: the uid that is this attempt's alone (see `AttemptSlots`).
    ///   - writable: minimal tier with Landlock: the attempt's own directories.
    ///   - readable: minimal tier with Landlock: more it may read (the checkout it is a copy of,
    ///     which a virtualenv's scripts name in their `#!` lines).
    ///   - privateDirectories: minimal tier: the attempt's own `/tmp`, `/var/tmp`, `/dev/shm`.
    func arguments(
        for request: AttemptRequest, workspaceSource: String, cgroupProcs: [String], cpuUsage: String? = nil,
        environment: [String: String], privateTemp: String? = nil, slotUID: UInt32? = nil, writable: [String] = [],
        readable: [String] = [], privateDirectories: PrivateDirectories? = nil
    ) -> [String] {
        baseArguments(
            for: request, workspaceSource: workspaceSource, cgroupProcs: cgroupProcs, cpuUsage: cpuUsage,
            privateTemp: privateTemp)
            + slotArguments(
                slotUID: slotUID, writable: writable, readable: readable, privateDirectories: privateDirectories)
            + lateArguments(for: request, environment: environment)
    }

    /// The minimal tier's per-attempt confinement: its uid, private directories and Landlock paths.
    func slotArguments(
        slotUID: UInt32?, writable: [String], readable: [String], privateDirectories: PrivateDirectories?
    ) -> [String] {
        var slot = slotUID.map { ["--uid", "\($0)", "--gid", "\($0)", "--own-uid"] } ?? []
        slot += privateDirectories?.helperArguments ?? []
        for path in writable { slot += ["--landlock-rw", path] }
        for path in readable { slot += ["--landlock-ro", path] }
        return slot
    }

    /// What a held launcher gets last: the environment and the command.
    func lateArguments(for request: AttemptRequest, environment: [String: String]) -> [String] {
        var args = request.noise?.helperArguments ?? []
        if request.shellFallback { args.append("--shell-fallback") }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            args += ["--setenv", "\(name)=\(value)"]
        }
        return args + ["--"] + request.command
    }

    /// Everything but the environment and the command: what a launcher needs to join its cgroups
    /// and wait (see `WarmLaunchers`).
    /// - Parameters:
    ///   - workspaceSource: the checkout as the sandbox should see it: the original (overlay,
    ///     writable) or a per-attempt copy (below the full tier).
    ///   - cpuUsage: the cgroup file with the attempt's CPU usage (``AttemptCgroup/cpuUsageFile``):
    ///     the launcher reports it as the command starts, so the sandbox's construction is not
    ///     counted as the test's CPU time.
    func baseArguments(
        for request: AttemptRequest, workspaceSource: String, cgroupProcs: [String], cpuUsage: String? = nil,
        privateTemp: String? = nil
    ) -> [String] {
        var args = common
        for path in cgroupProcs { args += ["--cgroup-procs", path] }
        if let cpuUsage { args += ["--cpu-usage", cpuUsage] }
        if !request.artifacts.isEmpty { args += ["--artifact-fd", "\(Self.artifactFD)"] }
        if tier == .minimal {
            args += ["--chdir", workspaceSource]
            // No mount namespace: the sandbox's paths are host paths of the copy and private temp.
            for pattern in request.artifacts {
                args += [
                    "--artifact",
                    Self.hostPath(
                        pattern, workspace: policy.filesystem.workspace, copy: workspaceSource, temp: privateTemp),
                ]
            }
        } else {
            for pattern in request.artifacts { args += ["--artifact", pattern] }
            let fs = policy.filesystem
            if tier == .full {
                // A writable checkout (setup) is an overlay too, its upper within the policy's
                // size and inode limits, applied to the checkout after a setup that passed.
                let mode = request.workspaceMode == .overlay ? "--overlay" : "--overlay-commit"
                args += [mode, workspaceSource, fs.workspace, "\(fs.workspaceSize)", "\(fs.inodes)"]
            } else {
                args += ["--bind", workspaceSource, fs.workspace]
            }
            args += ["--chdir", fs.workspace]
        }
        return args
    }

    /// Maps a sandbox path to the host path the minimal tier uses for it.
    static func hostPath(_ path: String, workspace: String, copy: String, temp: String?) -> String {
        if path == workspace || path.hasPrefix(workspace + "/") { return copy + path.dropFirst(workspace.count) }
        if let temp, path == "/tmp" || path.hasPrefix("/tmp/") { return temp + path.dropFirst(4) }
        return path
    }
}
