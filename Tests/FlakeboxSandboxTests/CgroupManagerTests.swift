import FlakeboxSandbox
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// These run against the machine's real cgroups (as root on CI); where that is impossible they are
/// skipped with the detection's reason.
@Suite("Cgroup manager (real cgroups)")
struct CgroupManagerTests {
    typealias Environment = CgroupTestEnvironment

    @Test(
        "limits are written and read back",
        .enabled(if: Environment.has(.memory, .pids, .cpu), Environment.missing(.memory, .pids, .cpu)))
    func limitsReadBack() throws {
        let manager = try Environment.makeManager("limits")
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        let limits = CgroupLimits(memoryBytes: 64 * mebibyte, pidsMax: 16, cpuCores: 0.5)
        let group = try manager.makeAttemptGroup(name: "attempt-1", limits: limits)
        #expect(try group.effectiveLimits() == limits)

        let memory = try #require(group.directory(for: .memory))
        func read(_ file: String) throws -> String {
            try String(contentsOfFile: memory + "/" + file, encoding: .utf8).trimmingCharacters(
                in: .whitespacesAndNewlines)
        }
        switch manager.version {
        case .v1:
            #expect(group.procsFiles.count == Set(group.procsFiles).count)
            #expect(try read("memory.oom_control").contains("oom_kill_disable 0"))
            if FileManager.default.fileExists(atPath: memory + "/memory.memsw.limit_in_bytes") {
                #expect(try read("memory.memsw.limit_in_bytes") == String(64 * mebibyte))
            }
            let cpu = try #require(group.directory(for: .cpu))
            #expect(try String(contentsOfFile: cpu + "/cpu.cfs_quota_us", encoding: .utf8).hasPrefix("50000"))
        case .v2:
            #expect(group.procsFiles.count == 1)
            #expect(try read("memory.oom.group") == "1")
            if FileManager.default.fileExists(atPath: memory + "/memory.swap.max") {
                #expect(try read("memory.swap.max") == "0")
            }
            #expect(try read("cpu.max") == "50000 100000")
        }
        try group.remove()
        for directory in group.directories { #expect(!directoryExists(directory)) }
    }

    @Test(
        "a memory hog is OOM-killed at the limit and the kill is counted",
        .enabled(if: Environment.has(.memory), Environment.missing(.memory)),
        .enabled(if: Environment.hasPython, "needs \(Environment.python)"))
    func memoryHogIsKilled() async throws {
        let manager = try Environment.makeManager("oom")
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        let limit = 64 * mebibyte
        let group = try manager.makeAttemptGroup(name: "hog", limits: CgroupLimits(memoryBytes: limit))
        // bytes * n writes every page, so the 512 MiB are really charged (a bare bytearray would not be).
        let shell = try JoinedShell.start(
            in: group,
            """
            exec \(Environment.python) -c 'chunks = [b"\\x01" * (1 << 20) for _ in range(512)]; print("survived")'
            """)
        let termination = try await shell.waitForExit()
        let output = shell.output
        #expect(termination == .signaled(SIGKILL), "\(termination), output: \(output)")
        #expect(!output.contains("survived"))

        let statistics = group.statistics()
        #expect((statistics.oomKills ?? 0) >= 1)
        let peak = try #require(statistics.peakMemoryBytes)
        #expect(peak >= limit * 3 / 4, "peak \(peak) should be near the limit \(limit)")
        #expect(peak <= limit + mebibyte, "peak \(peak) above the limit \(limit)")
        try group.remove()
    }

    @Test(
        "a pids limit of 16 makes a shell fork loop fail",
        .enabled(if: Environment.has(.pids), Environment.missing(.pids)))
    func forkLoopIsStopped() async throws {
        let manager = try Environment.makeManager("pids")
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        let group = try manager.makeAttemptGroup(name: "forker", limits: CgroupLimits(pidsMax: 16))
        let shell = try JoinedShell.start(
            in: group,
            """
            i=0
            while [ $i -lt 64 ]; do sleep 60 & i=$((i + 1)); done
            echo "all forks succeeded"
            """)
        let termination = try await shell.waitForExit()
        let output = shell.output
        #expect(termination != .exited(0), "the loop should have been stopped; output: \(output)")
        #expect(!output.contains("all forks succeeded"))
        #expect(output.localizedCaseInsensitiveContains("fork"), "no fork failure reported: \(output)")

        let statistics = group.statistics()
        #expect((statistics.processLimitHits ?? 0) >= 1)
        if let peak = statistics.peakProcesses { #expect(peak <= 16) }
        let survivors = try group.processIDs()
        #expect(survivors.count <= 15 && !survivors.isEmpty, "sleeps left: \(survivors.count)")

        try group.killAll()
        try group.remove()
        for directory in group.directories { #expect(!directoryExists(directory)) }
    }

    @Test(
        "cpu time is read back after a busy loop",
        .enabled(if: Environment.has(.cpuacct), Environment.missing(.cpuacct)),
        .enabled(if: Environment.hasPython, "needs \(Environment.python)"))
    func cpuTime() async throws {
        let manager = try Environment.makeManager("cputime")
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        let group = try manager.makeAttemptGroup(name: "busy")
        let start = ContinuousClock.now
        let shell = try JoinedShell.start(in: group, Self.busyLoop(seconds: 0.5))
        try await shell.waitForExit()
        let wall = ContinuousClock.now - start
        _ = shell.output  // removes the log file
        let cpu = try #require(group.statistics().cpuTimeNanoseconds)
        #expect(cpu > 0)
        // One process on one core cannot use more CPU than wall-clock time (plus rounding).
        #expect(Double(cpu) / 1e9 <= wall.seconds * 1.05 + 0.01, "cpu \(cpu) ns in \(wall)")
        try group.remove()
    }

    @Test(
        "a CPU quota of 0.25 cores throttles a busy loop",
        .enabled(if: Environment.has(.cpu, .cpuacct), Environment.missing(.cpu, .cpuacct)),
        .enabled(if: Environment.hasPython, "needs \(Environment.python)"))
    func cpuQuota() async throws {
        let manager = try Environment.makeManager("cpuquota")
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        let group = try manager.makeAttemptGroup(name: "busy", limits: CgroupLimits(cpuCores: 0.25))
        let start = ContinuousClock.now
        let shell = try JoinedShell.start(in: group, Self.busyLoop(seconds: 1.0))
        try await shell.waitForExit()
        let wall = ContinuousClock.now - start
        _ = shell.output  // removes the log file
        let statistics = group.statistics()
        let cpu = Double(try #require(statistics.cpuTimeNanoseconds)) / 1e9
        // At most a quarter of each 100 ms period, plus one period's quota of slack.
        #expect(cpu > 0 && cpu <= 0.25 * wall.seconds + 0.05, "cpu \(cpu) s in \(wall)")
        if cpu >= 0.15 * wall.seconds {  // it competed for the CPU at all, so the quota must have bitten
            #expect((statistics.cpuThrottledNanoseconds ?? 1) > 0)
        }
        try group.remove()
    }

    @Test(
        "killAll kills sleeping, daemonized and setsid processes; remove leaves no directory",
        .enabled(if: Environment.support.version != nil, Environment.missing()))
    func killAllAndRemove() async throws {
        let manager = try Environment.makeManager("kill")
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        let group = try manager.makeAttemptGroup(name: "sleepers", limits: .unlimited)
        let shell = try Self.startSleepers(in: group)
        #expect(try await eventually { try group.processIDs().count >= 6 }, "only \((try? group.processIDs()) ?? [])")
        let pids = try group.processIDs()

        try group.killAll()
        #expect(try group.processIDs().isEmpty)
        #expect(try await shell.waitForExit() == .signaled(SIGKILL))
        #expect(try await eventually { pids.allSatisfy(isDead) }, "alive: \(pids.filter { !isDead($0) })")

        try group.remove()
        for directory in group.directories { #expect(!directoryExists(directory)) }
        try group.remove()  // idempotent
        _ = shell.output
    }

    @Test(
        "killAll empties a group while a fork bomb keeps refilling it up to its pids limit",
        .enabled(if: Environment.has(.pids), Environment.missing(.pids)))
    func killAllBeatsForkBomb() async throws {
        let manager = try Environment.makeManager("forkbomb")
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        // The pids limit keeps the bomb from exhausting the host's pids (pid_max may be 32768).
        let group = try manager.makeAttemptGroup(name: "bomb", limits: CgroupLimits(pidsMax: 64))
        let shell = try JoinedShell.start(in: group, "b() { b | b & }; b; wait")
        #expect(try await eventually { (group.statistics().processLimitHits ?? 0) > 10 })

        let start = ContinuousClock.now
        try group.killAll(timeout: .seconds(10))
        #expect(try group.processIDs().isEmpty)
        #expect(ContinuousClock.now - start < .seconds(5))
        try await shell.waitForExit()
        try group.remove()
        _ = shell.output
    }

    @Test(
        "remove refuses a group that still has processes, within its timeout",
        .enabled(if: Environment.support.version != nil, Environment.missing()))
    func removeWaitsForEmpty() async throws {
        let manager = try Environment.makeManager("busyremove")
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        let group = try manager.makeAttemptGroup(name: "alive")
        let shell = try JoinedShell.start(in: group, "exec sleep 60")
        #expect(try await eventually { try group.processIDs().count == 1 })
        #expect {
            try group.remove(timeout: .milliseconds(100))
        } throws: { error in
            (error as? CgroupError)?.code == .stillPopulated
        }
        for directory in group.directories { #expect(directoryExists(directory)) }
        try group.killAll()
        try await shell.waitForExit()
        try group.remove()
        _ = shell.output
    }

    @Test(
        "shutdown kills and removes remaining groups and the per-supervisor parent",
        .enabled(if: Environment.support.version != nil, Environment.missing()))
    func shutdownRemovesParent() async throws {
        let manager = try Environment.makeManager("shutdown")
        #expect(manager.parentDirectories.allSatisfy { !directoryExists($0) }, "the parent is created lazily")
        let running = try manager.makeAttemptGroup(name: "running")
        _ = try manager.makeAttemptGroup(name: "idle")
        #expect(manager.parentDirectories.allSatisfy(directoryExists))
        let shell = try JoinedShell.start(in: running, "setsid sleep 600 & exec sleep 600")
        #expect(try await eventually { try running.processIDs().count == 2 })
        let pids = try running.processIDs()

        try manager.shutdown()
        for directory in manager.parentDirectories { #expect(!directoryExists(directory)) }
        #expect(try await eventually { pids.allSatisfy(isDead) })
        try await shell.waitForExit()
        #expect {
            _ = try manager.makeAttemptGroup(name: "late")
        } throws: { error in
            (error as? CgroupError)?.code == .shutDown
        }
        try manager.shutdown()  // again: nothing left to do
        _ = shell.output
    }

    @Test(
        "removeStaleGroups kills and removes a dead supervisor's groups, and only those",
        .enabled(if: Environment.support.version != nil, Environment.missing()))
    func staleGroupsOfDeadSupervisors() async throws {
        let support = Environment.support
        let prefix = "flakebox-stale-test-"
        let deadPID = try Self.pidOfExitedProcess()
        // What a supervisor killed with SIGKILL leaves behind: its parent, an attempt, an orphan in it.
        let crashed = try CgroupManager(support: support, parentName: "\(prefix)\(deadPID)-1")
        let orphanGroup = try crashed.makeAttemptGroup(name: "attempt-1")
        let orphan = try JoinedShell.start(in: orphanGroup, "exec sleep 600")
        #expect(try await eventually { try orphanGroup.processIDs().count == 1 })
        let alive = try CgroupManager(support: support, parentName: "\(prefix)\(getpid())-1")
        defer { #expect(throws: Never.self) { try alive.shutdown() } }
        let aliveGroup = try alive.makeAttemptGroup(name: "attempt-1")

        let result = CgroupManager.removeStaleGroups(support: support, prefix: prefix)
        #expect(result.failures.isEmpty, "\(result.failures)")
        #expect(Set(result.removed).isSuperset(of: crashed.parentDirectories + orphanGroup.directories))
        for directory in crashed.parentDirectories { #expect(!directoryExists(directory)) }
        for directory in alive.parentDirectories + aliveGroup.directories { #expect(directoryExists(directory)) }
        #expect(try await orphan.waitForExit() == .signaled(SIGKILL))
        try crashed.shutdown()  // its groups are gone already; nothing to do
        _ = orphan.output
    }

    @Test(
        "concurrent attempt groups are independent",
        .enabled(if: Environment.has(.memory, .pids), Environment.missing(.memory, .pids)))
    func concurrentGroupsAreIndependent() async throws {
        let manager = try Environment.makeManager("concurrent")
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        // Created from parallel tasks: the lazy parent must be created once, the groups separately.
        let groups = try await withThrowingTaskGroup(of: AttemptCgroup.self) { tasks in
            for index in 0..<6 {
                tasks.addTask {
                    try manager.makeAttemptGroup(
                        name: "attempt-\(index)",
                        limits: CgroupLimits(memoryBytes: UInt64(32 + index) * mebibyte, pidsMax: 8 + index))
                }
            }
            return try await tasks.reduce(into: [String: AttemptCgroup]()) { $0[$1.name] = $1 }
        }
        #expect(groups.count == 6)
        #expect(Set(groups.values.flatMap(\.directories)).count == 6 * groups["attempt-0"]!.directories.count)
        for index in 0..<6 {
            let limits = try groups["attempt-\(index)"]!.effectiveLimits()
            #expect(limits.memoryBytes == UInt64(32 + index) * mebibyte && limits.pidsMax == 8 + index)
        }

        // One attempt exhausts its pids limit while its neighbour forks freely.
        let bomb = groups["attempt-0"]!  // pids.max 8
        let calm = groups["attempt-5"]!  // pids.max 13
        let bomber = try JoinedShell.start(in: bomb, "while :; do sleep 60 & done")
        #expect(try await eventually { (bomb.statistics().processLimitHits ?? 0) > 0 })
        let neighbour = try JoinedShell.start(
            in: calm, "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 60 & done; echo forked; exec sleep 60")
        #expect(try await eventually { try calm.processIDs().count == 11 })
        #expect(calm.statistics().processLimitHits == 0)
        #expect(try bomb.processIDs().count <= 8)

        try bomb.killAll()
        #expect(try calm.processIDs().count == 11, "killing one attempt must not touch the other")
        try calm.killAll()
        try await bomber.waitForExit()
        try await neighbour.waitForExit()
        #expect(neighbour.output.contains("forked"))
        _ = bomber.output
        for group in groups.values { try group.remove() }
    }

    @Test(
        "names that are not a single safe path component are refused",
        .enabled(if: Environment.support.version != nil, Environment.missing()),
        arguments: ["", ".", "..", "a/b", "../escape", "-dash", "cgroup.procs", "memory.max", "tasks", "x\ny"])
    func invalidNames(name: String) throws {
        let manager = try Environment.makeManager("names")
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        #expect {
            _ = try manager.makeAttemptGroup(name: name)
        } throws: { error in
            (error as? CgroupError)?.code == .invalidName
        }
    }

    @Test(
        "an existing attempt name is refused without touching the existing group",
        .enabled(if: Environment.support.version != nil, Environment.missing()))
    func duplicateName() throws {
        let manager = try Environment.makeManager("duplicate")
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        let first = try manager.makeAttemptGroup(name: "same")
        #expect {
            _ = try manager.makeAttemptGroup(name: "same")
        } throws: { error in
            (error as? CgroupError)?.code == .alreadyExists
        }
        for directory in first.directories { #expect(directoryExists(directory)) }
    }

    @Test(
        "cgroup v2 without delegated controllers: limits are refused with the reason, kill and accounting work",
        .enabled(
            if: Environment.support.v2.isUsable && !Environment.support.v2.controllers.contains(.memory),
            "needs a usable cgroup v2 hierarchy without the memory controller (as on the CI host)"))
    func v2WithoutControllers() async throws {
        let manager = try Environment.makeManager("v2", version: .v2)
        defer { #expect(throws: Never.self) { try manager.shutdown() } }
        #expect {
            _ = try manager.makeAttemptGroup(name: "limited", limits: CgroupLimits(memoryBytes: 64 * mebibyte))
        } throws: { error in
            guard let error = error as? CgroupError else { return false }
            return error.code == .controllerUnavailable && error.message.contains("memory")
        }

        let group = try manager.makeAttemptGroup(name: "plain")
        #expect(group.procsFiles.count == 1)
        let shell = try JoinedShell.start(
            in: group,
            "setsid sleep 600 & (sleep 600 &) ; i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 600")
        #expect(
            try await eventually {
                try group.processIDs().count == 3 && (group.statistics().cpuTimeNanoseconds ?? 0) > 0
            })
        let pids = try group.processIDs()
        try group.killAll()  // through cgroup.kill
        #expect(try !group.isPopulated())
        #expect(try await eventually { pids.allSatisfy(isDead) })
        try await shell.waitForExit()
        try group.remove()
        #expect(!directoryExists(group.directories[0]))
        _ = shell.output
    }

    // MARK: - Helpers

    /// The pid of a child that has exited and been reaped, i.e. a pid with no process.
    static func pidOfExitedProcess() throws -> pid_t {
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { free(argv[0]) }
        let result = posix_spawn(&pid, "/bin/true", nil, nil, &argv, environ)
        guard result == 0 else { throw POSIXError(POSIXError.Code(rawValue: result) ?? .EINVAL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return pid
    }

    static func busyLoop(seconds: Double) -> String {
        """
        exec \(Environment.python) -c 'import time
        end = time.monotonic() + \(seconds)
        while time.monotonic() < end: pass'
        """
    }

    /// A plain background sleep, a setsid one, a double-forked orphan, a nohup one and a daemon that
    /// ignores SIGHUP/SIGTERM — the ways tests leave processes behind.
    static func startSleepers(in group: AttemptCgroup) throws -> JoinedShell {
        try JoinedShell.start(
            in: group,
            """
            sleep 600 &
            setsid sleep 600 &
            ( sleep 600 & ) &
            nohup sleep 600 >/dev/null 2>&1 &
            setsid -f sh -c 'trap "" HUP TERM; exec sleep 600'
            exec sleep 600
            """)
    }
}

extension Duration {
    fileprivate var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
