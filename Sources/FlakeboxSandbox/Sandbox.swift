import CFlakeboxSpawn
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Runs attempts under one policy: compiles its seccomp profile once, checks that the machine
/// gives at least the policy's minimum isolation tier, and gives every attempt its own sandbox.
public final class Sandbox: Sendable {
    public struct Options: Sendable {
        public var identity: SandboxIdentity
        /// Host directory for per-attempt copies and private temp dirs (below the full tier).
        public var scratchDirectory: String
        /// Run at this tier rather than the strongest the machine allows (never below the
        /// policy's minimum, never above what the probe found).
        public var tier: IsolationTier?
        public var helperPath: String?
        /// Tests only: a `network: proxy` sandbox's proxy may reach loopback and private addresses
        /// (a test's package index listens on 127.0.0.1; the machine reaches nothing public).
        public var egressAllowsPrivateAddresses: Bool
        /// What all of this sandbox's attempts together may use (a job's memory budget, set on
        /// their parent cgroup); nil: only each attempt's own limit.
        public var memoryBudgetBytes: UInt64?
        /// The workspaces this sandbox's attempts overlay do not change between attempts (a job's
        /// prepared checkout): below the full tier the next attempt's copy is made while the
        /// current one runs.
        public var frozenWorkspaces = false
        /// Launchers are forked from a resident one rather than executed per attempt (see
        /// `LauncherServer`); `FLAKEBOX_LAUNCHER_SERVER=0` in the supervisor's environment
        /// executes each, as before (for comparing the two).
        public var launcherServer = getenv("FLAKEBOX_LAUNCHER_SERVER").map { String(cString: $0) != "0" } ?? true

        public init(
            identity: SandboxIdentity = .current(), scratchDirectory: String? = nil, tier: IsolationTier? = nil,
            helperPath: String? = nil, egressAllowsPrivateAddresses: Bool = false, memoryBudgetBytes: UInt64? = nil
        ) {
            self.identity = identity
            self.scratchDirectory = scratchDirectory ?? NSTemporaryDirectory() + "flakebox-\(getpid())"
            self.tier = tier
            self.helperPath = helperPath
            self.egressAllowsPrivateAddresses = egressAllowsPrivateAddresses
            self.memoryBudgetBytes = memoryBudgetBytes
        }
    }

    public let policy: Policy
    public let options: Options
    /// What this sandbox's attempts get: the machine's measured layers, less those that a weaker
    /// tier asked for leaves out.
    public let isolation: IsolationReport
    /// The tier every attempt of this sandbox runs at.
    public let tier: IsolationTier
    let helperPath: String
    let program: SealedProgram?
    /// Facts about the seccomp program, for reports.
    public let seccompInstructionCount: Int?
    let cgroups: CgroupPool?
    let helperArguments: HelperArguments
    let warm = WarmLaunchers()
    /// Forks this sandbox's launchers (nil: each is executed; `Options.launcherServer`).
    let server: LauncherServer?
    /// Launchers of attempts already reported, reaped off the path (full tier).
    let teardowns = LauncherTeardowns()
    /// Below the full tier: attempt scratches made ahead, and used ones removed off the path.
    let prepared = PreparedScratches()
    let etc: CuratedEtc?
    private let counter = Atomic<Int>(0)
    /// This sandbox's number in the process (names its scratch and cgroup directories).
    let serial: Int
    private static let sandboxSerial = Atomic<Int>(0)
    /// Groups left by supervisors that died without shutting down, removed once per process.
    private static let staleGroupsSwept: Bool = {
        _ = CgroupManager.removeStaleGroups(support: .shared)
        return true
    }()
    /// Scratch directories of dead supervisors, removed once per process.
    private static let staleScratchSwept: Bool = {
        ScratchSweeper.removeStale(in: ["/dev/shm", NSTemporaryDirectory()])
        return true
    }()
    /// Aliases at / of dead supervisors (see `PrivateDirectories`), removed once per process.
    private static let staleAliasesSwept: Bool = {
        PrivateDirectories.removeStale()
        return true
    }()
    /// Minimal tier: attempts get a private /tmp, /var/tmp and /dev/shm (the path guard).
    let privateDirectories: Bool
    /// Where the minimal tier's per-attempt copies and directories go (see `attemptScratch`).
    let scratchRoot: String

