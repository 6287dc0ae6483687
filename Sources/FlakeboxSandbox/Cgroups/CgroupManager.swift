import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Creates, limits and cleans up the cgroups of a supervisor's attempts.
///
/// All groups live below a per-supervisor parent, `flakebox-<pid>`, created lazily below this
/// process's own cgroup in each hierarchy (so limits of an enclosing container or session still
/// apply), and removed again by ``shutdown(timeout:)``.
///
/// ```
/// <own cgroup>/flakebox-<pid>/<attempt name>      (v1: in each of memory, pids, cpu, cpuacct)
/// ```
public final class CgroupManager: Sendable {
    /// The detection result the manager was created from.
    public let support: CgroupSupport
    /// The cgroup version in use.
    public let version: CgroupVersion
    /// The controllers attempt groups get.
    public let controllers: Set<CgroupController>
    /// The per-supervisor parent group's name.
    public let parentName: String
    /// A memory limit on the parent group: what all its attempts together may use (a job's budget).
    public let parentMemoryBytes: UInt64?

    private let report: CgroupSupport.Report
    private let state = Mutex<State>(State())

    private struct State: Sendable {
        /// The parent groups, once created; `nil` before the first attempt and after shutdown.
        var parents: [CgroupPlacement]?
        var isShutDown = false
        /// v2: whether this manager counts as a user of the process's own cgroup setup.
        var usesOwnCgroup = false
    }

    /// Detects cgroup support and prepares a manager; nothing is created until the first attempt.
    /// - Parameters:
    ///   - parentName: The per-supervisor group's name; `flakebox-<pid>` by default.
    ///   - version: Force a version; by default the one ``CgroupSupport/preferred`` picks.
    /// - Throws: ``CgroupError/Code/unavailable`` with the reasons when no usable cgroup exists.
    public convenience init(
        parentName: String? = nil, version: CgroupVersion? = nil, controllers: Set<CgroupController>? = nil
    ) throws(CgroupError) {
        try self.init(support: .detect(), parentName: parentName, version: version, controllers: controllers)
    }

    /// Prepares a manager from an earlier detection (detect once per supervisor, it writes probes).
    /// - Parameter controllers: use only these (v1: only the hierarchies that hold one of them),
    ///   so that a policy without a CPU quota makes no cpu groups.
    public init(
        support: CgroupSupport, parentName: String? = nil, version: CgroupVersion? = nil,
        controllers wanted: Set<CgroupController>? = nil, parentMemoryBytes: UInt64? = nil
    ) throws(CgroupError) {
        var report: CgroupSupport.Report
        if let version {
            report = support.report(for: version)
            guard report.isUsable else {
                throw CgroupError(.unavailable, "cgroup \(version) is not usable here: \(report)")
            }
        } else {
            guard let preferred = support.preferred else {
                throw CgroupError(.unavailable, "no usable cgroup hierarchy: \(support)")
            }
            report = preferred
        }
        if let wanted, report.version == .v1 {
            report.placements = report.placements.filter { !$0.controllers.isDisjoint(with: wanted) }
            report.controllers.formIntersection(wanted)
            guard !report.placements.isEmpty else {
                throw CgroupError(.unavailable, "none of \(wanted.sorted()) is available: \(report)")
            }
        }
        let parentName = parentName ?? "flakebox-\(getpid())"
        try Self.validate(name: parentName)
        self.support = support
        self.report = report
        self.version = report.version
        self.controllers = report.controllers
        self.parentName = parentName
        self.parentMemoryBytes = parentMemoryBytes
    }

    /// Cleans up if ``shutdown(timeout:)`` was not called, so no directories outlive the supervisor.
    deinit {
        try? shutdown(timeout: .seconds(2))
    }

    /// The parent group's directories (which exist only between the first attempt and shutdown).
    public var parentDirectories: [String] {
        report.placements.map { $0.directory + "/" + parentName }
    }

    /// Creates an attempt's group with `limits` applied, ready for the helper to join.
    /// - Parameters:
    ///   - name: A single path component: letters, digits, `-`, `_` and `.`, starting with a letter or digit.
    ///   - limits: The limits; each one needs its controller to be available.
    /// - Throws: ``CgroupError`` — `.invalidName`, `.invalidLimits`, `.controllerUnavailable`,
    ///   `.alreadyExists`, `.setupFailed`, `.createFailed`, `.limitRejected` or `.shutDown`.
    public func makeAttemptGroup(name: String, limits: CgroupLimits = .unlimited) throws(CgroupError) -> AttemptCgroup {
        try Self.validate(name: name)
        try limits.validate()
        let unavailable = limits.requiredControllers.subtracting(controllers).sorted()
        if let controller = unavailable.first {
            let reason = report.missing[controller] ?? "not available"
            throw CgroupError(.controllerUnavailable, "cannot limit \(controller) with cgroup \(version): \(reason)")
        }
        return try state.withLock { (state) throws(CgroupError) -> AttemptCgroup in
            guard !state.isShutDown else {
                throw CgroupError(.shutDown, "the cgroup manager has been shut down")
            }
            let parents: [CgroupPlacement]
            if let existing = state.parents {
                parents = existing
            } else {
                parents = try createParents(&state)
                state.parents = parents
            }
            let group = AttemptCgroup(
                name: name, version: version, placements: parents.map { $0.appending(name) })
            var created: [String] = []
            do throws(CgroupError) {
                for directory in group.directories {
                    try CgroupFileSystem.makeDirectory(directory, allowExisting: false, code: .createFailed)
                    created.append(directory)
                }
                try group.apply(limits)
            } catch {
                for directory in created { _ = CgroupFileSystem.removeDirectory(directory) }
                throw error
            }
            return group
        }
    }

