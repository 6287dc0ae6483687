import Synchronization

/// Keeps one attempt cgroup made ahead of need and removes used ones in the background, so that
/// neither the mkdirs and limit writes nor the wait-until-empty and rmdirs sit on an attempt's
/// critical path (together about 0.6 ms of a ~7 ms attempt on cgroup v1).
final class CgroupPool: Sendable {
    let manager: CgroupManager
    let limits: CgroupLimits
    private let spare = Mutex<AttemptCgroup?>(nil)
    private let serial = Atomic<Int>(0)

    init(manager: CgroupManager, limits: CgroupLimits) {
        self.manager = manager
        self.limits = limits.enforceable(with: manager.controllers)
    }

    /// A fresh, empty group with the pool's limits; starts making the next one.
    func take() throws(CgroupError) -> AttemptCgroup {
        let ready = spare.withLock { slot -> AttemptCgroup? in
            defer { slot = nil }
            return slot
        }
        // Blocking file work: on a thread of its own, never on the cooperative pool, whose two
        // threads (on this machine) schedule every attempt.
        DetachedThread.start { self.refill() }
        if let ready { return ready }
        return try make()
    }

    /// Kills what is left in a used group and removes it, off the caller's path.
    func retire(_ group: AttemptCgroup) {
        DetachedThread.start {
            try? group.killAll()
            try? group.remove()
        }
    }

    private func make() throws(CgroupError) -> AttemptCgroup {
        let number = serial.wrappingAdd(1, ordering: .relaxed).newValue
        return try manager.makeAttemptGroup(name: "attempt-\(number)", limits: limits)
    }

    private func refill() {
        // After shutdown the manager refuses; then there is simply no spare.
        guard let group = try? make() else { return }
        let surplus = spare.withLock { slot -> AttemptCgroup? in
            guard slot == nil else { return group }
            slot = group
            return nil
        }
        if let surplus { try? surplus.remove() }
    }
}
