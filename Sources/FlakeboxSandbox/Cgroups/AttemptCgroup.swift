import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The cgroup (v1: one directory per hierarchy; v2: one directory) of a single attempt.
///
/// The sandbox helper joins it by writing its own pid into each of ``procsFiles`` before it drops
/// privileges; everything it starts stays inside. After the attempt: ``statistics()``, then
/// ``killAll(timeout:)`` and ``remove(timeout:)``.
public final class AttemptCgroup: Sendable {
    /// The attempt's name, the last path component of each directory.
    public let name: String
    /// The cgroup version the group lives in.
    public let version: CgroupVersion
    let placements: [CgroupPlacement]
    // The largest memory.current seen, for kernels without a peak watermark (v2 before 5.19).
    private let sampledPeak = Mutex<UInt64?>(nil)

    init(name: String, version: CgroupVersion, placements: [CgroupPlacement]) {
        self.name = name
        self.version = version
        self.placements = placements
    }

    /// The `cgroup.procs` files the helper must write its pid into: one per v1 hierarchy, one for v2.
    public var procsFiles: [String] { placements.map(\.procsFile) }

    /// The file with the group's CPU usage: v1 `cpuacct.usage` (ns), v2 `cpu.stat` (`usage_usec`).
    public var cpuUsageFile: String? {
        switch version {
        case .v1: directory(for: .cpuacct).map { $0 + "/cpuacct.usage" }
        case .v2: placements.first.map { $0.directory + "/cpu.stat" }
        }
    }

    /// The group's directories, one per hierarchy.
    public var directories: [String] { placements.map(\.directory) }

    /// The directory that carries `controller`'s files, if the group has that controller.
    public func directory(for controller: CgroupController) -> String? {
        placements.first { $0.controllers.contains(controller) }?.directory
    }

    // MARK: - Membership

    /// The host pids of the group's processes (the union over all hierarchies). Zombies are not listed.
    public func processIDs() throws(CgroupError) -> [pid_t] {
        var pids = Set<pid_t>()
        for placement in placements {
            do {
                pids.formUnion(CgroupFileSystem.parsePIDs(try CgroupFileSystem.readFile(placement.procsFile)))
            } catch {
                if error.errno == ENOENT { continue }  // already removed
                throw error
            }
        }
        return pids.sorted()
    }

    /// Whether any process is still in the group. Uses v2's `cgroup.events` when present.
    public func isPopulated() throws(CgroupError) -> Bool {
        if version == .v2, let events = CgroupFileSystem.readIfPresent(placements[0].directory + "/cgroup.events") {
            return CgroupFileSystem.keyedValues(events)["populated"] != 0
        }
        return try !processIDs().isEmpty
    }

    /// Waits until the group has no processes, for at most `timeout`. Teardown is asynchronous: the
    /// kernel kills a pid namespace's remaining processes only after its init has died.
    /// - Returns: `true` if the group became empty.
    public func waitUntilEmpty(timeout: Duration) throws(CgroupError) -> Bool {
        let deadline = ContinuousClock.now + timeout
        var pause = 1
        while try isPopulated() {
            if ContinuousClock.now >= deadline { return false }
            CgroupFileSystem.sleep(milliseconds: pause)
            pause = min(pause * 2, 20)
        }
        return true
    }

    // MARK: - Killing and removal

