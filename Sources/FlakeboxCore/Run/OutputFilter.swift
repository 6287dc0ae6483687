import FlakeboxSandbox

/// go `stress`'s `-failure`/`-ignore`, applied where an attempt's status is decided for counting
/// (before `stop_after_failures`, the summary and the verdict see it): a failing attempt whose
/// output does not match `failure_pattern`, or matches `ignore_pattern`, counts as passed, its
/// real status kept in `AttemptRecord.filtered`.
struct OutputFilter: Sendable {
    let failurePattern: OutputPattern?
    let ignorePattern: OutputPattern?

    init(input: JobInput) {
        failurePattern = input.failurePattern
        ignorePattern = input.ignorePattern
    }

    func apply(_ record: AttemptRecord) -> AttemptRecord {
        guard record.result.status.isTestFailure else { return record }
        let reason: String
        if let failurePattern, !failurePattern.matches(record.result) {
            reason = "output does not match failure_pattern"
        } else if let ignorePattern, ignorePattern.matches(record.result) {
            reason = "output matches ignore_pattern"
        } else {
            return record
        }
        var record = record
        record.filtered = FilteredFailure(status: record.result.status, reason: reason)
        record.result.status = .passed
        // Its JUnit reports tell of the discounted failure: the per-test counts leave them out,
        // as the attempt counts leave the failure out.
        record.junitReports = []
        return record
    }
}
