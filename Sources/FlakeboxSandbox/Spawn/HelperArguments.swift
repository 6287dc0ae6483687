import Foundation

/// Turns a policy, a tier and one request into the helper's command line (passed on a memfd,
/// never in argv, so PID 1's /proc/1/cmdline shows nothing of it).
struct HelperArguments {
    /// Descriptor numbers inside the helper (see `AttemptExecution`).
    static let reportFD = 3
    static let lifelineFD = 4
    static let seccompFD = 5
    static let argsFD = 6

    var policy: Policy
    var tier: IsolationTier
    var request: AttemptRequest
    /// The checkout as the sandbox should see it: the original (overlay / writable) or a
    /// per-attempt copy (below the full tier).
    var workspaceSource: String
    /// Private TMPDIR and HOME on the host, for the minimal tier.
    var minimalTierTemp: String?
    var identity: SandboxIdentity
    var cgroupProcs: [String]
    var hasSeccomp: Bool
    var environment: [String: String]

    /// What is `path` on the host: a symlink (recreated as one), a file or dir (bound), or absent.
    static func hostEntry(_ path: String) -> (exists: Bool, symlinkTarget: String?) {
        if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: path) { return (true, target) }
        return (FileManager.default.fileExists(atPath: path), nil)
    }

    func arguments() -> [String] {
        var args = ["--report-fd", "\(Self.reportFD)", "--lifeline-fd", "\(Self.lifelineFD)"]
        if hasSeccomp { args += ["--seccomp-fd", "\(Self.seccompFD)"] }
        if identity.dropsPrivileges {
            args += ["--uid", "\(identity.uid)", "--gid", "\(identity.gid)"]
        }
        args += ["--inner-uid", "\(SandboxIdentity.innerUID)", "--inner-gid", "\(SandboxIdentity.innerGID)"]
        for path in cgroupProcs { args += ["--cgroup-procs", path] }
        let limits = policy.limits
        args += ["--rlimit", "core", "0"]
        if let n = limits.openFiles { args += ["--rlimit", "nofile", "\(n)"] }
        if let n = limits.processes { args += ["--rlimit", "nproc", "\(n)"] }
        if let n = limits.fileSize { args += ["--rlimit", "fsize", "\(n)"] }
        if let n = limits.cpuSeconds { args += ["--rlimit", "cpu", "\(n)"] }

        if tier == .minimal {
            args += ["--no-namespaces", "--chdir", workspaceSource]
        } else {
            args += namespacedView()
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            args += ["--setenv", "\(name)=\(value)"]
        }
        return args + ["--"] + request.command
    }

    private func namespacedView() -> [String] {
        let fs = policy.filesystem
        var args = ["--hostname", "flakebox"]
        if policy.network == .host { args.append("--share-net") }
        for path in fs.readOnlyPaths {
            let entry = Self.hostEntry(path)
            guard entry.exists else { continue }
            if let target = entry.symlinkTarget {
                args += ["--symlink", target, path]
            } else {
                args += ["--ro-bind", path, path]
            }
        }
        args += ["--dir", "/etc"]
        args += ["--file", SandboxIdentity.passwd, "/etc/passwd", "--file", SandboxIdentity.group, "/etc/group"]
        for entry in fs.etc where entry != "passwd" && entry != "group" {
            let path = "/etc/\(entry)"
            let host = Self.hostEntry(path)
            guard host.exists else { continue }
            if let target = host.symlinkTarget {
                args += ["--symlink", target, path]
            } else {
                args += ["--ro-bind", path, path]
            }
        }
        switch (tier, request.workspaceMode) {
        case (.full, .overlay):
            args += ["--overlay", workspaceSource, fs.workspace, "\(fs.workspaceSize)", "\(fs.inodes)"]
        default:
            args += ["--bind", workspaceSource, fs.workspace]
        }
        args += ["--tmpfs", "/tmp", "\(fs.tmpSize)", "\(fs.inodes)"]
        args += ["--proc", "/proc", "--dev", "/dev", "\(fs.shmSize)"]
        args += ["--chdir", fs.workspace]
        return args
    }
}
