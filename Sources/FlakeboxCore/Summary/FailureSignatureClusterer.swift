import FlakeboxSandbox

/// Groups failing attempts by how they failed: each attempt's signature is a status line plus the
/// last meaningful lines of its output, normalized (`OutputNormalizer`); attempts with equal
/// signatures form a group, and groups whose line sets are near-identical are merged.
///
/// Deterministic: groups are visited largest first (then by first attempt), each joins the
/// most similar earlier cluster with the same status line when the Jaccard similarity of their
/// line sets is at least `similarityThreshold` (the earliest on a tie), and the number of
/// comparisons is capped (`maximumComparisons`, after which groups only match exactly).
enum FailureSignatureClusterer {
    /// Output lines a signature keeps (the last ones; tracebacks end there).
    static let maximumLines = 40
    /// A signature's text is cut (from its start, keeping the status line) to this.
    static let maximumSignatureBytes = 2048
    static let similarityThreshold = 0.9
    static let maximumComparisons = 200_000

    struct Cluster: Sendable, Equatable {
        /// The status line, then the output lines, of the cluster's first (largest) group.
        var lines: [String]
        /// Sorted.
        var attempts: [Int]
        var statuses: [AttemptStatus: Int]

        var count: Int { attempts.count }
        var exampleAttempt: Int { attempts[0] }

        /// The status line and as many of the last lines as fit in `maximumBytes`.
        func text(maximumBytes: Int) -> String {
            FailureSignatureClusterer.text(lines: lines, maximumBytes: maximumBytes)
        }
    }

    /// The status line that starts every signature: a timeout or a kill usually leaves no error
    /// in the output, so the signature says what happened.
    static func statusLine(for result: AttemptResult) -> String {
        switch result.status {
        case .failed: result.exitCode.map { "[failed] exit code \($0)" } ?? "[failed]"
        case .signaled: result.signal.map { "[signaled] killed by \(SignalName.describe($0))" } ?? "[signaled]"
        case .timeout: "[timeout] still running at the wall-clock limit: killed"
        case .oom: "[oom] killed by the out-of-memory killer"
        case .outputLimit: "[output_limit] wrote more than the output limit: killed"
        case .passed, .sandboxError, .cancelled: "[\(result.status.rawValue)]"
        }
    }

    /// The status line and the last `maximumLines` meaningful lines: stderr's, then stdout's,
    /// each getting at least half when both have some.
    static func lines(for result: AttemptResult) -> [String] {
        let errorLines = OutputNormalizer.meaningfulLines(of: result.stderr, maxLines: maximumLines)
        let outputLines = OutputNormalizer.meaningfulLines(of: result.stdout, maxLines: maximumLines)
        let fromError = min(errorLines.count, max(maximumLines / 2, maximumLines - outputLines.count))
        let fromOutput = min(outputLines.count, maximumLines - fromError)
        var seen: Set<String> = []
        var lines = [statusLine(for: result)]
        for line in errorLines.suffix(fromError) + outputLines.suffix(fromOutput) where seen.insert(line).inserted {
            lines.append(line)
        }
        if lines.count == 1 { lines.append("(no output)") }
        return lines
    }

    /// The status line and one line per failing test's cause (`FailureCause`), when the attempt's
    /// JUnit reports name any: the cause, not the output around it, decides the signature.
    static func causeLines(for record: AttemptRecord) -> [String]? {
        let causes = FailureCause.lines(record.junitReports.compactMap { JUnitReport.parse($0) })
        return causes.isEmpty ? nil : [statusLine(for: record.result)] + causes.prefix(maximumLines)
    }

    /// Clusters `records` (the failing ones), largest cluster first, then by first attempt.
    static func cluster(_ records: [AttemptRecord]) -> [Cluster] {
        cluster(
            signed: records.map { record in
                (record.attempt, causeLines(for: record) ?? lines(for: record.result), record.result.status)
            })
    }

    /// Clusters failing attempts given each one's signature lines (`JobSummary.Shard` keeps them,
    /// so shards of a job cluster as the whole job would).
    static func cluster(signed: [(attempt: Int, lines: [String], status: AttemptStatus)]) -> [Cluster] {
        // Exact groups, in order of first appearance.
        var groupIndex: [[String]: Int] = [:]
        var groups: [Cluster] = []
        for (attempt, lines, status) in signed.sorted(by: { $0.attempt < $1.attempt }) {
            if let index = groupIndex[lines] {
                groups[index].attempts.append(attempt)
                groups[index].statuses[status, default: 0] += 1
            } else {
                groupIndex[lines] = groups.count
                groups.append(Cluster(lines: lines, attempts: [attempt], statuses: [status: 1]))
            }
        }
        groups.sort { ($0.count, -$0.exampleAttempt) > ($1.count, -$1.exampleAttempt) }

        var clusters: [Cluster] = []
        var clusterSets: [Set<String>] = []
        var comparisons = 0
        for group in groups {
            let set = Set(group.lines)
            var best: (index: Int, similarity: Double)?
            for (index, candidate) in clusterSets.enumerated() where comparisons < maximumComparisons {
                guard clusters[index].lines[0] == group.lines[0] else { continue }
                let smaller = Double(min(set.count, candidate.count))
                let larger = Double(max(set.count, candidate.count))
                // |A ∩ B| / |A ∪ B| ≤ min / max: skip sets whose sizes alone rule a merge out.
                guard smaller / larger >= similarityThreshold else { continue }
                comparisons += 1
                let shared = Double(set.intersection(candidate).count)
                let similarity = shared / (Double(set.count + candidate.count) - shared)
                if similarity >= similarityThreshold, similarity > (best?.similarity ?? 0) {
                    best = (index, similarity)
                }
            }
            if let best {
                clusters[best.index].attempts.append(contentsOf: group.attempts)
                clusters[best.index].attempts.sort()
                for (status, count) in group.statuses { clusters[best.index].statuses[status, default: 0] += count }
            } else {
                clusters.append(group)
                clusterSets.append(set)
            }
        }
        return clusters.sorted { ($0.count, -$0.exampleAttempt) > ($1.count, -$1.exampleAttempt) }
    }

    /// `lines[0]` and as many of the last other lines as fit in `maximumBytes` (joined by `\n`).
    static func text(lines: [String], maximumBytes: Int) -> String {
        guard let first = lines.first else { return "" }
        var used = first.utf8.count
        var kept: [String] = []
        for line in lines.dropFirst().reversed() {
            guard used + 1 + line.utf8.count <= maximumBytes else { break }
            used += 1 + line.utf8.count
            kept.append(line)
        }
        return ([first] + kept.reversed()).joined(separator: "\n")
    }
}
