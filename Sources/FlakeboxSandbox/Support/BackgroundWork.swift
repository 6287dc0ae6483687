import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Work taken off an attempt's path onto threads of its own (removing a used scratch, reaping a
/// launcher), counted, so that what must not go first — a sandbox removing its directories and
/// cgroups — can wait for all of it.
final class BackgroundWork: Sendable {
    private let pending = Atomic<Int>(0)

    /// Runs `work` on a thread of its own (in place if no thread can be made).
    func run(_ work: @escaping @Sendable () -> Void) {
        pending.add(1, ordering: .sequentiallyConsistent)
        let started = DetachedThread.start { [self] in
            work()
            pending.subtract(1, ordering: .sequentiallyConsistent)
        }
        if !started {
            work()
            pending.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    /// Waits until every piece has finished, for at most a minute.
    func wait() {
        var waited = 0
        while pending.load(ordering: .sequentiallyConsistent) > 0 && waited < 60_000 {
            usleep(1000)
            waited += 1
        }
    }
}
