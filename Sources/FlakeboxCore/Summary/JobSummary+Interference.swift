import FlakeboxSandbox

extension JobSummary {
    /// Interference mode's finding: the same seeds run alone (the job's attempts) and several at
    /// once in one shared checkout. A failure that comes only when they share — with the resource
    /// named where the output says it — "collides when run in parallel"; one that comes alone as
    /// often is the test's own.
    public struct Interference: Sendable, Equatable, Codable {
        /// One resource the shared runs' failures named, and how many of them did.
        public struct Resource: Sendable, Equatable, Codable {
            public var kind: String
            public var name: String
            public var error: String
            public var runs: Int
        }

        /// `shared_checkout`: one sandbox, one writable workspace, `/tmp` and network for all.
        public var mode: String
        public var copiesAtOnce: Int
        /// Shared runs with a test outcome (passed or failed).
        public var runs: Int
        public var failures: Int
        /// The same seeds alone: runs with a test outcome and failures among them.
        public var isolatedRuns: Int
        public var isolatedFailures: Int
        /// Seeds that failed shared and passed alone.
        public var sharedOnlyFailures: Int
        /// Seeds that failed alone and passed shared.
        public var isolatedOnlyFailures: Int
        /// The verdict: the failures come from sharing.
        public var collides: Bool
        /// Named by the shared-only failures and by no failure alone, most runs first.
        public var resources: [Resource]
        /// Tests (from the reports) that failed shared and never alone.
        public var tests: [String]
        public var sandboxErrors: Int
        /// The first shared run's harness failure, when there was one (stage and errno).
        public var sandboxError: String?
        public var incompleteReason: String?
        public var sentence: String

        enum CodingKeys: String, CodingKey {
            case mode, runs, failures, collides, resources, tests, sentence
            case copiesAtOnce = "copies_at_once"
            case isolatedRuns = "isolated_runs"
            case isolatedFailures = "isolated_failures"
            case sharedOnlyFailures = "shared_only_failures"
            case isolatedOnlyFailures = "isolated_only_failures"
            case sandboxErrors = "sandbox_errors"
            case sandboxError = "sandbox_error"
            case incompleteReason = "incomplete_reason"
        }

        /// Evidence enough without a named resource: one-sided Fisher p below this.
        static let significance = 0.01
        static let maximumTests = 20

        init(isolated: [AttemptRecord], shared: SharedRuns) {
            func outcome(_ record: AttemptRecord) -> Bool? {
                record.result.status == .passed ? false : record.result.status.isTestFailure ? true : nil
            }
            var alone: [UInt64: Bool] = [:]
            for record in isolated { if let failed = outcome(record) { alone[record.seed] = failed } }
            let compared = shared.records.filter { outcome($0) != nil && alone[$0.seed] != nil }
            mode = "shared_checkout"
            copiesAtOnce = shared.copiesAtOnce
            runs = compared.count
            failures = compared.filter { outcome($0) == true }.count
            let seeds = Set(compared.map(\.seed))
            isolatedRuns = seeds.count
            isolatedFailures = seeds.filter { alone[$0] == true }.count
            let sharedOnly = compared.filter { outcome($0) == true && alone[$0.seed] == false }
            sharedOnlyFailures = sharedOnly.count
            isolatedOnlyFailures = compared.filter { outcome($0) == false && alone[$0.seed] == true }.count
            sandboxErrors = shared.records.filter { $0.result.status == .sandboxError }.count
            sandboxError = shared.records.first { $0.result.status == .sandboxError }.map {
                SummaryContext.sandboxError(for: $0.result).message
            }
            incompleteReason = shared.stopReason

            // What a failure alone names is the test's own doing, not the sharing's.
            let aloneNames = Set(
                isolated.filter { outcome($0) == true }.flatMap { SharedResource.find(in: Self.text(of: $0)) })
            var counts: [SharedResource: Int] = [:]
            var order: [SharedResource] = []
            for record in sharedOnly {
                for resource in SharedResource.find(in: Self.text(of: record)) where !aloneNames.contains(resource) {
                    if counts[resource] == nil { order.append(resource) }
                    counts[resource, default: 0] += 1
                }
            }
            resources = order.sorted { counts[$0]! > counts[$1]! }.map {
                Resource(kind: $0.kind.rawValue, name: $0.name, error: $0.error, runs: counts[$0]!)
            }
            tests = Self.sharedOnlyTests(isolated: isolated, shared: shared.records)

            let p = SummaryStatistics.fisherOneSided(
                failuresA: sharedOnlyFailures, runsA: runs, failuresB: isolatedOnlyFailures, runsB: runs)
            collides =
                (sharedOnlyFailures > 0 && !resources.isEmpty)
                || (sharedOnlyFailures >= 2 && p < Self.significance)
            sentence = ""
            sentence = Self.sentence(self, named: order.sorted { counts[$0]! > counts[$1]! })
        }

        private static func text(of record: AttemptRecord) -> String {
            record.result.stdout.text + "\n" + record.result.stderr.text
        }

        /// Tests a report shows failing in a shared run and in no run alone.
        private static func sharedOnlyTests(isolated: [AttemptRecord], shared: [AttemptRecord]) -> [String] {
            func failing(_ records: [AttemptRecord]) -> Set<String> {
                var tests = TestResultAggregator()
                for record in records.sorted(by: { $0.attempt < $1.attempt }) {
                    tests.add(
                        attempt: record.attempt, reports: record.junitReports.compactMap { JUnitReport.parse($0) })
                }
                return Set(tests.stats.filter { $0.value.failures > 0 }.keys)
            }
            return Array(failing(shared).subtracting(failing(isolated))).sorted().prefix(maximumTests).map { $0 }
        }

        private static func sentence(_ i: Interference, named: [SharedResource]) -> String {
            let setting =
                "\(SummaryFormat.count(i.runs, "run")) of the same seeds, \(i.copiesAtOnce) at once in one shared checkout"
            guard i.runs > 0 else {
                return "Interference was not measured: no shared run had a test outcome"
                    + ((i.sandboxError ?? i.incompleteReason).map { " (\($0))" } ?? "") + "."
            }
            if i.collides {
                var text =
                    "Collides when run in parallel: \(i.sharedOnlyFailures) of \(setting) failed where the same seed passed alone"
                if !named.isEmpty {
                    text += ", on " + named.prefix(3).map(\.description).joined(separator: ", ")
                }
                text += ". Give each run its own port (bind port 0), file and temporary directory"
                text +=
                    i.isolatedFailures > 0 ? "; it also fails alone (\(i.isolatedFailures) of \(i.isolatedRuns))." : "."
                return text
            }
            if i.failures == 0 {
                return "No collision seen: \(setting) all passed."
            }
            if i.sharedOnlyFailures == 0 || i.isolatedFailures > 0 {
                return
                    "Not a collision: \(setting) failed \(i.failures) times, the same seeds alone \(i.isolatedFailures) of \(i.isolatedRuns): "
                    + "the failure is the test's own."
            }
            return
                "Inconclusive: \(i.sharedOnlyFailures) of \(setting) failed where the same seed passed alone, naming no shared "
                + "resource; too few to tell sharing from chance (run more)."
        }
    }
}
