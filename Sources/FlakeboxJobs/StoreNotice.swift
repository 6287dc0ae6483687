/// What one node tells the others through a shared store (`LeasedJobStore.watch`).
public enum StoreNotice: Sendable, Equatable {
    /// A job was queued, or went back to the queue: claim.
    case work
    /// This job, or its shards, were cancelled: kill what runs of it here now, rather than at
    /// the next renewal of its lease.
    case cancelled(String)
}
