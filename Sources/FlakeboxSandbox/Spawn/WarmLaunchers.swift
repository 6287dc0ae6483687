import Synchronization

/// Launchers started ahead of need, one per recent request shape, each already moved into its own
/// attempt cgroup and waiting for its environment and command. Moving a task between cgroup v1
/// groups waits for an RCU grace period (4–5 ms, more under load); a held launcher pays it while
/// the previous attempt still runs, so a job's attempts start as soon as they are asked for. With
/// `--build-ahead` (a frozen workspace) its PID 1 has built the whole sandbox meanwhile too.
final class WarmLaunchers: Sendable {
    struct Launcher: Sendable {
        var key: String
        var helper: SpawnedHelper
        var cgroup: AttemptCgroup?
    }

    /// More shapes than this and the oldest launcher is let go.
    static let capacity = 8
    private let ready = Mutex<[Launcher]>([])

    /// A held launcher for `key`, if one is ready.
    func take(_ key: String) -> Launcher? {
        ready.withLock { list in
            guard let index = list.firstIndex(where: { $0.key == key }) else { return nil }
            return list.remove(at: index)
        }
    }

    /// Keeps a started launcher; lets the oldest go beyond the capacity.
    func add(_ launcher: Launcher, retire: (AttemptCgroup) -> Void) {
        let evicted = ready.withLock { list -> Launcher? in
            list.append(launcher)
            return list.count > Self.capacity ? list.removeFirst() : nil
        }
        if let evicted {
            evicted.helper.discard()
            if let group = evicted.cgroup { retire(group) }
        }
    }

    /// Lets every held launcher go (end of file on its hold pipe: it exits unused).
    func drain(retire: (AttemptCgroup) -> Void) {
        let all = ready.withLock { list -> [Launcher] in
            defer { list.removeAll() }
            return list
        }
        for launcher in all {
            launcher.helper.discard()
            if let group = launcher.cgroup { retire(group) }
        }
    }
}
