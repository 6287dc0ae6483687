/// How an attempt ended: exactly one of these. Only `failed`, `signaled`, `timeout`, `oom` and
/// `outputLimit` say something about the test; `sandboxError` is the harness's own failure.
public enum AttemptStatus: String, Sendable, Codable, CaseIterable {
    case passed
    /// Exited with a non-zero code.
    case failed
    /// Killed by a signal it did not get from the harness.
    case signaled
    /// Still running at the wall-clock limit; the whole attempt was killed.
    case timeout
    /// Killed by the out-of-memory killer inside its cgroup.
    case oom
    /// Wrote more than the policy's output limit and was killed.
    case outputLimit = "output_limit"
    /// The sandbox could not be set up (stage and errno in the result). Never a test failure.
    case sandboxError = "sandbox_error"
    /// Stopped because the job was cancelled.
    case cancelled
}