    public init(policy: Policy, options: Options = Options(), isolation: IsolationReport? = nil) throws(SandboxError) {
        guard let helper = options.helperPath ?? HelperLocator.helperPath() else {
            throw SandboxError(
                .helperNotFound,
                "cannot find \(HelperLocator.helperName) beside \(HelperLocator.executableDirectory().path) or on PATH;"
                    + " set FLAKEBOX_SANDBOX_HELPER")
        }
        let report = isolation ?? CapabilityProbe.shared(helperPath: helper, identity: options.identity)
        let tier = options.tier ?? report.tier
        if tier > report.tier {
            throw SandboxError(
                .tierTooWeak,
                "asked for the \(tier) tier, but this machine allows \(report.tier): missing \(report.missingSummary)")
        }
        if tier < policy.minimumTier {
            throw SandboxError(
                .tierTooWeak,
                "policy \"\(policy.name)\" needs at least the \(policy.minimumTier) tier; "
                    + (options.tier == nil
                        ? "this machine allows \(report.tier): missing \(report.missingSummary)"
                        : "the \(tier) tier was asked for"))
        }
        self.policy = policy
        self.options = options
        self.isolation = report.at(tier)
        self.tier = tier
        _ = Self.staleScratchSwept
        serial = Self.sandboxSerial.wrappingAdd(1, ordering: .relaxed).newValue
        self.helperPath = helper
        server = options.launcherServer ? LauncherServer(helperPath: helper) : nil

        if policy.seccompProfile == "unconfined" {
            program = nil
            seccompInstructionCount = nil
        } else {
            let compiled = try Self.compileSeccomp(policy)
            program = try SealedProgram(bytes: compiled.bytes)
            seccompInstructionCount = compiled.bytes.count / 8
        }

        etc = tier == .minimal ? nil : try CuratedEtc(entries: policy.filesystem.etc, scratch: options.scratchDirectory)
        privateDirectories = tier == .minimal && report.has(IsolationReport.privateDirectories)
        if privateDirectories { _ = Self.staleAliasesSwept }
        scratchRoot = privateDirectories ? Self.attemptScratch() ?? options.scratchDirectory : options.scratchDirectory
        helperArguments = HelperArguments(
            policy: policy, tier: tier, identity: options.identity, hasSeccomp: program != nil, etc: etc?.path,
            netGuard: tier == .minimal && report.has(IsolationReport.loopbackGuard),
            landlock: tier == .minimal && report.has(IsolationReport.landlock), privateDirectories: privateDirectories,
            egressAllowsPrivateAddresses: options.egressAllowsPrivateAddresses)
        if report.cgroupsUsable {
            _ = Self.staleGroupsSwept
            do {
                // A parent group per sandbox, so that one sandbox's shutdown never touches another's.
                // Memory and pids always (the OOM verdict, peak memory, the fork-bomb limit), CPU
                // accounting always (rusage loses a killed attempt's CPU time), the CPU quota only
                // when the policy sets one.
                var wanted: Set<CgroupController> = [.memory, .pids, .cpuacct]
                if policy.limits.cpus != nil { wanted.insert(.cpu) }
                let manager = try CgroupManager(
                    support: .shared, parentName: "flakebox-\(getpid())-\(serial)", controllers: wanted,
                    parentMemoryBytes: options.memoryBudgetBytes)
                let limits = policy.limits
                cgroups = CgroupPool(
                    manager: manager,
                    limits: CgroupLimits(memoryBytes: limits.memory, pidsMax: limits.pids, cpuCores: limits.cpus))
            } catch {
                throw SandboxError(.system, "cgroups: \(error)")
            }
        } else {
            cgroups = nil
        }
    }

    deinit {
        teardowns.wait()
        warm.drain { cgroups?.retire($0) }
        prepared.drain { cgroups?.retire($0) }
        // Gone before the cgroups: it lives in the supervisor's own cgroup (see `shutdown()`).
        server?.shutdown()
        try? cgroups?.manager.shutdown()
        // Only when empty: other sandboxes of this process may share the directory.
        rmdir(scratchRoot)
        rmdir(options.scratchDirectory)
    }

    /// A tmpfs for the minimal tier's per-attempt copy and directories, when /dev/shm has room
    /// (Docker gives 64 MB by default, too little for the attempts' temporary files): each
    /// attempt creates and removes its tree, ~100 ms on this VM's ext4 /tmp under load against
    /// ~10 ms on tmpfs. Only with the path guard: without it /dev/shm is shared and writable by
    /// every attempt (Landlock allows it), and the other attempts' trees must not be beneath it.
    static func attemptScratch() -> String? {
        var info = statvfs()
        guard access("/dev/shm", W_OK | X_OK) == 0, statvfs("/dev/shm", &info) == 0,
            UInt64(info.f_bavail) * UInt64(info.f_frsize) >= 1 << 30
        else { return nil }
        return "/dev/shm/flakebox-\(getpid())"
    }

