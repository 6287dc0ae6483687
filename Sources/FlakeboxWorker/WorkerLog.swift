import FlakeboxJobs
import Foundation
import Synchronization

/// The worker's log, as the SDK writes it (docs/RUNPOD_PROTOCOL.md §15): to stdout, flushed per line;
/// one JSON object `{"requestId", "message", "level"}` per line on RunPod (`RUNPOD_ENDPOINT_ID`
/// set), `LEVEL  | job id | message` otherwise. Messages over 4096 characters are cut in the middle.
public final class WorkerLog: Sendable {
    public enum Level: Int, Sendable, Comparable {
        case trace = 5
        case debug = 10
        case info = 20
        case warn = 30
        case error = 40

        public init?(name: String) {
            switch name.uppercased() {
            case "NOTSET", "TRACE": self = .trace
            case "DEBUG": self = .debug
            case "INFO": self = .info
            case "WARN", "WARNING": self = .warn
            case "ERROR": self = .error
            default: return nil
            }
        }

        var name: String {
            switch self {
            case .trace: "TRACE"
            case .debug: "DEBUG"
            case .info: "INFO"
            case .warn: "WARN"
            case .error: "ERROR"
            }
        }

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public let threshold: Level
    public let json: Bool
    private let sink: @Sendable (String) -> Void
    /// Serialises writers so that lines never interleave.
    private let lock = Mutex(())

    public init(threshold: Level = .info, json: Bool, sink: (@Sendable (String) -> Void)? = nil) {
        self.threshold = threshold
        self.json = json
        self.sink =
            sink ?? { line in
                FileHandle.standardOutput.write(Data(line.utf8))
            }
    }

    public func trace(_ message: @autoclosure () -> String, job: String? = nil) { log(.trace, message(), job) }
    public func debug(_ message: @autoclosure () -> String, job: String? = nil) { log(.debug, message(), job) }
    public func info(_ message: @autoclosure () -> String, job: String? = nil) { log(.info, message(), job) }
    public func warn(_ message: @autoclosure () -> String, job: String? = nil) { log(.warn, message(), job) }
    public func error(_ message: @autoclosure () -> String, job: String? = nil) { log(.error, message(), job) }

    /// - Parameter whole: keep a long message whole (a local run's result), where the SDK would cut it.
    public func log(_ level: Level, _ message: String, _ job: String?, whole: Bool = false) {
        guard level >= threshold else { return }
        let line = format(level, whole ? message : Self.truncated(message), job)
        lock.withLock { _ in sink(line + "\n") }
    }

    func format(_ level: Level, _ message: String, _ job: String?) -> String {
        if json {
            // The SDK's key order: {"requestId", "message", "level"}.
            let request = job.map(JSONText.quoted) ?? "null"
            return #"{"requestId": \#(request), "message": \#(JSONText.quoted(message)), "level": "\#(level.name)"}"#
        }
        let padded = level.name.padding(toLength: 7, withPad: " ", startingAt: 0)
        return job.map { "\(padded)| \($0) | \(message)" } ?? "\(padded)| \(message)"
    }

    static let maxMessageLength = 4096

    static func truncated(_ message: String) -> String {
        guard message.count > maxMessageLength else { return message }
        let half = maxMessageLength / 2
        let cut = message.count - 2 * half
        return String(message.prefix(half)) + "\n...TRUNCATED \(cut) CHARACTERS...\n" + String(message.suffix(half))
    }
}
