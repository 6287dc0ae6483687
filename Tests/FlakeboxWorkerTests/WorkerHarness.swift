import FlakeboxTestSupport
import Foundation
import Synchronization

/// One test's world: a stand-in RunPod, a scratch directory (HOME, TMPDIR and the working
/// directory), an API key and a pod id of its own, and the workers it started. `run` ends them all
/// when the test is done, however it ends.
final class WorkerHarness: Sendable {
    let server: StandInRunPod
    let directory: String
    /// Unique per test, so that a leak of it anywhere is unambiguous.
    let apiKey: String
    let podID: String
    private let workers = Mutex<[WorkerProcess]>([])

    /// The arguments every production-mode test passes (`--progress-interval 1` keeps progress
    /// tests short; `--shutdown-grace 2` the SIGTERM test).
    static let productionArguments = [
        "--allow-local-repos", "--progress-interval", "1", "--shutdown-grace", "2",
    ]

    private init(server: StandInRunPod) throws {
        self.server = server
        let tag = UUID().uuidString.lowercased()
        directory = NSTemporaryDirectory() + "flakebox-worker-test-\(tag.prefix(8))"
        apiKey = "rpa_secret_\(tag.replacingOccurrences(of: "-", with: ""))"
        podID = "worker-\(tag.prefix(8))"
        for sub in ["home", "tmp"] {
            try FileManager.default.createDirectory(atPath: directory + "/" + sub, withIntermediateDirectories: true)
        }
    }

    /// Set to print every test's traffic and worker logs (when reading what a worker did).
    static let traces = ProcessInfo.processInfo.environment["FLAKEBOX_WORKER_TEST_TRACE"] != nil

    static func run(_ body: (WorkerHarness) async throws -> Void) async throws {
        let harness = try WorkerHarness(server: try await StandInRunPod.start())
        do {
            try await body(harness)
        } catch {
            await harness.finish()
            throw error
        }
        await harness.finish()
    }

    /// PATH, HOME and TMPDIR of this test's own: what any worker run gets.
    var baseEnvironment: [String: String] {
        ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": directory + "/home", "TMPDIR": directory + "/tmp"]
    }

    /// Production mode as on RunPod (docs/RUNPOD_PROTOCOL.md §2–3): the stand-in's four URLs, the key,
    /// the pod id, a heartbeat every second.
    func productionEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        baseEnvironment.merging(server.webhookEnvironment) { $1 }
            .merging([
                "RUNPOD_AI_API_KEY": apiKey, "RUNPOD_POD_ID": podID, "RUNPOD_PING_INTERVAL": "1000",
            ]) { $1 }
            .merging(extra) { $1 }
    }

    /// Starts `flakebox worker <arguments>` in the scratch directory.
    @discardableResult
    func startWorker(_ arguments: [String], environment: [String: String]) throws -> WorkerProcess {
        let worker = try WorkerProcess(
            arguments: ["worker"] + arguments, environment: environment, directory: directory)
        workers.withLock { $0.append(worker) }
        return worker
    }

    /// Starts a production worker against the stand-in.
    @discardableResult
    func startProductionWorker(extraArguments: [String] = [], extraEnvironment: [String: String] = [:]) throws
        -> WorkerProcess
    {
        try startWorker(
            Self.productionArguments + extraArguments, environment: productionEnvironment(extraEnvironment))
    }

    /// The stand-in's traffic once `condition` holds; fails the test with the traffic and the
    /// workers' logs after `timeout` seconds.
    @discardableResult
    func waitFor(_ what: String, timeout: Double = 90, _ condition: @Sendable (Traffic) -> Bool) async throws
        -> Traffic
    {
        if let traffic = await server.waitFor(timeout: timeout, condition) { return traffic }
        throw StandInError(message: "timed out after \(timeout) s waiting for \(what)\n\(await diagnostics())")
    }

    /// How the worker ended; fails the test if it is still running after `timeout` seconds.
    func waitForExit(_ worker: WorkerProcess, timeout: Double = 60) async throws -> WorkerProcess.Termination {
        if let termination = await worker.waitForExit(timeout: timeout) { return termination }
        throw StandInError(message: "the worker did not exit within \(timeout) s\n\(await diagnostics())")
    }

    /// The traffic so far and every worker's output, for a failure message.
    func diagnostics() async -> String {
        let logs = workers.withLock { $0 }.map(\.logTail).joined(separator: "\n")
        return "\(await server.traffic)\n\(logs)"
    }

    /// A job `input` (the issue's format); `extra` adds or overrides fields.
    static func jobInput(
        repo: String, command: String = "sh t.sh", runs: Int = 2, parallelism: Int = 2, _ extra: [String: Any] = [:]
    ) -> [String: Any] {
        let base: [String: Any] = ["repo": repo, "test_command": command, "runs": runs, "parallelism": parallelism]
        return base.merging(extra) { $1 }
    }

    private func finish() async {
        if Self.traces { print("[flakebox worker tests] \(await diagnostics())") }
        let started = workers.withLock { $0 }
        for worker in started { worker.kill() }
        for worker in started { _ = await worker.waitForExit(timeout: 30) }
        await server.shutdown()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
