import FlakeboxSandbox

/// How many attempts a job may run at once within the memory the machine can give, and the
/// budget set on their parent cgroup so that together they never take more. Without it, parallel
/// attempts each under their own limit can exhaust the host, whose OOM killer then ends one of
/// them: a false `oom`, and a false flake.
public struct MemoryAdmission: Sendable, Equatable {
    public var requestedParallelism: Int
    public var parallelism: Int
    /// The attempts' parent cgroup limit (nil: none set, as without a per-attempt limit).
    public var budgetBytes: UInt64?
    public var perAttemptBytes: UInt64?
    public var availableBytes: UInt64?

    /// The share of the available memory a job may take; the rest stays with the host and the
    /// supervisor.
    static let usableFraction = 0.9
    /// Room above the attempts' limits for launchers started ahead of their attempt.
    static let slackBytes: UInt64 = 64 << 20

    public static func admit(parallelism: Int, perAttempt: UInt64?, available: UInt64?) -> MemoryAdmission {
        var admission = MemoryAdmission(
            requestedParallelism: parallelism, parallelism: parallelism, budgetBytes: nil,
            perAttemptBytes: perAttempt, availableBytes: available)
        guard let perAttempt, perAttempt > 0, let available else { return admission }
        let usable = UInt64(Double(available) * usableFraction)
        admission.parallelism = max(1, min(parallelism, Int(clamping: usable / perAttempt)))
        admission.budgetBytes = max(
            1 << 20, min(UInt64(admission.parallelism) * perAttempt + slackBytes, usable))
        return admission
    }

    public var reduced: Bool { parallelism < requestedParallelism }

    /// Why parallelism was lowered, for the summary.
    public var note: String? {
        guard reduced, let perAttemptBytes, let availableBytes else { return nil }
        return "parallelism \(requestedParallelism) lowered to \(parallelism): \(requestedParallelism) attempts of "
            + "\(SummaryFormat.bytes(perAttemptBytes)) do not fit the \(SummaryFormat.bytes(availableBytes)) "
            + "this machine had available"
    }
}
