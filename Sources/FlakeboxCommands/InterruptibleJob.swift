import FlakeboxCore
import Foundation

/// Runs one job of `run` or `replay` so that SIGINT and SIGTERM stop it cleanly: the job's task is
/// cancelled, which kills its sandboxes and removes its checkout, and only then does the process
/// exit, with 128 + the signal's number as a shell expects. A `kill -9` cannot be caught; the next
/// start of any flakebox process sweeps what it left (`JobDirectory.removeStale`).
enum InterruptibleJob {
    struct Interrupted: Error {
        let signal: Int32
        var exitCode: Int32 { 128 + signal }
    }

    static func run(_ runner: JobRunner, _ input: JobInput) async throws -> JobSummary {
        try await run(stopped: "the job was stopped and its files removed") {
            try await runner.run(input, origin: .commandLine)
        }
    }

    /// Runs `body` in a task that SIGINT and SIGTERM cancel; then says `stopped` after the signal's
    /// name and throws `Interrupted`.
    static func run<Value: Sendable>(stopped: String, _ body: @escaping @Sendable () async throws -> Value)
        async throws -> Value
    {
        // Installed before the job starts: a signal that came before the watcher first ran would
        // otherwise find the default action and kill the process with its checkout in place.
        let signals = ShutdownSignal.stream()
        let job = Task { try await body() }
        let watcher = Task {
            for await signal in signals {
                job.cancel()
                return signal
            }
            return Int32(0)
        }
        let result = await job.result
        if job.isCancelled {
            let signal = await watcher.value
            FileHandle.standardError.write(
                Data("\nflakebox: \(ShutdownSignal.name(signal)) received; \(stopped)\n".utf8))
            throw Interrupted(signal: signal)
        }
        watcher.cancel()
        return try result.get()
    }
}
