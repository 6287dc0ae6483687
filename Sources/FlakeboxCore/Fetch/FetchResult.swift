/// A fresh checkout, ready to be the read-only lower layer of every attempt.
public struct FetchResult: Sendable, Equatable {
    /// The checkout (the directory the fetch was asked to fill).
    public var directory: String
    /// The full id of the commit checked out (40 or 64 lowercase hex digits).
    public var commit: String
    public var durationSeconds: Double
    /// Disk use of the checkout, `.git` included.
    public var bytes: UInt64
    /// Whether history was cut (`--depth 1`); false when a short commit id forced a full fetch.
    public var shallow: Bool
    /// What of the local working tree was taken, when it was asked for.
    public var workingTree: WorkingTreeSnapshot?

    public init(directory: String, commit: String, durationSeconds: Double, bytes: UInt64, shallow: Bool) {
        self.directory = directory
        self.commit = commit
        self.durationSeconds = durationSeconds
        self.bytes = bytes
        self.shallow = shallow
    }
}
