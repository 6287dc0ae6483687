import FlakeboxSandbox

extension JobRunner {
    /// The job's `memory` as the attempts' limit, refused above the policy's `maxMemory` (or its
    /// `memory` when it names no maximum): a job may not grant itself more than the policy allows.
    static func applyMemory(_ bytes: UInt64, to policy: inout Policy) throws(JobError) {
        let limits = policy.limits
        let bound = limits.maxMemory.map { max($0, limits.memory ?? 0) } ?? limits.memory
        if let bound, bytes > bound {
            throw JobError(
                .policy,
                "memory \(SummaryFormat.bytes(bytes)) is above policy \"\(policy.name)\"'s bound of "
                    + "\(SummaryFormat.bytes(bound)) (limits.maxMemory); ask for at most that, or use a policy that allows more"
            )
        }
        policy.limits.memory = bytes
    }
}
