import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Attempts below the full tier made ahead of need — each one's scratch and its launcher, held
/// in its cgroup (`--hold-fd`) — and the removal of used scratches off the attempt's path. Only
/// for a sandbox whose workspaces do not change between attempts (`Sandbox.Options
/// .frozenWorkspaces`: a job's prepared checkout): a copy made ahead must be the copy the attempt
/// would have made.
final class PreparedScratches: Sendable {
    struct Prepared: Sendable {
        var scratch: AttemptScratch
        /// Nil when none could be started: the attempt starts its own.
        var launcher: WarmLaunchers.Launcher?
    }

    /// Each attempt that starts asks for the next one's, so a shape keeps about as many as its
    /// attempts run at once; beyond these the oldest is let go.
    static let perShape = 8
    static let capacity = 16
    private let ready = Mutex<[(key: String, prepared: Prepared)]>([])
    /// Removals still running on their threads.
    private let removals = BackgroundWork()

    func take(_ key: String) -> Prepared? {
        ready.withLock { list in
            guard let index = list.firstIndex(where: { $0.key == key }) else { return nil }
            return list.remove(at: index).prepared
        }
    }

    /// Keeps a prepared attempt of `key`; beyond `perShape` of that shape or `capacity` in all,
    /// the oldest is let go (its launcher exits unused, its cgroup goes to `retireGroup`).
    func add(_ prepared: Prepared, key: String, retireGroup: (AttemptCgroup) -> Void) {
        let evicted = ready.withLock { list -> [Prepared] in
            var out: [Prepared] = []
            if list.count(where: { $0.key == key }) >= Self.perShape,
                let index = list.firstIndex(where: { $0.key == key })
            {
                out.append(list.remove(at: index).prepared)
            }
            list.append((key, prepared))
            if list.count > Self.capacity { out.append(list.removeFirst().prepared) }
            return out
        }
        for prepared in evicted { letGo(prepared, retireGroup: retireGroup, wait: false) }
    }

    /// Removes `scratch` on a thread of its own (in place if no thread can be made).
    func retire(_ scratch: AttemptScratch) {
        guard scratch.directory != nil || scratch.slot != nil else { return }
        removals.run { scratch.remove() }
    }

    /// Lets every prepared attempt go, then waits (up to a minute) for every removal to finish:
    /// the sandbox's directory is removed after this, and only when empty.
    func drain(retireGroup: (AttemptCgroup) -> Void) {
        let all = ready.withLock { list -> [Prepared] in
            defer { list.removeAll() }
            return list.map(\.prepared)
        }
        for prepared in all { letGo(prepared, retireGroup: retireGroup, wait: true) }
        removals.wait()
    }

    /// The launcher first (it exits unused: it has touched nothing), then its cgroup and scratch.
    private func letGo(_ prepared: Prepared, retireGroup: (AttemptCgroup) -> Void, wait: Bool) {
        if let launcher = prepared.launcher {
            launcher.helper.discard()
            if let group = launcher.cgroup { retireGroup(group) }
        }
        if wait { prepared.scratch.remove() } else { retire(prepared.scratch) }
    }
}