    /// SIGKILLs every process in the group and waits until it is empty.
    ///
    /// v2 uses `cgroup.kill` (atomic even against a fork bomb). v1 (and v2 before 5.14) reads
    /// `cgroup.procs` and signals each process, repeating until no process is left; with a pids limit
    /// in place a fork bomb cannot outrun this.
    /// - Throws: ``CgroupError/Code/stillPopulated`` if processes remain after `timeout`.
    public func killAll(timeout: Duration = .seconds(5)) throws(CgroupError) {
        let deadline = ContinuousClock.now + timeout
        // Already removed (a second cleanup path): nothing can be left inside.
        if !directories.contains(where: CgroupFileSystem.exists) { return }
        if version == .v2 {
            let killFile = placements[0].directory + "/cgroup.kill"
            if CgroupFileSystem.exists(killFile) {
                try CgroupFileSystem.writeFile("1", to: killFile, code: .killFailed)
                if try waitUntilEmpty(timeout: deadline - ContinuousClock.now) { return }
                throw stillPopulatedError(try processIDs(), errno: nil)
            }
        }
        var pause = 1
        var lastFailure: Int32?
        var signalled = Set<pid_t>()
        while true {
            let pids = try processIDs()
            if pids.isEmpty { return }
            if ContinuousClock.now >= deadline { throw stillPopulatedError(pids, errno: lastFailure) }
            let failure = try CgroupProcessKiller.signal(pids) { () throws(CgroupError) in Set(try processIDs()) }
            lastFailure = failure ?? lastFailure
            // New pids mean something is still forking: go again at once. Only the already-signalled
            // (dying) ones left: back off while the kernel tears them down.
            if !Set(pids).isSubset(of: signalled) {
                signalled.formUnion(pids)
                pause = 1
                continue
            }
            CgroupFileSystem.sleep(milliseconds: pause)
            pause = min(pause * 2, 20)
        }
    }

