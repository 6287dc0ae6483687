import FlakeboxCore
import FlakeboxJobs
import Foundation

/// The local API's jobs: queued, run one at a time in arrival order (the SDK's default
/// concurrency), kept after they finish so that a client can ask twice. Both are bounded, by
/// count and by bytes, so that no client can grow the worker's memory without end: a full queue
/// refuses new jobs, and the oldest finished results are forgotten first.
actor LocalJobStore {
    enum Phase: Sendable {
        case queued
        case running
        case finished(HandlerResult)
        case cancelled
    }

    struct Entry: Sendable {
        var input: Data
        var phase: Phase = .queued
        var created = ContinuousClock.now
        var started: ContinuousClock.Instant?
        var finished: ContinuousClock.Instant?
    }

    private let handler: FlakeboxJobHandler
    private var entries: [String: Entry] = [:]
    private var finishedOrder: [String] = []
    private var queue: [String] = []
    private var runningTask: (id: String, task: Task<HandlerResult, Never>)?
    /// The running job's latest progress, updated from its attempts' threads without a hop here.
    private var runningProgress: ProgressReporter?
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]
    private var counts = (completed: 0, failed: 0)
    private var queuedBytes = 0
    private var retainedBytes = 0
    static let retained = 100
    static let maxRetainedBytes = 128 << 20
    static let maxQueued = 32
    static let maxQueuedBytes = 64 << 20

    init(handler: FlakeboxJobHandler) {
        self.handler = handler
    }

    /// The new job's id, or nil when the queue is full (by count or by bytes).
    func submit(_ input: Data) -> String? {
        guard queue.count < Self.maxQueued, queuedBytes + input.count <= Self.maxQueuedBytes else { return nil }
        let id = "test-" + UUID().uuidString.lowercased()
        entries[id] = Entry(input: input)
        queue.append(id)
        queuedBytes += input.count
        if runningTask == nil { startNext() }
        return id
    }

    func entry(_ id: String) -> Entry? { entries[id] }

    /// Returns once the job has finished or was cancelled (at once for an unknown id).
    func waitUntilDone(_ id: String) async {
        guard let entry = entries[id] else { return }
        switch entry.phase {
        case .finished, .cancelled: return
        case .queued, .running: break
        }
        await withCheckedContinuation { waiters[id, default: []].append($0) }
    }

    /// Cancels a queued or running job; false for an unknown or finished one.
    func cancel(_ id: String) -> Bool {
        guard var entry = entries[id] else { return false }
        switch entry.phase {
        case .finished, .cancelled:
            return false
        case .queued:
            queue.removeAll { $0 == id }
            queuedBytes -= entry.input.count
        case .running:
            runningTask?.task.cancel()
        }
        entry.phase = .cancelled
        entry.finished = .now
        entries[id] = entry
        retire(id)
        return true
    }

    var health: (inQueue: Int, inProgress: Int, completed: Int, failed: Int) {
        (queue.count, runningTask == nil ? 0 : 1, counts.completed, counts.failed)
    }

    private func startNext() {
        guard runningTask == nil, !queue.isEmpty else { return }
        let id = queue.removeFirst()
        guard var entry = entries[id] else { return startNext() }
        queuedBytes -= entry.input.count
        entry.phase = .running
        entry.started = .now
        entries[id] = entry
        let handler = self.handler
        let job = RunPodJob(id: id, input: entry.input)
        let reporter = ProgressReporter(interval: .seconds(1))
        let task = Task { await handler.handle(job, progress: { reporter.record($0) }) }
        runningTask = (id, task)
        runningProgress = reporter
        Task {
            let result = await task.value
            self.finish(id, result)
        }
    }

    /// The latest progress of a running job.
    func progress(of id: String) -> JobProgress? {
        runningTask?.id == id ? runningProgress?.current : nil
    }

    private func finish(_ id: String, _ result: HandlerResult) {
        runningTask = nil
        runningProgress = nil
        if var entry = entries[id], case .running = entry.phase {
            entry.phase = .finished(result)
            entry.finished = .now
            // The input is not needed once the job has run.
            entry.input = Data()
            entries[id] = entry
            if result.isError { counts.failed += 1 } else { counts.completed += 1 }
            retire(id)
        }
        startNext()
    }

    /// Wakes the job's waiters and forgets the oldest finished jobs beyond `retained` or
    /// `maxRetainedBytes`.
    private func retire(_ id: String) {
        for waiter in waiters.removeValue(forKey: id) ?? [] { waiter.resume() }
        finishedOrder.append(id)
        retainedBytes += entries[id].map(Self.size) ?? 0
        while finishedOrder.count > Self.retained || (retainedBytes > Self.maxRetainedBytes && finishedOrder.count > 1)
        {
            if let gone = entries.removeValue(forKey: finishedOrder.removeFirst()) { retainedBytes -= Self.size(gone) }
        }
    }

    /// What a finished entry holds in memory, roughly.
    private static func size(_ entry: Entry) -> Int {
        switch entry.phase {
        case .finished(.output(let summary)): summary.count
        case .finished(.failure(let message)): message.utf8.count
        case .finished(.exception(let type, let message, let traceback)):
            type.utf8.count + message.utf8.count + traceback.utf8.count
        case .queued, .running, .cancelled: entry.input.count
        }
    }
}
