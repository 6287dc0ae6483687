import FlakeboxSandbox

/// Keeps a 1000-attempt job's memory bounded: every finished attempt is cut, as it arrives, to
/// what the summary could ever show of it (the whole summary has a byte budget), failing attempts
/// keeping more than passing ones.
struct RecordBudget: Sendable {
    let passingBytes: Int
    let failingBytes: Int

    init(input: JobInput) {
        let perAttempt = max(input.summaryBudgetBytes / max(input.runs, 1), 1024)
        passingBytes = min(perAttempt, 16 << 10)
        failingBytes = min(perAttempt * 4, 256 << 10)
    }

    func trim(_ record: AttemptRecord) -> AttemptRecord {
        var record = record
        // A filtered failure keeps a failure's share: its output is why it was discounted.
        let keep = record.result.status == .passed && record.filtered == nil ? passingBytes : failingBytes
        record.result.stdout = Self.cut(record.result.stdout, to: keep / 2)
        record.result.stderr = Self.cut(record.result.stderr, to: keep / 2)
        record.result.artifacts = []
        // JUnit XML is kept for the summarizer's parse, up to 1 MiB an attempt (a thousand attempts
        // of a large suite would otherwise hold gigabytes).
        var kept = 0
        record.junitReports = record.junitReports.filter { report in
            kept += report.count
            return kept <= 1 << 20
        }
        return record
    }

    /// Keeps the first and last `bytes / 2` of a capture; the dropped count stays exact.
    static func cut(_ output: CapturedOutput, to bytes: Int) -> CapturedOutput {
        let kept = output.head + output.tail
        guard kept.count > bytes else { return output }
        let half = bytes / 2
        return CapturedOutput(
            head: Array(kept.prefix(half)), tail: Array(kept.suffix(bytes - half)), totalBytes: output.totalBytes)
    }
}
