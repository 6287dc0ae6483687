import Logging

/// The service's log: swift-log lines on stderr (stdout carries only the `listening` line).
public enum ServiceLog {
    public static func bootstrap(level: Logger.Level = .info) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
