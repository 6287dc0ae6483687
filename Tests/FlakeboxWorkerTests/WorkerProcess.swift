import FlakeboxTestSupport

/// The worker tests' name for the built binary as a child process.
typealias WorkerProcess = FlakeboxProcess
