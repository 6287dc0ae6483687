/// Where a job's wall-clock time went, in seconds.
public struct JobTimings: Sendable, Equatable, Codable {
    /// Fetching the repository.
    public var cloneSeconds: Double
    /// Preparing it once (dependencies, `setup_command`); 0 when there was nothing to do.
    public var setupSeconds: Double
    /// From the first attempt's start to the last attempt's end.
    public var runSeconds: Double
    /// The whole job, as the user waited for it.
    public var totalSeconds: Double
    /// Checkout and setup came from `PreparedCheckoutCache`.
    public var checkoutCached: Bool

    public init(
        cloneSeconds: Double = 0, setupSeconds: Double = 0, runSeconds: Double = 0, totalSeconds: Double = 0,
        checkoutCached: Bool = false
    ) {
        self.checkoutCached = checkoutCached
        self.cloneSeconds = cloneSeconds
        self.setupSeconds = setupSeconds
        self.runSeconds = runSeconds
        self.totalSeconds = totalSeconds
    }
}