    static func compileSeccomp(_ policy: Policy) throws(SandboxError) -> SeccompProgram {
        let url: URL
        if policy.seccompProfile.hasPrefix("/") {
            url = URL(fileURLWithPath: policy.seccompProfile)
        } else {
            url = (policy.directory ?? URL(fileURLWithPath: ".")).appendingPathComponent(policy.seccompProfile)
        }
        do {
            let profile = try SeccompProfile.load(contentsOf: url)
            return try SeccompCompiler.compile(
                profile, options: SeccompCompileOptions(allowForeignABIs: policy.allowForeignABIs))
        } catch {
            throw SandboxError(.seccomp, "\(url.path): \(error)")
        }
    }

    /// Gives the checkout at `path` to the sandbox user, so copy-on-write works in the user
    /// namespace (a root supervisor only; a rootless one already owns what it cloned).
    public func adoptWorkspace(_ path: String) throws(SandboxError) {
        try WorkspaceFiles.chownTree(path, uid: options.identity.uid, gid: options.identity.gid)
    }

    /// The environment of an attempt: the policy's variables, the allowed pass-through ones from
    /// this process, then the request's. Nothing else of the supervisor's environment.
    func environment(for request: AttemptRequest, privateTemp: String?) -> [String: String] {
        var env = policy.environment.set
        let mine = ProcessInfo.processInfo.environment
        for name in policy.environment.passthrough where !Self.isSecretName(name) {
            if let value = mine[name] { env[name] = value }
        }
        // A request's variables are the job's own (a test may need its API_TOKEN); only names that
        // belong to the supervisor are refused.
        for (name, value) in request.environment
        where !Self.isSupervisorName(name) && Policy.isValidVariableName(name) {
            env[name] = value
        }
        if let privateTemp {
            env["HOME"] = privateTemp
            env["TMPDIR"] = privateTemp
        }
        // The only way out of a `proxy` sandbox; the host's own proxy settings do not apply in it.
        if policy.network == .proxy && tier != .minimal {
            let proxy = "http://127.0.0.1:\(Policy.egressProxyPort)"
            for name in ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"] { env[name] = proxy }
            for name in ["NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"] { env[name] = nil }
        }
        return env
    }

    /// Names of the supervisor's own configuration, refused even from a request.
    public static func isSupervisorName(_ name: String) -> Bool {
        let upper = name.uppercased()
        return upper.hasPrefix("RUNPOD_") || upper.hasPrefix("FLAKEBOX_")
    }

    /// Names that may hold the supervisor's secrets: never passed through from its environment,
    /// whatever a policy lists.
    public static func isSecretName(_ name: String) -> Bool {
        let upper = name.uppercased()
        if upper.hasPrefix("RUNPOD_") || upper.hasPrefix("FLAKEBOX_") { return true }
        return ["API_KEY", "APIKEY", "SECRET", "TOKEN", "PASSWORD", "CREDENTIAL"].contains { upper.contains($0) }
    }

    /// Runs one attempt to completion. Cancelling the task kills the attempt (status `cancelled`).
    /// - Parameter observer: sees the output as it arrives (from the attempt's own thread), for
    ///   showing it live; the result keeps its capped capture either way.
    public func run(_ request: AttemptRequest, observer: OutputObserver? = nil) async -> AttemptResult {
        let index = counter.wrappingAdd(1, ordering: .relaxed).newValue
        let label = String(request.label.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }.prefix(40))
        // Unique in the process: sandboxes of one process share the scratch directory.
        let name = "\(label.isEmpty ? "attempt" : label)-\(serial)-\(index)"
        let limits = policy.limits

        // At the full tier an attempt's launcher depends on the request only through its shape
        // (workspace, mode, artifacts): one started ahead for the same shape is used, and the
        // next one is started while this attempt runs.
        let warmKey = tier == .full ? Self.warmKey(request) : nil
        if let warmKey {
            let environment = environment(for: request, privateTemp: nil)
            if let launcher = warm.take(warmKey) {
                prepareWarmLauncher(for: request, key: warmKey)
                var plan = ExecutionPlan(
                    helperPath: helperPath,
                    arguments: helperArguments.lateArguments(for: request, environment: environment),
                    seccompFD: program?.fd, timeoutSeconds: request.timeoutSeconds ?? limits.timeoutSeconds,
                    outputCapture: limits.outputCapture, outputLimit: limits.outputLimit, tier: tier,
                    cgroup: launcher.cgroup, observer: observer, warm: launcher.helper)
                endAtExitRecord(&plan, request: request)
                return await AttemptExecution.run(plan)
            }
            prepareWarmLauncher(for: request, key: warmKey)
        }