    /// Kills and removes every remaining attempt group, then the parent groups. Afterwards the
    /// manager refuses new groups. Calling it again retries whatever failed.
    /// - Throws: The first failure; cleanup of the other groups continues regardless.
    public func shutdown(timeout: Duration = .seconds(5)) throws(CgroupError) {
        try state.withLock { (state) throws(CgroupError) in
            state.isShutDown = true
            let deadline = ContinuousClock.now + timeout
            var firstError: CgroupError?
            let parents = state.parents ?? []
            let names = Set(parents.flatMap { CgroupFileSystem.subdirectories(of: $0.directory) })
            for name in names.sorted() {
                let group = AttemptCgroup(
                    name: name, version: version, placements: parents.map { $0.appending(name) })
                do throws(CgroupError) {
                    try group.killAll(timeout: max(deadline - ContinuousClock.now, .milliseconds(100)))
                    try group.remove(timeout: max(deadline - ContinuousClock.now, .milliseconds(100)))
                } catch {
                    firstError = firstError ?? error
                }
            }
            for parent in parents {
                do throws(CgroupError) {
                    try AttemptCgroup.removeDirectory(parent.directory, deadline: deadline)
                } catch {
                    firstError = firstError ?? error
                }
            }
            if firstError == nil {
                state.parents = nil
                do throws(CgroupError) {
                    try releaseOwnCgroup(&state)
                } catch {
                    firstError = error
                }
            }
            if let firstError { throw firstError }
        }
    }

    // MARK: - Parent groups

    private func createParents(_ state: inout State) throws(CgroupError) -> [CgroupPlacement] {
        if version == .v2 && !state.usesOwnCgroup {
            try acquireOwnCgroup(&state)
        }
        var parents: [CgroupPlacement] = []
        do throws(CgroupError) {
            for base in report.placements {
                let parent = base.appending(parentName)
                // An existing parent is a leftover of an earlier supervisor with our pid; reuse it.
                try CgroupFileSystem.makeDirectory(parent.directory, allowExisting: true, code: .setupFailed)
                parents.append(parent)
                if version == .v2 {
                    try enableControllers(limitedControllers, in: parent.directory)
                }
                if let bytes = parentMemoryBytes, parent.controllers.contains(.memory) {
                    let file = version == .v1 ? "memory.limit_in_bytes" : "memory.max"
                    try CgroupFileSystem.writeFile("\(bytes)", to: parent.directory + "/" + file, code: .limitRejected)
                    // Memory and swap together, as an attempt's own limit is (v1).
                    let memsw = parent.directory + "/memory.memsw.limit_in_bytes"
                    if version == .v1 && CgroupFileSystem.exists(memsw) {
                        try CgroupFileSystem.writeFile("\(bytes)", to: memsw, code: .limitRejected)
                    }
                }
            }
        } catch {
            for parent in parents { _ = CgroupFileSystem.removeDirectory(parent.directory) }
            throw error
        }
        return parents
    }

    private var limitedControllers: [CgroupController] {
        [.memory, .pids, .cpu].filter(controllers.contains)
    }

    private func enabledControllers(in directory: String) -> Set<String> {
        Set(
            (CgroupFileSystem.readIfPresent(directory + "/cgroup.subtree_control") ?? "")
                .split(whereSeparator: \.isWhitespace).map(String.init))
    }

    /// v2 lets a cgroup give controllers to its children only through `cgroup.subtree_control`.
    private func enableControllers(_ controllers: [CgroupController], in directory: String) throws(CgroupError) {
        let enabled = enabledControllers(in: directory)
        let needed = controllers.filter { !enabled.contains($0.rawValue) }
        guard !needed.isEmpty else { return }
        try CgroupFileSystem.writeFile(
            needed.map { "+\($0)" }.joined(separator: " "), to: directory + "/cgroup.subtree_control",
            code: .setupFailed)
    }

    /// How this process uses its own v2 cgroup. Process-wide, because several managers (one per
    /// sandbox) share the one cgroup the process lives in.
    private struct OwnCgroupState: Sendable {
        var users = 0
        /// The leaf the process moved itself into, if it had to.
        var leaf: String?
        /// Controllers enabled in the own cgroup's `cgroup.subtree_control` by us.
        var enabled: [CgroupController] = []
    }

