import FlakeboxJobs

/// What `/stream` has handed out per job, so that each chunk is consumed once: a progress chunk
/// only when it changed since the last call, the final output once. Bounded: the oldest entries
/// are forgotten first (a forgotten job streams its latest progress once more, nothing worse).
actor StreamLedger {
    private struct Entry {
        var lastProgress: [UInt8]?
        var finalSent = false
    }
    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    /// The chunks to send now for a job with this state, progress and output.
    func take(id: String, final: Bool, progress: [UInt8]?, output: [UInt8]?) -> [[UInt8]] {
        var entry = entries[id] ?? Entry()
        if entries[id] == nil {
            order.append(id)
            if order.count > capacity { entries.removeValue(forKey: order.removeFirst()) }
        }
        var chunks: [[UInt8]] = []
        if final {
            if !entry.finalSent, let output { chunks.append(output) }
            entry.finalSent = true
        } else if let progress, progress != entry.lastProgress {
            chunks.append(progress)
            entry.lastProgress = progress
        }
        entries[id] = entry
        return chunks
    }
}
