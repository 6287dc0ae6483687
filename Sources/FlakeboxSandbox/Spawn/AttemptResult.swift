/// Everything known about one finished attempt.
public struct AttemptResult: Sendable, Codable, Equatable {
    /// Where sandbox setup failed.
    public struct SetupFailure: Sendable, Codable, Equatable, CustomStringConvertible {
        /// The step that failed, e.g. `overlay`, `uid_map`, `execve`.
        public var stage: String
        public var errno: Int32

        public init(stage: String, errno: Int32) {
            self.stage = stage
            self.errno = errno
        }

        public var description: String {
            errno == 0 ? stage : "\(stage): \(String(cString: strerror(errno))) (errno \(errno))"
        }
    }

    public var status: AttemptStatus
    /// The exit code when the command exited; nil when it was killed.
    public var exitCode: Int32?
    /// The signal that killed the command, if one did.
    public var signal: Int32?
    public var setupFailure: SetupFailure?
    public var wallSeconds: Double
    /// CPU time of the whole attempt (cgroup), or of its reaped processes (rusage).
    public var cpuSeconds: Double?
    public var peakMemoryBytes: UInt64?
    public var stdout: CapturedOutput
    public var stderr: CapturedOutput
    public var tier: IsolationTier
    /// Files brought back from the sandbox (see `AttemptRequest.artifacts`).
    public var artifacts: [Artifact]

    public init(
        status: AttemptStatus, exitCode: Int32?, signal: Int32?, setupFailure: SetupFailure?, wallSeconds: Double,
        cpuSeconds: Double?, peakMemoryBytes: UInt64?, stdout: CapturedOutput, stderr: CapturedOutput,
        tier: IsolationTier, artifacts: [Artifact] = []
    ) {
        self.status = status
        self.exitCode = exitCode
        self.signal = signal
        self.setupFailure = setupFailure
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.peakMemoryBytes = peakMemoryBytes
        self.stdout = stdout
        self.stderr = stderr
        self.tier = tier
        self.artifacts = artifacts
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif
