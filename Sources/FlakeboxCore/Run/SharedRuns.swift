/// What interference mode ran: one record per copy, in the order they ran.
public struct SharedRuns: Sendable, Equatable {
    public var records: [AttemptRecord]
    public var copiesAtOnce: Int
    /// The attempts that were to run again.
    public var planned: Int
    /// Why fewer than `planned` ran, when they did.
    public var stopReason: String?

    public init(records: [AttemptRecord], copiesAtOnce: Int, planned: Int, stopReason: String? = nil) {
        self.records = records
        self.copiesAtOnce = copiesAtOnce
        self.planned = planned
        self.stopReason = stopReason
    }
}
