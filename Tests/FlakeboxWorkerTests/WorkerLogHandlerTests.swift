import Foundation
import Logging
import Synchronization
import Testing

@testable import FlakeboxWorker

/// swift-log into the worker's log: a library's line comes out as the worker's own.
@Suite("worker log handler (unit)")
struct WorkerLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test("a Logger's line is one of RunPod's JSON lines: job metadata as requestId, label and metadata in the message")
    func jsonLines() throws {
        let sink = Lines()
        let log = WorkerLog(threshold: .info, json: true, sink: { sink.append($0) })
        var logger = Logger(label: "async-http-client") { WorkerLogHandler(label: $0, log: log) }
        logger[metadataKey: "connection"] = "7"
        logger.warning("pool closed", metadata: ["job": "job-1"])
        logger.debug("below the threshold")
        Logger(label: "flakebox.worker") { WorkerLogHandler(label: $0, log: log) }.critical("own line")

        let lines = sink.all
        #expect(lines.count == 2, "\(lines)")
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(Set(first.keys) == ["requestId", "message", "level"])
        #expect(first["requestId"] as? String == "job-1")
        #expect(first["level"] as? String == "WARN")
        #expect(first["message"] as? String == "[async-http-client] pool closed connection=7")
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["message"] as? String == "own line" && second["level"] as? String == "ERROR")
        #expect(second["requestId"] is NSNull)
    }

    @Test("the logger's level follows the worker's threshold; library loggers start at warning")
    func levels() {
        let log = WorkerLog(threshold: .debug, json: false, sink: { _ in })
        #expect(WorkerLogHandler(label: "x", log: log).logLevel == .debug)
        #expect(WorkerLogHandler.libraryLogger("hummingbird", log: log).logLevel == .warning)
        let quiet = WorkerLog(threshold: .error, json: false, sink: { _ in })
        #expect(WorkerLogHandler.libraryLogger("hummingbird", log: quiet).logLevel == .error)
    }
}
