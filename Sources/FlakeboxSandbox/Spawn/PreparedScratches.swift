import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Attempt scratches made ahead of need, one per request shape, and the removal of used ones
/// off the attempt's path. Only for a sandbox whose workspaces do not change between attempts
/// (`Sandbox.Options.frozenWorkspaces`: a job's prepared checkout): a copy made ahead must be
/// the copy the attempt would have made.
final class PreparedScratches: Sendable {
    /// Each attempt that starts asks for the next one's scratch, so a shape keeps about as many
    /// as its attempts run at once; beyond these the oldest is removed.
    static let perShape = 8
    static let capacity = 16
    private let ready = Mutex<[(key: String, scratch: AttemptScratch)]>([])
    /// Removals still running on their threads.
    private let pending = Atomic<Int>(0)

    func take(_ key: String) -> AttemptScratch? {
        ready.withLock { list in
            guard let index = list.firstIndex(where: { $0.key == key }) else { return nil }
            return list.remove(at: index).scratch
        }
    }

    /// Keeps a scratch for a next attempt of `key`; beyond `perShape` of that shape or
    /// `capacity` in all, the oldest is removed.
    func add(_ scratch: AttemptScratch, key: String) {
        let evicted = ready.withLock { list -> [AttemptScratch] in
            var out: [AttemptScratch] = []
            if list.count(where: { $0.key == key }) >= Self.perShape,
                let index = list.firstIndex(where: { $0.key == key })
            {
                out.append(list.remove(at: index).scratch)
            }
            list.append((key, scratch))
            if list.count > Self.capacity { out.append(list.removeFirst().scratch) }
            return out
        }
        for scratch in evicted { retire(scratch) }
    }

    /// Removes `scratch` on a thread of its own (in place if no thread can be made).
    func retire(_ scratch: AttemptScratch) {
        guard scratch.directory != nil || scratch.slot != nil else { return }
        pending.add(1, ordering: .sequentiallyConsistent)
        let started = DetachedThread.start { [self] in
            scratch.remove()
            pending.subtract(1, ordering: .sequentiallyConsistent)
        }
        if !started {
            scratch.remove()
            pending.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    /// Removes every prepared scratch, then waits (up to a minute) for every removal to finish:
    /// the sandbox's directory is removed after this, and only when empty.
    func drain() {
        let all = ready.withLock { list -> [AttemptScratch] in
            defer { list.removeAll() }
            return list.map(\.scratch)
        }
        for scratch in all { scratch.remove() }
        var waited = 0
        while pending.load(ordering: .sequentiallyConsistent) > 0 && waited < 60_000 {
            usleep(1000)
            waited += 1
        }
    }
}