        // Below the full tier: the attempt's own copy and directories, with its launcher held in
        // its cgroup, made ahead while the previous attempt ran when the workspace is frozen.
        var scratch = AttemptScratch(source: request.workspace)
        var held: WarmLaunchers.Launcher?
        let scratchKey =
            tier != .full && options.frozenWorkspaces && request.workspaceMode == .overlay ? Self.warmKey(request) : nil
        if let scratchKey, let ready = prepared.take(scratchKey) {
            scratch = ready.scratch
            held = ready.launcher
        }
        if let scratchKey { prepareScratch(for: request, key: scratchKey) }
        // Removed after the result, off the attempt's path.
        defer { prepared.retire(scratch) }

        var cgroup = held?.cgroup
        if let cgroups, held == nil {
            do {
                cgroup = try cgroups.take()
            } catch {
                return Self.harnessFailure("cgroup-create", error.errno ?? 0, tier: tier)
            }
        }
        // Retired here, or by the attempt's execution once its launcher is gone (see below).
        var retireHere = true
        defer { if retireHere, let cgroup { cgroups?.retire(cgroup) } }

        if held == nil && tier != .full && (request.workspaceMode == .overlay || tier == .minimal) {
            do {
                scratch = try AttemptScratch.make(for: request, name: name, in: scratchContext)
            } catch {
                return Self.harnessFailure(error.stage, error.errno, tier: tier)
            }
        }
        let source = scratch.source
        let privateTemp = scratch.privateTemp
        let directories = scratch.directories