    /// Waits (at most `timeout`) until the group is empty, then removes its directory in every
    /// hierarchy. Does not kill: call ``killAll(timeout:)`` first. Removing twice is harmless.
    public func remove(timeout: Duration = .seconds(5)) throws(CgroupError) {
        let deadline = ContinuousClock.now + timeout
        guard try waitUntilEmpty(timeout: timeout) else {
            throw stillPopulatedError(try processIDs(), errno: nil)
        }
        var firstError: CgroupError?
        for placement in placements {
            do {
                try Self.removeDirectory(placement.directory, deadline: deadline)
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// `rmdir` with retries while the kernel still reports EBUSY (an exiting task not yet detached).
    static func removeDirectory(_ directory: String, deadline: ContinuousClock.Instant) throws(CgroupError) {
        var pause = 1
        while true {
            let failure = CgroupFileSystem.removeDirectory(directory)
            if failure == 0 || failure == ENOENT { return }
            if failure != EBUSY || ContinuousClock.now >= deadline {
                throw CgroupError(
                    .removeFailed, "cannot remove a cgroup", operation: "rmdir", path: directory, errno: failure)
            }
            CgroupFileSystem.sleep(milliseconds: pause)
            pause = min(pause * 2, 20)
        }
    }

    private func stillPopulatedError(_ pids: [pid_t], errno: Int32?) -> CgroupError {
        let listed = pids.prefix(10).map(String.init).joined(separator: " ")
        return CgroupError(
            .stillPopulated, "cgroup \(name) still holds \(pids.count) process(es): \(listed)",
            operation: errno == nil ? nil : "kill", path: errno == nil ? nil : placements[0].directory,
            errno: errno)
    }

    // MARK: - Accounting

    /// Reads the group's accounting. Call it before ``remove(timeout:)``; missing files give `nil` fields.
    public func statistics() -> CgroupStatistics {
        switch version {
        case .v1: return statisticsV1()
        case .v2: return statisticsV2()
        }
    }

    /// Records the current memory usage, so a peak is known on v2 kernels without `memory.peak`.
    /// Cheap; a supervisor may call it periodically while the attempt runs.
    public func sampleMemory() {
        let file = version == .v1 ? "memory.usage_in_bytes" : "memory.current"
        guard let directory = directory(for: .memory),
            let text = CgroupFileSystem.readIfPresent(directory + "/" + file),
            let current = UInt64(CgroupFileSystem.trim(text))
        else { return }
        sampledPeak.withLock { $0 = max($0 ?? 0, current) }
    }

    private func statisticsV1() -> CgroupStatistics {
        var statistics = CgroupStatistics()
        if let memory = directory(for: .memory) {
            statistics.peakMemoryBytes = number(memory, "memory.max_usage_in_bytes")
            statistics.oomKills = keyed(memory, "memory.oom_control", "oom_kill").map { Int($0) }
            // Only a kill asks whose limit it was: four more reads an attempt otherwise.
            if statistics.oomKills ?? 0 > 0 { statistics.memoryLimitHits = limitHitsV1(memory) }
        }
        if let cpuacct = directory(for: .cpuacct) {
            statistics.cpuTimeNanoseconds = number(cpuacct, "cpuacct.usage")
        }
        if let cpu = directory(for: .cpu) {
            statistics.cpuThrottledNanoseconds = keyed(cpu, "cpu.stat", "throttled_time")
        }
        if let pids = directory(for: .pids) {
            statistics.peakProcesses = number(pids, "pids.peak").map { Int($0) }
            statistics.processLimitHits = keyed(pids, "pids.events", "max").map { Int($0) }
        }
        return statistics
    }

    private func statisticsV2() -> CgroupStatistics {
        let directory = placements[0].directory
        let controllers = placements[0].controllers
        var statistics = CgroupStatistics()
        if controllers.contains(.memory) {
            if let peak = number(directory, "memory.peak") {
                statistics.peakMemoryBytes = peak
            } else {
                sampleMemory()
                statistics.peakMemoryBytes = sampledPeak.withLock { $0 }
                statistics.peakMemoryIsSampled = true
            }
            // One read of memory.events for the kills and whose limit they came from.
            let events = CgroupFileSystem.readIfPresent(directory + "/memory.events").map(CgroupFileSystem.keyedValues)
            statistics.oomKills = events?["oom_kill"].map { Int($0) }
            if let max = events?["max"], let oom = events?["oom"] { statistics.memoryLimitHits = Int(max + oom) }
        }
        statistics.cpuTimeNanoseconds = keyed(directory, "cpu.stat", "usage_usec").map { $0 * 1000 }
        if controllers.contains(.cpu) {
            statistics.cpuThrottledNanoseconds = keyed(directory, "cpu.stat", "throttled_usec").map { $0 * 1000 }
        }
        if controllers.contains(.pids) {
            statistics.peakProcesses = number(directory, "pids.peak").map { Int($0) }
            statistics.processLimitHits = keyed(directory, "pids.events", "max").map { Int($0) }
        }
        return statistics
    }

    /// v1: how often the group reached its own limit. `failcnt` alone misses it where the memsw
    /// counter, charged first, refuses the charge (6.x kernels count no failcnt there), so a
    /// watermark within a few charge batches of the limit counts too.
    private func limitHitsV1(_ memory: String) -> Int? {
        guard let failures = number(memory, "memory.failcnt") else { return nil }
        var hits = Int(failures) + Int(number(memory, "memory.memsw.failcnt") ?? 0)
        let slack: UInt64 = 4 << 20
        for prefix in ["memory.", "memory.memsw."] {
            if let limit = number(memory, prefix + "limit_in_bytes"), limit < 1 << 62,
                let peak = number(memory, prefix + "max_usage_in_bytes"), peak + slack >= limit
            {
                hits += 1
            }
        }
        return hits
    }

    private func number(_ directory: String, _ file: String) -> UInt64? {
        CgroupFileSystem.readIfPresent(directory + "/" + file).flatMap { UInt64(CgroupFileSystem.trim($0)) }
    }

    private func keyed(_ directory: String, _ file: String, _ key: String) -> UInt64? {
        CgroupFileSystem.readIfPresent(directory + "/" + file).flatMap { CgroupFileSystem.keyedValues($0)[key] }
    }

    // MARK: - Limits

    /// Writes `limits` into the group's files. Called once, before any process joins.
    func apply(_ limits: CgroupLimits) throws(CgroupError) {
        switch version {
        case .v1: try applyV1(limits)
        case .v2: try applyV2(limits)
        }
    }

    private func applyV1(_ limits: CgroupLimits) throws(CgroupError) {
        if let memory = directory(for: .memory) {
            if let bytes = limits.memoryBytes {
                try write(bytes, memory, "memory.limit_in_bytes")
                // memsw limits memory+swap; equal to the memory limit, no swap is left.
                if CgroupFileSystem.exists(memory + "/memory.memsw.limit_in_bytes") {
                    try write(bytes, memory, "memory.memsw.limit_in_bytes")
                } else {
                    // Without swap accounting (swapaccount=0) the closest v1 offers is swappiness 0.
                    try write(0, memory, "memory.swappiness")
                }
            }
            // oom_kill_disable is inherited from the parent; a disabled OOM killer would pause a hog
            // until the wall-clock timeout instead of killing it.
            try write(0, memory, "memory.oom_control")
        }
        if let pids = directory(for: .pids), let maximum = limits.pidsMax {
            try write(UInt64(maximum), pids, "pids.max")
        }
        if let cpu = directory(for: .cpu), let quota = limits.cpuQuotaMicroseconds {
            try write(limits.cpuPeriodMicroseconds, cpu, "cpu.cfs_period_us")
            try write(quota, cpu, "cpu.cfs_quota_us")
        }
    }

    private func applyV2(_ limits: CgroupLimits) throws(CgroupError) {
        let directory = placements[0].directory
        let controllers = placements[0].controllers
        if controllers.contains(.memory) {
            if let bytes = limits.memoryBytes {
                try write(bytes, directory, "memory.max")
                // Absent when swap accounting is off or no swap is configured at build time.
                if CgroupFileSystem.exists(directory + "/memory.swap.max") {
                    try write(0, directory, "memory.swap.max")
                }
            }
            // Kill the whole attempt on OOM, not just the largest process, so no half-dead test lingers.
            if CgroupFileSystem.exists(directory + "/memory.oom.group") {
                try write(1, directory, "memory.oom.group")
            }
        }
        if controllers.contains(.pids), let maximum = limits.pidsMax {
            try write(UInt64(maximum), directory, "pids.max")
        }
        if controllers.contains(.cpu), let quota = limits.cpuQuotaMicroseconds {
            try CgroupFileSystem.writeFile(
                "\(quota) \(limits.cpuPeriodMicroseconds)", to: directory + "/cpu.max", code: .limitRejected)
        }
    }

    private func write(_ value: UInt64, _ directory: String, _ file: String) throws(CgroupError) {
        try CgroupFileSystem.writeFile(String(value), to: directory + "/" + file, code: .limitRejected)
    }

    /// The limits the kernel reports for the group, read back from its files (rounded to pages etc.).
    public func effectiveLimits() throws(CgroupError) -> CgroupLimits {
        var limits = CgroupLimits()
        switch version {
        case .v1:
            if let memory = directory(for: .memory) {
                limits.memoryBytes = CgroupFileSystem.parseLimit(
                    try CgroupFileSystem.readFile(memory + "/memory.limit_in_bytes"))
            }
            if let pids = directory(for: .pids) {
                limits.pidsMax = CgroupFileSystem.parseLimit(try CgroupFileSystem.readFile(pids + "/pids.max"))
                    .map { Int($0) }
            }
            if let cpu = directory(for: .cpu) {
                let quota = Int64(CgroupFileSystem.trim(try CgroupFileSystem.readFile(cpu + "/cpu.cfs_quota_us")))
                let period = UInt64(CgroupFileSystem.trim(try CgroupFileSystem.readFile(cpu + "/cpu.cfs_period_us")))
                if let period {
                    limits.cpuPeriodMicroseconds = period
                    if let quota, quota > 0 { limits.cpuCores = Double(quota) / Double(period) }
                }
            }
        case .v2:
            let directory = placements[0].directory
            let controllers = placements[0].controllers
            if controllers.contains(.memory) {
                limits.memoryBytes = CgroupFileSystem.parseLimit(
                    try CgroupFileSystem.readFile(directory + "/memory.max"))
            }
            if controllers.contains(.pids) {
                limits.pidsMax = CgroupFileSystem.parseLimit(try CgroupFileSystem.readFile(directory + "/pids.max"))
                    .map { Int($0) }
            }
            if controllers.contains(.cpu) {
                // "max 100000" or "50000 100000"
                let fields = try CgroupFileSystem.readFile(directory + "/cpu.max").split(whereSeparator: \.isWhitespace)
                if fields.count == 2, let period = UInt64(fields[1]) {
                    limits.cpuPeriodMicroseconds = period
                    if let quota = UInt64(fields[0]) { limits.cpuCores = Double(quota) / Double(period) }
                }
            }
        }
        return limits
    }
}
