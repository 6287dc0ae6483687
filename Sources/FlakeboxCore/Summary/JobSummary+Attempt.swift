import FlakeboxSandbox

extension JobSummary {
    /// One attempt, as the `results` array lists it.
    public struct Attempt: Sendable, Equatable, Codable {
        /// Where and why the harness failed (`sandbox_error` attempts only).
        public struct SandboxError: Sendable, Equatable, Codable {
            public var stage: String
            public var errno: Int32
            public var message: String
        }

        public var attempt: Int
        public var seed: UInt64
        /// See `JobSummary.Attempt.exitCode(for:)`.
        public var exitCode: Int32?
        public var status: AttemptStatus
        public var durationSeconds: Double
        /// The kept output (lossily decoded), with a marker where bytes were left out.
        public var stdout: String
        public var stderr: String
        /// Bytes the stream wrote that `stdout` does not show.
        public var stdoutDroppedBytes: UInt64
        public var stderrDroppedBytes: UInt64
        public var cpuSeconds: Double?
        public var peakMemoryBytes: UInt64?
        /// The signal that ended it, when one did (written only then).
        public var signal: Int32?
        /// Written only for `sandbox_error`.
        public var sandboxError: SandboxError?
        /// Tests its JUnit reports say failed or errored; written only when it left a report.
        public var failedTests: [String]?
        /// The tests in the order they started, when the order was shuffled (capped);
        /// `orderTotal` counts them all.
        public var order: [String]? = nil
        public var orderTotal: Int? = nil
        /// Set when `failure_pattern`/`ignore_pattern` discounted this attempt's failure: `status`
        /// is then `passed`, and this says how it really ended and why it does not count.
        public var filtered: FilteredFailure? = nil

        enum CodingKeys: String, CodingKey {
            case attempt
            case seed
            case exitCode = "exit_code"
            case status
            case durationSeconds = "duration_s"
            case stdout
            case stderr
            case stdoutDroppedBytes = "stdout_dropped_bytes"
            case stderrDroppedBytes = "stderr_dropped_bytes"
            case cpuSeconds = "cpu_s"
            case peakMemoryBytes = "peak_memory_bytes"
            case signal
            case sandboxError = "sandbox_error"
            case failedTests = "failed_tests"
            case order
            case orderTotal = "order_total"
            case filtered
        }

        /// The RunPod summary's `exit_code`, as Python's `subprocess` reported it: the exit code
        /// when the command exited; the negative signal number when a signal killed it; -9
        /// (SIGKILL) for a `timeout`, `oom`, `output_limit` or `signaled` attempt with neither
        /// recorded (the harness killed it); nil for `sandbox_error` and `cancelled` (the test
        /// did not end on its own) and for a `passed`/`failed` attempt with neither.
        public static func exitCode(for result: AttemptResult) -> Int32? {
            switch result.status {
            case .sandboxError, .cancelled:
                return nil
            case .passed, .failed, .signaled, .timeout, .oom, .outputLimit:
                if let code = result.exitCode { return code }
                if let signal = result.signal { return -signal }
                return result.status == .passed || result.status == .failed ? nil : -9
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(seed, forKey: .seed)
            try container.encode(exitCode, forKey: .exitCode)
            try container.encode(status, forKey: .status)
            try container.encode(durationSeconds, forKey: .durationSeconds)
            try container.encode(stdout, forKey: .stdout)
            try container.encode(stderr, forKey: .stderr)
            try container.encode(stdoutDroppedBytes, forKey: .stdoutDroppedBytes)
            try container.encode(stderrDroppedBytes, forKey: .stderrDroppedBytes)
            try container.encode(cpuSeconds, forKey: .cpuSeconds)
            try container.encode(peakMemoryBytes, forKey: .peakMemoryBytes)
            try container.encodeIfPresent(signal, forKey: .signal)
            try container.encodeIfPresent(sandboxError, forKey: .sandboxError)
            try container.encodeIfPresent(failedTests, forKey: .failedTests)
            try container.encodeIfPresent(order, forKey: .order)
            try container.encodeIfPresent(orderTotal, forKey: .orderTotal)
            try container.encodeIfPresent(filtered, forKey: .filtered)
        }
    }
}
