import FlakeboxCore
import Foundation

/// The local API's jobs: queued, run one at a time in arrival order (the SDK's default
/// concurrency), kept after they finish so that a client can ask twice (up to `retained`).
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
    static let retained = 100

    init(handler: FlakeboxJobHandler) {
        self.handler = handler
    }

    func submit(_ input: Data) -> String {
        let id = "test-" + UUID().uuidString.lowercased()
        entries[id] = Entry(input: input)
        queue.append(id)
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
            entries[id] = entry
            if result.isError { counts.failed += 1 } else { counts.completed += 1 }
            retire(id)
        }
        startNext()
    }

    /// Wakes the job's waiters and forgets the oldest finished jobs beyond `retained`.
    private func retire(_ id: String) {
        for waiter in waiters.removeValue(forKey: id) ?? [] { waiter.resume() }
        finishedOrder.append(id)
        while finishedOrder.count > Self.retained {
            entries.removeValue(forKey: finishedOrder.removeFirst())
        }
    }
}
