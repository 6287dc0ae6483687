import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Which cgroup version and controllers flakebox can use here, found by trying: a probe group is
/// created under this process's own cgroup in each hierarchy, a limit is written and the probe is
/// removed. Everything missing comes with a reason a person can act on.
public struct CgroupSupport: Sendable, CustomStringConvertible {
    /// What one cgroup version offers on this machine.
    public struct Report: Sendable, CustomStringConvertible {
        /// The version this report is about.
        public let version: CgroupVersion
        /// Controllers that were tried and work.
        public internal(set) var controllers: Set<CgroupController> = []
        /// Why each missing controller cannot be used.
        public internal(set) var missing: [CgroupController: String] = [:]
        /// Why the version cannot be used at all, if so (not mounted, not writable, …).
        public internal(set) var problem: String?
        /// Facts that matter but do not prevent use (a missing `cgroup.kill`, a planned leaf move).
        public internal(set) var notes: [String] = []
        /// Our own cgroup directories, one per hierarchy; flakebox's groups go below them.
        var placements: [CgroupPlacement] = []

        init(version: CgroupVersion) { self.version = version }

        /// Whether attempt groups can be created with at least one controller.
        public var isUsable: Bool { problem == nil && !placements.isEmpty && !controllers.isEmpty }

        /// The directories below which flakebox creates its groups.
        public var directories: [String] { placements.map(\.directory) }

        public var description: String {
            var lines: [String] = []
            if let problem {
                lines.append("cgroup \(version): unavailable: \(problem)")
            } else {
                let names = controllers.sorted().map(\.rawValue).joined(separator: ",")
                lines.append(
                    "cgroup \(version): \(names.isEmpty ? "no controllers" : names) under \(directories.joined(separator: ", "))"
                )
            }
            for (controller, reason) in missing.sorted(by: { $0.key < $1.key }) {
                lines.append("  \(controller) unavailable: \(reason)")
            }
            lines += notes.map { "  note: \($0)" }
            return lines.joined(separator: "\n")
        }

        mutating func markAllMissing(_ wanted: [CgroupController], reason: String) {
            for controller in wanted where !controllers.contains(controller) && missing[controller] == nil {
                missing[controller] = reason
            }
        }
    }

    /// The cgroup hierarchies this process belongs to, or `nil` if they could not be read.
    public let topology: CgroupTopology?
    /// What cgroup v1 offers.
    public let v1: Report
    /// What cgroup v2 offers.
    public let v2: Report

    /// The usable version with the most controllers (v2 on a tie), or `nil` if neither is usable.
    public var preferred: Report? {
        [v2, v1].filter(\.isUsable).max { $0.controllers.count < $1.controllers.count }
    }

    /// The version a ``CgroupManager`` uses by default.
    public var version: CgroupVersion? { preferred?.version }

    /// The controllers of the preferred version.
    public var controllers: Set<CgroupController> { preferred?.controllers ?? [] }

    /// The report for one version.
    public func report(for version: CgroupVersion) -> Report {
        version == .v1 ? v1 : v2
    }

    /// One paragraph for logs, `doctor` and test skip messages.
    public var description: String {
        let choice = version.map { "using cgroup \($0)" } ?? "cgroups unavailable"
        return "\(choice)\n\(v1)\n\(v2)"
    }

    /// `detect()` once for the life of the process: probing makes and removes a group in every
    /// hierarchy, tens of milliseconds that a job would otherwise pay for each sandbox it makes.
    public static let shared = detect()

    /// Probes the calling process's cgroups. Leaves nothing behind: probe groups are removed again.
    public static func detect() -> CgroupSupport {
        let topology: CgroupTopology
        do {
            topology = try CgroupTopology.current()
        } catch {
            var v1 = Report(version: .v1)
            var v2 = Report(version: .v2)
            v1.problem = error.description
            v2.problem = error.description
            return CgroupSupport(topology: nil, v1: v1, v2: v2)
        }
        return detect(topology: topology)
    }

    static func detect(topology: CgroupTopology) -> CgroupSupport {
        CgroupSupport(topology: topology, v1: probeV1(topology), v2: probeV2(topology))
    }

    // Parallel detections (tests, a doctor next to a run) must not share a probe name.
    private static let probeCounter = Atomic<Int>(0)

    private static func probeName() -> String {
        "flakebox-probe-\(getpid())-\(probeCounter.add(1, ordering: .relaxed).newValue)"
    }

