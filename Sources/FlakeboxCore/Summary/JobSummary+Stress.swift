import FlakeboxSandbox

extension JobSummary {
    /// Stress mode's noise, as every attempt (and every classification run) had it beside the test.
    public struct Stress: Sendable, Equatable, Codable {
        public var cpuWorkers: Int
        public var ioWorkers: Int
        public var ioBytes: UInt64
        /// The attempt's CPU quota the noise shares with the test (cores); nil: none.
        public var cpuLimit: Double?
        public var memoryLimitBytes: UInt64?
        public var sentence: String

        enum CodingKeys: String, CodingKey {
            case sentence
            case cpuWorkers = "cpu_workers"
            case ioWorkers = "io_workers"
            case ioBytes = "io_bytes"
            case cpuLimit = "cpu_limit"
            case memoryLimitBytes = "memory_limit_bytes"
        }

        init(_ noise: BackgroundNoise, cpuLimit: Double?, memoryLimit: UInt64?) {
            cpuWorkers = noise.cpuWorkers
            ioWorkers = noise.ioWorkers
            ioBytes = noise.ioBytes
            self.cpuLimit = cpuLimit
            memoryLimitBytes = memoryLimit
            var parts: [String] = []
            if noise.cpuWorkers > 0 { parts.append(SummaryFormat.count(noise.cpuWorkers, "CPU spinner")) }
            if noise.ioWorkers > 0 {
                parts.append(
                    SummaryFormat.count(noise.ioWorkers, "I/O writer")
                        + " (\(SummaryFormat.bytes(noise.ioBytes)) rewritten with fdatasync in the attempt's /tmp)")
            }
            let limit = cpuLimit.map { "its \(SummaryFormat.rounded($0, places: 2))-CPU quota" } ?? "its cgroup"
            sentence =
                "Stress: every run had " + parts.joined(separator: " and ")
                + " beside the test, inside its sandbox and sharing \(limit)"
                + (memoryLimit.map { " and \(SummaryFormat.bytes($0)) memory limit" } ?? "")
                + "; a test that passes without this and fails with it is timing-sensitive."
        }
    }
}
