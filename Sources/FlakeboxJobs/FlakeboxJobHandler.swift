import FlakeboxCore
import FlakeboxSandbox
import Foundation

/// The one job engine under every transport: a job's `input` (a flakebox job, JSON text) in, the
/// summary or the error out. The worker (production, test input, local API) and the service run
/// jobs through this one type.
public struct FlakeboxJobHandler: Sendable {
    public struct Options: Sendable {
        public var runner: JobRunner.Options
        /// Accept local paths and `file://` repositories (tests and local development only).
        public var allowLocalRepositories: Bool
        /// A summary never exceeds this, whatever the job asks (RunPod refuses larger payloads).
        public var maxSummaryBytes: Int

        public init(
            runner: JobRunner.Options = .init(), allowLocalRepositories: Bool = false,
            maxSummaryBytes: Int = 10_000_000
        ) {
            self.runner = runner
            self.allowLocalRepositories = allowLocalRepositories
            self.maxSummaryBytes = maxSummaryBytes
        }
    }

    public var options: Options

    public init(options: Options = .init()) {
        self.options = options
    }

    /// Runs one job. Cancelling the task kills its sandboxes; the summary then says
    /// `complete: false`, with `incompleteReason()`'s words if it gives any.
    public func handle(
        input json: Data, progress: (@Sendable (JobProgress) -> Void)? = nil,
        incompleteReason: (@Sendable () -> String?)? = nil
    ) async -> HandlerResult {
        let origin: JobInput.Origin = options.allowLocalRepositories ? .commandLine : .remote
        var input: JobInput
        do {
            input = try JobInput.parse(json: json, origin: origin)
        } catch {
            return .failure(error.description)
        }
        input.summaryBudgetBytes = min(input.summaryBudgetBytes, options.maxSummaryBytes)
        var runnerOptions = options.runner
        runnerOptions.progress = progress
        do {
            var summary = try await JobRunner(options: runnerOptions).run(input, origin: origin)
            if !summary.complete, let reason = incompleteReason?() {
                summary.incompleteReason = [reason, summary.incompleteReason].compactMap { $0 }.joined(separator: "; ")
            }
            return .output(summary.encodedJSON())
        } catch {
            if error.code == .invalidInput { return .failure(error.description) }
            return .exception(
                type: "<class 'flakebox.\(error.code.name)'>", message: error.message, traceback: error.logTail ?? "")
        }
    }
}