    // MARK: - v1

    private static func probeV1(_ topology: CgroupTopology) -> Report {
        var report = Report(version: .v1)
        var byHierarchy: [Int: (hierarchy: CgroupTopology.Hierarchy, controllers: Set<CgroupController>)] = [:]
        for controller in CgroupController.allCases {
            guard let hierarchy = topology.v1Hierarchy(for: controller.rawValue) else {
                report.missing[controller] = "no cgroup v1 \(controller) hierarchy (not listed in /proc/self/cgroup)"
                continue
            }
            guard hierarchy.directory != nil else {
                report.missing[controller] =
                    "the cgroup v1 \(controller) hierarchy is not mounted where this process can see "
                    + "\(hierarchy.cgroupPath) (/proc/self/mountinfo)"
                continue
            }
            byHierarchy[hierarchy.id, default: (hierarchy, [])].controllers.insert(controller)
        }
        if byHierarchy.isEmpty {
            report.problem = "no cgroup v1 hierarchy with memory, pids, cpu or cpuacct is mounted"
            return report
        }
        for (_, entry) in byHierarchy.sorted(by: { $0.key < $1.key }) {
            let directory = entry.hierarchy.directory!
            let probe = directory + "/" + probeName()
            do {
                try CgroupFileSystem.makeDirectory(probe, allowExisting: false, code: .createFailed)
            } catch {
                let reason =
                    "v1 \(entry.controllers.sorted().map(\.rawValue).joined(separator: ",")) hierarchy "
                    + "at \(directory) not writable: \(error.errno.map(CgroupError.describe(errno:)) ?? error.message)"
                for controller in entry.controllers { report.missing[controller] = reason }
                continue
            }
            var working: Set<CgroupController> = []
            for controller in entry.controllers.sorted() {
                do {
                    try probeV1Limit(controller, in: probe)
                    working.insert(controller)
                } catch {
                    report.missing[controller] = "v1 \(controller) at \(directory): \(error)"
                }
            }
            let failure = removeProbe(probe)
            if let failure { report.notes.append(failure) }
            if !working.isEmpty {
                report.controllers.formUnion(working)
                report.placements.append(CgroupPlacement(controllers: working, directory: directory))
            }
        }
        if report.controllers.isEmpty && report.problem == nil {
            report.problem = "no cgroup v1 hierarchy is writable"
        }
        return report
    }

    private static func probeV1Limit(_ controller: CgroupController, in probe: String) throws(CgroupError) {
        switch controller {
        case .memory:
            try CgroupFileSystem.writeFile("67108864", to: probe + "/memory.limit_in_bytes", code: .limitRejected)
            try CgroupFileSystem.writeFile("0", to: probe + "/memory.oom_control", code: .limitRejected)
        case .pids:
            try CgroupFileSystem.writeFile("16", to: probe + "/pids.max", code: .limitRejected)
        case .cpu:
            // The smallest quota, so an enclosing group's own quota cannot make the probe fail.
            try CgroupFileSystem.writeFile("1000", to: probe + "/cpu.cfs_quota_us", code: .limitRejected)
        case .cpuacct:
            _ = try CgroupFileSystem.readFile(probe + "/cpuacct.usage")
        }
    }

    // MARK: - v2

    private static let v2Limited: [CgroupController] = [.memory, .pids, .cpu]

