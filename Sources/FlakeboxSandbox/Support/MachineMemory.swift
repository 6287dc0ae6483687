import Foundation

/// What memory this machine can give a job now: the kernel's `MemAvailable`, less where this
/// process's own cgroup (a container's limit) leaves less.
public enum MachineMemory {
    public static func available() -> UInt64? {
        var best = meminfoAvailable()
        if let room = ownCgroupRoom() { best = min(best ?? room, room) }
        return best
    }

    static func meminfoAvailable() -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let words = line.split(separator: " ")
            if words.count >= 2, let kib = UInt64(words[1]) { return kib * 1024 }
        }
        return nil
    }

    /// The own memory cgroup's limit less its usage, when it has a limit.
    static func ownCgroupRoom() -> UInt64? {
        guard let text = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            let path = String(parts[2])
            if parts[1].split(separator: ",").contains("memory") {
                let directory = "/sys/fs/cgroup/memory" + path
                return room(limit: directory + "/memory.limit_in_bytes", usage: directory + "/memory.usage_in_bytes")
            }
            if parts[0] == "0" && parts[1].isEmpty {
                let directory = "/sys/fs/cgroup" + path
                if let room = room(limit: directory + "/memory.max", usage: directory + "/memory.current") {
                    return room
                }
            }
        }
        return nil
    }

    private static func room(limit: String, usage: String) -> UInt64? {
        func number(_ path: String) -> UInt64? {
            (try? String(contentsOfFile: path, encoding: .utf8)).flatMap {
                UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        // "max" (v2) or a page-rounded 2^63 (v1) mean no limit.
        guard let limit = number(limit), limit < 1 << 62, let used = number(usage) else { return nil }
        return limit > used ? limit - used : 0
    }
}
