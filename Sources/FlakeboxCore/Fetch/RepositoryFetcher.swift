import FlakeboxSandbox
import Foundation

/// Fetches the repository of a job, once, into the directory every attempt's sandbox will see as
/// its read-only lower layer. The repository URL and ref come from untrusted input, so:
///
/// - both are validated before any process starts (`RepositoryURL`, `GitRef`); git receives them
///   only after `--` or as `--branch=NAME`, never where they could be read as options;
/// - git runs from an absolute path with an environment built from nothing and a fixed set of
///   `-c` settings (`SanitizedGit`): no hooks, fsmonitor, credential helpers, prompts or host
///   configuration; only the `https` and `ssh` transports (and `file` with `allowLocal`);
/// - one wall-clock deadline covers every git call and kills git's whole process tree
///   (`GroupedProcess`); the checkout's size is watched while git runs and checked after;
/// - on any failure the checkout directory is removed and the error says why (`FetchError`, with
///   the end of git's own message, cleaned of control characters).
///
/// History is shallow (`--depth 1`) except for an abbreviated commit id, which needs a full fetch.
/// Nothing inside `.git` will run later on the host: the only git command run inside the fetched
/// tree is `rev-parse HEAD`, here, on the fresh clone (whose configuration git itself wrote, since
/// a clone cannot carry configuration); afterwards the host never runs git on the checkout or on
/// an attempt's upper layer.
public enum RepositoryFetcher {
    /// Fetches `request.repo` at `request.ref` into `directory`.
    ///
    /// - Parameters:
    ///   - request: what to fetch, and the limits.
    ///   - directory: an absolute path that does not exist yet (or is an empty directory), whose
    ///     parent exists. Removed if the fetch fails.
    /// - Returns: the checked-out commit and what the checkout cost.
    /// - Throws: `FetchError`: `.invalidURL`, `.invalidRef`, `.localNotAllowed` or `.destination`
    ///   before anything runs; `.gitFailed`, `.timeout`, `.tooLarge`, `.cancelled`, `.system` after.
    public static func fetch(_ request: FetchRequest, into directory: String) async throws(FetchError) -> FetchResult {
        let cancellation = CancelSignal()
        defer { cancellation.close() }
        let operation = try FetchOperation.prepare(request, into: directory, cancelFD: cancellation.readEnd)
        if Task.isCancelled { throw FetchError(.cancelled, "the fetch was cancelled before it started") }
        return try await supervised(cancellation) { () throws(FetchError) in try operation.run() }
    }

    /// A ref that names one commit whatever is pushed later, for jobs that clone the same
    /// repository more than once (the shards of a fan-out): for the default branch, a branch or a
    /// tag, the full id of the commit it names now (`git ls-remote`, with the same sanitized git,
    /// host checks, pins and deadline as a fetch of `request`, and nothing written but git's
    /// private `HOME`); a commit id, full or abbreviated, as given (lowercase), since what it
    /// names cannot move.
    ///
    /// - Throws: `FetchError`: `.invalidURL`, `.invalidRef`, `.localNotAllowed`, `.hostNotAllowed`,
    ///   `.addressRefused` before anything connects; `.gitFailed` (no such branch or tag, or git
    ///   failed), `.timeout`, `.cancelled`, `.system` after.
    public static func pinnedRef(_ request: FetchRequest) async throws(FetchError) -> String {
        let cancellation = CancelSignal()
        defer { cancellation.close() }
        let pinning = try RefPinning.prepare(request, cancelFD: cancellation.readEnd)
        if Task.isCancelled { throw FetchError(.cancelled, "the ref's resolution was cancelled before it started") }
        return try await supervised(cancellation) { () throws(FetchError) in try pinning.run() }
    }

    /// Runs `body` on a dedicated thread: git is supervised with blocking poll(2), which must not
    /// hold a thread of the cooperative pool for minutes. Cancelling the task fires `cancellation`.
    private static func supervised<Value: Sendable>(
        _ cancellation: CancelSignal, _ body: @escaping @Sendable () throws(FetchError) -> Value
    ) async throws(FetchError) -> Value {
        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<Value, FetchError>, Never>) in
                let started = DetachedThread.start {
                    do throws(FetchError) {
                        continuation.resume(returning: .success(try body()))
                    } catch {
                        continuation.resume(returning: .failure(error))
                    }
                }
                if !started {
                    continuation.resume(returning: .failure(FetchError(.system, "no thread to supervise git")))
                }
            }
        } onCancel: {
            cancellation.fire()
        }
        return try result.get()
    }
}