    private static func probeV2(_ topology: CgroupTopology) -> Report {
        var report = Report(version: .v2)
        guard let unified = topology.unified else {
            report.problem = "the kernel reports no cgroup v2 hierarchy (no 0:: line in /proc/self/cgroup)"
            report.markAllMissing(CgroupController.allCases, reason: "no cgroup v2")
            return report
        }
        guard let directory = unified.directory else {
            report.problem = "no cgroup2 mount shows \(unified.cgroupPath) (/proc/self/mountinfo)"
            report.markAllMissing(CgroupController.allCases, reason: "cgroup v2 not mounted")
            return report
        }
        let available = Set(
            (CgroupFileSystem.readIfPresent(directory + "/cgroup.controllers") ?? "")
                .split(whereSeparator: \.isWhitespace).map(String.init))
        let enabled = Set(
            (CgroupFileSystem.readIfPresent(directory + "/cgroup.subtree_control") ?? "")
                .split(whereSeparator: \.isWhitespace).map(String.init))
        let listed = available.sorted().joined(separator: " ")
        for controller in v2Limited where !available.contains(controller.rawValue) {
            if let v1 = topology.v1Hierarchy(for: controller.rawValue), let mount = v1.mountPoint {
                report.missing[controller] = "bound to the cgroup v1 hierarchy at \(mount)"
            } else {
                report.missing[controller] =
                    "not delegated to \(directory) (its cgroup.controllers lists \"\(listed)\")"
            }
        }

        let probe = directory + "/" + probeName()
        do {
            try CgroupFileSystem.makeDirectory(probe, allowExisting: false, code: .createFailed)
        } catch {
            let why = error.errno.map(CgroupError.describe(errno:)) ?? error.message
            report.problem = "cgroup v2 at \(directory) not writable: \(why)"
            report.markAllMissing(CgroupController.allCases, reason: "cgroup v2 at \(directory) not writable")
            return report
        }
        report.placements = [CgroupPlacement(controllers: [], directory: directory)]

        // The core cpu.stat exists in every v2 group, with or without the cpu controller.
        if CgroupFileSystem.readIfPresent(probe + "/cpu.stat") != nil {
            report.controllers.insert(.cpuacct)
        } else {
            report.missing[.cpuacct] = "no cpu.stat in \(probe)"
        }
        if !CgroupFileSystem.exists(probe + "/cgroup.kill") {
            report.notes.append("no cgroup.kill (kernel < 5.14): processes are killed one by one")
        }

        let isRoot = !CgroupFileSystem.exists(directory + "/cgroup.type")
        let subtreeWritable = access(directory + "/cgroup.subtree_control", W_OK) == 0
        var othersInside: [pid_t] = []
        if !isRoot {
            let procs = CgroupFileSystem.parsePIDs(CgroupFileSystem.readIfPresent(directory + "/cgroup.procs") ?? "")
            othersInside = procs.filter { $0 != getpid() }
        }
        for controller in v2Limited where available.contains(controller.rawValue) {
            if enabled.contains(controller.rawValue) {
                do {
                    try probeV2Limit(controller, in: probe)
                    report.controllers.insert(controller)
                } catch {
                    report.missing[controller] = "\(error)"
                }
            } else if !subtreeWritable {
                report.missing[controller] =
                    "cannot enable it for child groups: \(directory)/cgroup.subtree_control is not writable"
            } else if isRoot {
                report.controllers.insert(controller)
            } else if othersInside.isEmpty {
                report.controllers.insert(controller)
            } else {
                report.missing[controller] =
                    "cannot enable it for child groups of \(directory): that cgroup also holds \(othersInside.count) "
                    + "other process(es) and v2 only distributes controllers from cgroups without processes; "
                    + "run flakebox in its own delegated cgroup, e.g. "
                    + "`systemd-run --user --scope -p Delegate=yes flakebox …`"
            }
        }
        let toEnable = v2Limited.filter { report.controllers.contains($0) && !enabled.contains($0.rawValue) }
        if !toEnable.isEmpty {
            let names = toEnable.map(\.rawValue).joined(separator: ",")
            report.notes.append(
                isRoot
                    ? "\(names) will be enabled in \(directory)/cgroup.subtree_control at setup"
                    : "the supervisor will move itself into a leaf below \(directory) to enable \(names) "
                        + "for child groups (v2 allows no processes in a cgroup that distributes controllers)")
        }
        report.placements = [CgroupPlacement(controllers: report.controllers, directory: directory)]
        if let failure = removeProbe(probe) { report.notes.append(failure) }
        if report.controllers.isEmpty {
            report.problem = "cgroup v2 at \(directory) offers no usable controller"
        }
        return report
    }

    private static func probeV2Limit(_ controller: CgroupController, in probe: String) throws(CgroupError) {
        switch controller {
        case .memory: try CgroupFileSystem.writeFile("67108864", to: probe + "/memory.max", code: .limitRejected)
        case .pids: try CgroupFileSystem.writeFile("16", to: probe + "/pids.max", code: .limitRejected)
        case .cpu: try CgroupFileSystem.writeFile("1000 100000", to: probe + "/cpu.max", code: .limitRejected)
        case .cpuacct: break
        }
    }

    /// Removes a probe group; returns a note if it had to be left behind.
    private static func removeProbe(_ probe: String) -> String? {
        let failure = CgroupFileSystem.removeDirectory(probe)
        return failure == 0 ? nil : "could not remove probe \(probe): \(CgroupError.describe(errno: failure))"
    }
}
