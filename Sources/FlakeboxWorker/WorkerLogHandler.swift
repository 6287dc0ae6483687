import Logging

/// swift-log's `LogHandler` over the worker's log: what the libraries (Hummingbird,
/// AsyncHTTPClient, NIO) log goes through `WorkerLog`, so that stdout stays one format (RunPod's
/// JSON lines on the platform) whoever writes. A `job` metadata value becomes the line's job id;
/// other metadata and the logger's label are appended to the message.
public struct WorkerLogHandler: LogHandler {
    public let label: String
    let log: WorkerLog
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level

    public init(label: String, log: WorkerLog) {
        self.label = label
        self.log = log
        logLevel = Self.loggerLevel(log.threshold)
    }

    /// Routes every `Logger` made from now on in this process through `log`. Once per process
    /// (swift-log's rule): the worker command calls it before anything logs.
    public static func bootstrap(_ log: WorkerLog) {
        LoggingSystem.bootstrap { label in WorkerLogHandler(label: label, log: log) }
    }

    /// A library's logger into `log` whether or not the process bootstrapped swift-log, from
    /// warnings up: libraries' info lines (a line per request, per connection) would drown the
    /// worker's.
    static func libraryLogger(_ label: String, log: WorkerLog) -> Logger {
        var logger = Logger(label: label) { WorkerLogHandler(label: $0, log: log) }
        logger.logLevel = max(logger.logLevel, .warning)
        return logger
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        let job = merged.removeValue(forKey: "job").map { "\($0)" }
        var message = "\(event.message)"
        if !merged.isEmpty {
            message += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        // The worker's own lines read as the SDK's; a library's say whose they are.
        if !label.hasPrefix("flakebox") { message = "[\(label)] " + message }
        log.log(Self.workerLevel(event.level), message, job)
    }

    static func workerLevel(_ level: Logger.Level) -> WorkerLog.Level {
        switch level {
        case .trace: .trace
        case .debug: .debug
        case .info, .notice: .info
        case .warning: .warn
        case .error, .critical: .error
        }
    }

    static func loggerLevel(_ level: WorkerLog.Level) -> Logger.Level {
        switch level {
        case .trace: .trace
        case .debug: .debug
        case .info: .info
        case .warn: .warning
        case .error: .error
        }
    }
}
