import Foundation

/// A node's hold on a job it claimed from a shared database: until `expires` the job is this
/// node's; every claim bumps the job's `fence`, so a node that lost its lease (it stalled past
/// `expires` and another node claimed the job) is refused when it renews or finishes with the
/// fence it was given.
public struct JobLease: Sendable, Equatable {
    public var holder: String
    public var expires: Date
    public var fence: Int

    public init(holder: String, expires: Date, fence: Int) {
        self.holder = holder
        self.expires = expires
        self.fence = fence
    }
}