        var environment = environment(for: request, privateTemp: privateTemp)
        if let privateTemp, directories == nil {
            // Java takes its temp directory from java.io.tmpdir (default /tmp), not TMPDIR: without
            // the path guard, /tmp is not writable at the minimal tier.
            let option = "-Djava.io.tmpdir=\(privateTemp)"
            environment["JAVA_TOOL_OPTIONS"] = environment["JAVA_TOOL_OPTIONS"].map { "\($0) \(option)" } ?? option
        }
        if tier == .minimal && source != request.workspace {
            // No mount namespace: the copy cannot appear at the workspace path, so the paths that
            // name it (a venv's PATH, pytest's --junitxml) are pointed at the copy instead.
            environment = environment.mapValues {
                Self.remapPath(in: $0, from: policy.filesystem.workspace, to: source)
            }
        }
        let arguments =
            held != nil
            ? helperArguments.lateArguments(for: request, environment: environment)
            : heldArguments(for: request, scratch: scratch, cgroup: cgroup)
                + helperArguments.lateArguments(for: request, environment: environment)
        var plan = ExecutionPlan(
            helperPath: helperPath, server: server, arguments: arguments, seccompFD: program?.fd,
            timeoutSeconds: request.timeoutSeconds ?? limits.timeoutSeconds, outputCapture: limits.outputCapture,
            outputLimit: limits.outputLimit, tier: tier, cgroup: cgroup, observer: observer, warm: held?.helper)
        if tier == .full {
            endAtExitRecord(&plan, request: request)
            retireHere = plan.afterReap == nil
        }
        return await AttemptExecution.run(plan)
    }

    /// At the full tier, an attempt that overlays its workspace is over when its command's exit
    /// record and the end of its output are in: PID 1 ends the rest (its exit kills the pid
    /// namespace) and the launcher is reaped, and the cgroup retired (killing anything left),
    /// off the path. Not for setup (`--overlay-commit`): the launcher reports the commit after
    /// PID 1 is gone. Without a cgroup the CPU time would need the launcher's rusage.
    private func endAtExitRecord(_ plan: inout ExecutionPlan, request: AttemptRequest) {
        guard tier == .full, request.workspaceMode == .overlay, let group = plan.cgroup, let cgroups else {
            if let group = plan.cgroup { plan.afterReap = { [cgroups] in cgroups?.retire(group) } }
            return
        }
        plan.endsAtExitRecord = true
        plan.teardowns = teardowns
        plan.afterReap = { cgroups.retire(group) }
    }

    /// Everything but the environment and the command, for an attempt with `scratch`: what a
    /// launcher held ahead starts with.
    func heldArguments(for request: AttemptRequest, scratch: AttemptScratch, cgroup: AttemptCgroup?) -> [String] {
        helperArguments.baseArguments(
            for: request, workspaceSource: scratch.source, cgroupProcs: cgroup?.procsFiles ?? [],
            cpuUsage: cgroup?.cpuUsageFile, privateTemp: scratch.privateTemp)
            + helperArguments.slotArguments(
                slotUID: scratch.owner,
                writable: tier == .minimal
                    ? [scratch.directory, request.workspaceMode == .writable ? request.workspace : nil].compactMap {
                        $0
                    } : [],
                readable: tier == .minimal ? [request.workspace] : [], privateDirectories: scratch.directories)
    }

    /// `value` with every whole-path mention of `from` (after the start, `=`, `:`, `;` or a space,
    /// and before the end, `/`, `:`, `;` or a space) made `to`.
    static func remapPath(in value: String, from: String, to: String) -> String {
        guard !from.isEmpty, value.contains(from) else { return value }
        let before: Set<Character> = ["=", ":", ";", " "]
        let after: Set<Character> = ["/", ":", ";", " "]
        var out = ""
        var rest = Substring(value)
        while let range = rest.range(of: from) {
            let startsPath =
                range.lowerBound == rest.startIndex
                ? (out.isEmpty || before.contains(out.last!))
                : before.contains(rest[rest.index(before: range.lowerBound)])
            let endsPath = range.upperBound == rest.endIndex || after.contains(rest[range.upperBound])
            out += rest[..<range.lowerBound]
            out += startsPath && endsPath ? to : from
            rest = rest[range.upperBound...]
        }
        return out + rest
    }

    static func warmKey(_ request: AttemptRequest) -> String {
        "\(request.workspace)\u{0}\(request.workspaceMode)\u{0}\(request.artifacts.joined(separator: "\u{0}"))"
    }

    var scratchContext: AttemptScratch.Context {
        AttemptScratch.Context(
            tier: tier, identity: options.identity, slotUIDs: isolation.has(IsolationReport.slotUIDs),
            privateDirectories: privateDirectories, root: scratchRoot)
    }

    /// Makes the scratch of the next attempt shaped like `request`, and its launcher held in its
    /// cgroup, on a thread of its own.
    private func prepareScratch(for request: AttemptRequest, key: String) {
        let name = "next-\(serial)-\(counter.wrappingAdd(1, ordering: .relaxed).newValue)"
        DetachedThread.start { [self] in
            guard let scratch = try? AttemptScratch.make(for: request, name: name, in: scratchContext) else { return }
            var launcher: WarmLaunchers.Launcher?
            let cgroup = try? cgroups?.take()
            if cgroups == nil || cgroup != nil {
                switch AttemptExecution.spawn(
                    helperPath: helperPath, arguments: heldArguments(for: request, scratch: scratch, cgroup: cgroup),
                    seccompFD: program?.fd, hold: true, server: server)
                {
                case .success(let helper): launcher = .init(key: key, helper: helper, cgroup: cgroup)
                case .failure: if let cgroup { cgroups?.retire(cgroup) }
                }
            }
            prepared.add(.init(scratch: scratch, launcher: launcher), key: key) { cgroups?.retire($0) }
        }
    }

    /// Starts a launcher for requests shaped like `request`, on a thread of its own.
    private func prepareWarmLauncher(for request: AttemptRequest, key: String) {
        DetachedThread.start { [self] in
            var cgroup: AttemptCgroup?
            if let cgroups {
                guard let group = try? cgroups.take() else { return }
                cgroup = group
            }
            var arguments = helperArguments.baseArguments(
                for: request, workspaceSource: request.workspace, cgroupProcs: cgroup?.procsFiles ?? [],
                cpuUsage: cgroup?.cpuUsageFile)
            // The whole sandbox (clone, id maps, root, overlay, pivot_root) built now, while the
            // current attempt runs, when what it mounts cannot change before it is used: the
            // overlay's lower is the job's final checkout. Setup's (--overlay-commit) changes it.
            if options.frozenWorkspaces && request.workspaceMode == .overlay { arguments.append("--build-ahead") }
            switch AttemptExecution.spawn(
                helperPath: helperPath, arguments: arguments, seccompFD: program?.fd, hold: true, server: server)
            {
            case .success(let helper):
                warm.add(.init(key: key, helper: helper, cgroup: cgroup)) { cgroups?.retire($0) }
            case .failure:
                if let cgroup { cgroups?.retire(cgroup) }
            }
        }
    }

    static func harnessFailure(_ stage: String, _ err: Int32, tier: IsolationTier) -> AttemptResult {
        let empty = CapturedOutput(head: [], tail: [], totalBytes: 0)
        return AttemptResult(
            status: .sandboxError, exitCode: nil, signal: nil, setupFailure: .init(stage: stage, errno: err),
            wallSeconds: 0, cpuSeconds: nil, peakMemoryBytes: nil, stdout: empty, stderr: empty, tier: tier)
    }
}
