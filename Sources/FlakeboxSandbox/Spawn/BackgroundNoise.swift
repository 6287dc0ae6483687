/// CPU and I/O load started inside an attempt's sandbox, beside its command (stress mode): the
/// launcher forks the workers (C, no exec) into the attempt's cgroups, so they share its CPU quota
/// and memory limit with the test and end with the attempt.
public struct BackgroundNoise: Sendable, Equatable, Codable {
    /// Processes spinning on arithmetic.
    public var cpuWorkers: Int
    /// Processes rewriting, syncing and reading back a scratch file in the attempt's temporary
    /// directory (a tmpfs at the namespaced tiers: its pages count against the memory limit).
    public var ioWorkers: Int
    /// The size of each I/O worker's scratch file.
    public var ioBytes: UInt64

    /// Up to 64 spinners: enough to starve a test far below what host load does (the launcher's
    /// own bound).
    public static let cpuWorkerRange = 0...64
    public static let ioWorkerRange = 0...4
    /// Small enough to fit the default policy's /tmp and memory with the test beside it.
    public static let defaultIOBytes: UInt64 = 8 << 20

    public init(cpuWorkers: Int, ioWorkers: Int, ioBytes: UInt64 = BackgroundNoise.defaultIOBytes) {
        self.cpuWorkers = cpuWorkers
        self.ioWorkers = ioWorkers
        self.ioBytes = ioBytes
    }

    /// `stress: true`: four spinners and one writer, so a CPU-bound test keeps about a sixth of
    /// the attempt's CPU quota.
    public static let standard = BackgroundNoise(cpuWorkers: 4, ioWorkers: 1)

    enum CodingKeys: String, CodingKey {
        case cpuWorkers = "cpu_workers"
        case ioWorkers = "io_workers"
        case ioBytes = "io_bytes"
    }

    /// The launcher's `--noise CPU IO IO_BYTES`.
    var helperArguments: [String] {
        guard cpuWorkers > 0 || ioWorkers > 0 else { return [] }
        return ["--noise", "\(cpuWorkers)", "\(ioWorkers)", "\(ioBytes)"]
    }
}
