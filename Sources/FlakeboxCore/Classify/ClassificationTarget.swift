import FlakeboxSandbox

/// A test the classification phase looks at, with the attempts that show it failing and passing.
struct ClassificationTarget: Sendable, Equatable {
    /// One attempt's view of the test: the tests that ran before it (in order) and the seed.
    struct Example: Sendable, Equatable {
        var before: [String]
        var seed: UInt64
        var attempt: Int
    }

    var id: String
    /// The first attempt it failed in.
    var failing: Example
    /// The first attempt it passed in; nil for a test that always failed.
    var passing: Example?
    var failures: Int

    /// Every failing test of `records` (by their JUnit reports), flaky ones first and most failures
    /// first, and how many the bounds leave out.
    static func targets(
        in records: [AttemptRecord], flakyLimit: Int, alwaysFailingLimit: Int
    ) -> (targets: [ClassificationTarget], skipped: Int) {
        var failing: [String: Example] = [:]
        var passing: [String: Example] = [:]
        var failures: [String: Int] = [:]
        let statuses: Set<AttemptStatus> = [.passed, .failed, .signaled, .timeout, .oom, .outputLimit]
        for record in records.sorted(by: { $0.attempt < $1.attempt }) where statuses.contains(record.result.status) {
            var order: [String] = []
            var seen: Set<String> = []
            for report in record.junitReports.compactMap({ JUnitReport.parse($0) }) {
                for testCase in report.testCases {
                    let before = order
                    if seen.insert(testCase.id).inserted { order.append(testCase.id) }
                    let example = Example(
                        before: Array(before.prefix { $0 != testCase.id }), seed: record.seed, attempt: record.attempt)
                    switch testCase.outcome {
                    case .failed, .errored:
                        failures[testCase.id, default: 0] += 1
                        if failing[testCase.id] == nil { failing[testCase.id] = example }
                    case .passed:
                        if passing[testCase.id] == nil { passing[testCase.id] = example }
                    case .skipped:
                        break
                    }
                }
            }
        }
        let all = failing.map { id, example in
            ClassificationTarget(id: id, failing: example, passing: passing[id], failures: failures[id] ?? 0)
        }
        let byFailures: (ClassificationTarget, ClassificationTarget) -> Bool = {
            ($0.failures, $1.id) > ($1.failures, $0.id)
        }
        let flaky = all.filter { $0.passing != nil }.sorted(by: byFailures)
        let always = all.filter { $0.passing == nil }.sorted(by: byFailures)
        let chosen = Array(flaky.prefix(flakyLimit)) + Array(always.prefix(alwaysFailingLimit))
        return (chosen, all.count - chosen.count)
    }
}