    private static let ownCgroup = Mutex<OwnCgroupState>(OwnCgroupState())

    /// Enables our controllers in our own v2 cgroup. v2 refuses that (EBUSY) while the cgroup holds
    /// processes; if the only process is this supervisor — as in a delegated systemd unit — the
    /// process moves itself into a leaf child first, as systemd's delegation rules prescribe.
    private func acquireOwnCgroup(_ state: inout State) throws(CgroupError) {
        guard let own = report.placements.first?.directory else { return }
        let controllers = limitedControllers
        let leafName = "flakebox-\(getpid())-supervisor"
        try Self.ownCgroup.withLock { (shared) throws(CgroupError) in
            let enabled = enabledControllers(in: own)
            let needed = controllers.filter { !enabled.contains($0.rawValue) }
            if !needed.isEmpty {
                do throws(CgroupError) {
                    try enableControllers(needed, in: own)
                } catch {
                    guard error.errno == EBUSY, shared.leaf == nil else { throw error }
                    let others = CgroupFileSystem.parsePIDs(
                        CgroupFileSystem.readIfPresent(own + "/cgroup.procs") ?? ""
                    ).filter { $0 != getpid() }
                    guard others.isEmpty else {
                        throw CgroupError(
                            .setupFailed,
                            "cannot enable controllers for child groups: \(own) also holds \(others.count) other "
                                + "process(es); run flakebox in its own delegated cgroup",
                            operation: error.operation, path: error.path, errno: error.errno)
                    }
                    let leaf = own + "/" + leafName
                    try CgroupFileSystem.makeDirectory(leaf, allowExisting: true, code: .setupFailed)
                    do throws(CgroupError) {
                        try CgroupFileSystem.writeFile(String(getpid()), to: leaf + "/cgroup.procs", code: .setupFailed)
                    } catch {
                        _ = CgroupFileSystem.removeDirectory(leaf)
                        throw error
                    }
                    shared.leaf = leaf
                    try enableControllers(needed, in: own)
                }
                shared.enabled += needed
            }
            shared.users += 1
            state.usesOwnCgroup = true
        }
    }

    /// Undoes ``acquireOwnCgroup(_:)`` when the last manager of the process shuts down: disables
    /// what we enabled, moves the process back and removes the leaf.
    private func releaseOwnCgroup(_ state: inout State) throws(CgroupError) {
        guard state.usesOwnCgroup, let own = report.placements.first?.directory else { return }
        state.usesOwnCgroup = false
        try Self.ownCgroup.withLock { (shared) throws(CgroupError) in
            shared.users -= 1
            guard shared.users == 0, let leaf = shared.leaf else { return }
            let others = CgroupFileSystem.parsePIDs(CgroupFileSystem.readIfPresent(leaf + "/cgroup.procs") ?? "")
                .filter { $0 != getpid() }
            guard others.isEmpty else {
                // Children started after the move live there; moving back alone would split them from us.
                throw CgroupError(
                    .removeFailed, "the supervisor's leaf cgroup still holds \(others.count) other process(es)",
                    operation: "rmdir", path: leaf, errno: EBUSY)
            }
            if !shared.enabled.isEmpty {
                try CgroupFileSystem.writeFile(
                    shared.enabled.map { "-\($0)" }.joined(separator: " "),
                    to: own + "/cgroup.subtree_control", code: .removeFailed)
                shared.enabled = []
            }
            try CgroupFileSystem.writeFile(String(getpid()), to: own + "/cgroup.procs", code: .removeFailed)
            try AttemptCgroup.removeDirectory(leaf, deadline: ContinuousClock.now + .seconds(1))
            shared.leaf = nil
        }
    }

    // MARK: - Names

    /// Interface files (`<prefix>.<name>` and a few bare v1 names) a child cgroup's name must not collide with.
    private static let reservedPrefixes: Set<String> = [
        "cgroup", "memory", "pids", "cpu", "cpuacct", "cpuset", "io", "blkio", "hugetlb", "rdma", "misc",
        "freezer", "devices", "net_cls", "net_prio", "perf_event",
    ]
    private static let reservedNames: Set<String> = ["tasks", "notify_on_release", "release_agent"]

    static func validate(name: String) throws(CgroupError) {
        let bytes = Array(name.utf8)
        let allowed = bytes.allSatisfy { byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        let first = bytes.first ?? 0
        let startsAlphanumeric = first != UInt8(ascii: "-") && first != UInt8(ascii: "_") && first != UInt8(ascii: ".")
        let prefix = String(name.prefix { $0 != "." })
        let isInterfaceFile = reservedNames.contains(name) || (prefix != name && reservedPrefixes.contains(prefix))
        guard (1...128).contains(bytes.count), allowed, startsAlphanumeric, !isInterfaceFile
        else {
            throw CgroupError(
                .invalidName,
                "\"\(name)\" is not a valid cgroup name (1–128 of A–Z a–z 0–9 - _ ., starting with a letter or "
                    + "digit, not a cgroup interface file name)")
        }
    }
}
