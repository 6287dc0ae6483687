import FlakeboxSandbox
import Foundation

/// What flakebox's test-runner plugin says it did in one attempt, read from the JSON it leaves
/// beside the JUnit report (untrusted: every field is checked, lists are capped).
public struct RunnerReport: Sendable, Equatable {
    /// pytest sessions that reported (a command may run pytest more than once).
    public var sessions: Int
    /// Who reseeded the generators before each test: `flakebox`, `pytest-randomly`, or nil.
    public var reseededBy: String?
    /// The generators reseeded (`random`, `numpy`, `faker`, `factory_boy`), sorted.
    public var generators: [String]
    /// Who permuted the order: `flakebox`, `pytest-randomly`, or nil (the runner's own order).
    public var shuffledBy: String?
    /// The test ids in the order they started (the first `maximumOrder`).
    public var order: [String]
    /// How many tests started.
    public var orderTotal: Int
    /// Jest's version, when the report is the Jest preload's note.
    public var jestVersion: String?

    public static let maximumOrder = 1000
    static let knownGenerators: Set<String> = ["random", "numpy", "faker", "factory_boy"]
    static let knownActors: Set<String> = ["flakebox", "pytest-randomly"]

    public init(
        sessions: Int, reseededBy: String?, generators: [String], shuffledBy: String?, order: [String],
        orderTotal: Int, jestVersion: String? = nil
    ) {
        self.sessions = sessions
        self.reseededBy = reseededBy
        self.generators = generators
        self.shuffledBy = shuffledBy
        self.order = order
        self.orderTotal = orderTotal
        self.jestVersion = jestVersion
    }

    /// The artifact it is read from.
    public static func isReport(_ artifact: Artifact) -> Bool {
        artifact.path.hasSuffix("/" + PytestAdapter.reportName)
    }

    /// Parses the plugin's JSON; nil when it is not the plugin's report.
    public static func parse(_ bytes: [UInt8]) -> RunnerReport? {
        guard bytes.count <= 4 << 20,
            let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
            object["plugin"] as? String == PytestPlugin.moduleName,
            let sessions = object["sessions"] as? [[String: Any]], !sessions.isEmpty
        else { return nil }
        var report = RunnerReport(
            sessions: sessions.count, reseededBy: nil, generators: [], shuffledBy: nil, order: [], orderTotal: 0)
        var generators: Set<String> = []
        for session in sessions.prefix(20) {
            if let by = session["reseeded_by"] as? String, knownActors.contains(by) { report.reseededBy = by }
            if let by = session["shuffled_by"] as? String, knownActors.contains(by) { report.shuffledBy = by }
            for case let name as String in session["generators"] as? [Any] ?? [] where knownGenerators.contains(name) {
                generators.insert(name)
            }
            for case let id as String in (session["order"] as? [Any] ?? []).prefix(maximumOrder) {
                guard report.order.count < maximumOrder else { break }
                report.order.append(String(id.prefix(512)))
            }
            if let total = session["order_total"] as? Int, total >= 0 { report.orderTotal += min(total, 1 << 30) }
        }
        report.generators = generators.sorted()
        return report
    }
}

extension AttemptRecord {
    /// The record of a finished attempt, its artifacts sorted: the plugin's report (pytest's, or the
    /// Jest preload's note), Jest's results as JUnit XML, and the rest as JUnit XML.
    public static func collecting(attempt: Int, seed: UInt64, result: AttemptResult) -> AttemptRecord {
        var record = AttemptRecord(attempt: attempt, seed: seed, result: result)
        for artifact in result.artifacts {
            if RunnerReport.isReport(artifact) {
                record.runnerReport = RunnerReport.parse(artifact.bytes)
            } else if artifact.path.hasSuffix("/" + JestAdapter.infoName) {
                record.runnerReport = JestReport.runnerReport(artifact.bytes)
            } else if artifact.path.hasSuffix("/" + JestAdapter.reportName) {
                let root = String(artifact.path.dropLast(JestAdapter.reportName.count + 1))
                if let xml = JestReport.junitXML(artifact.bytes, root: root) { record.junitReports.append(xml) }
            } else {
                record.junitReports.append(artifact.bytes)
            }
        }
        return record
    }
}
