import FlakeboxSandbox
import Foundation

/// Every problem found in a job's input, each naming its field.
public struct JobInputError: Error, Sendable, CustomStringConvertible {
    public var problems: [FieldProblem]

    public init(problems: [FieldProblem]) {
        self.problems = problems
    }

    public var description: String {
        "invalid job input: " + problems.map(\.description).joined(separator: "; ")
    }
}

extension JobInput {
    public static let fieldNames =
        [
            "repo", "test_command", "runs", "parallelism", "ref", "setup_command", "timeout_s", "deadline_s", "env",
            "seed_start", "stop_after_failures", "policy", "output_limit_bytes", "junit_xml", "summary_budget_bytes",
            "submodules", "rerun",
        ] + flakeFieldNames + outputFilterFieldNames + modeFieldNames

    /// Variables flakebox sets itself; a job may not override them.
    public static let reservedVariables: Set<String> = [
        "TEST_SEED", "ATTEMPT", "PYTEST_FLAKEBOX_RESEED", "PYTEST_FLAKEBOX_SHUFFLE", "PYTEST_FLAKEBOX_REPORT",
        "JEST_FLAKEBOX_SEED", "JEST_FLAKEBOX_SHUFFLE", "JEST_FLAKEBOX_REPORT", "JEST_FLAKEBOX_INFO",
    ]

    /// Parses and validates a job from JSON text, collecting every problem.
    public static func parse(json data: Data, origin: Origin) throws(JobInputError) -> JobInput {
        let object: [String: Any]
        do {
            object = try JSONFieldReader.parseObject(data)
        } catch {
            throw JobInputError(problems: [error])
        }
        return try parse(object, origin: origin)
    }

    /// Validates a job given as a JSON object (`input` of a RunPod job), collecting every problem.
    public static func parse(_ object: [String: Any], origin: Origin) throws(JobInputError) -> JobInput {
        var r = JSONFieldReader(object)
        let repo = r.string("repo")
        let testCommand = r.string("test_command")
        if !r.has("repo") { r.fail("repo", "required: an https:// or git@ URL of the repository") }
        if !r.has("test_command") { r.fail("test_command", "required: the command that runs the tests") }
        var input = JobInput(repo: repo ?? "", testCommand: testCommand ?? "")
        if let repo {
            do {
                input.repo = try RepositoryURL.validate(repo, allowLocal: origin == .commandLine)
            } catch {
                r.fail("repo", error.message)
            }
        }
        if let testCommand { check(command: testCommand, field: "test_command", in: &r) }
        input.runs = r.integer("runs", in: 1...1000).map(Int.init) ?? input.runs
        input.parallelism = r.integer("parallelism", in: 1...50).map(Int.init) ?? input.parallelism
        if let ref = r.string("ref") {
            do {
                _ = try GitRef.parse(ref)
                input.ref = ref
            } catch {
                r.fail("ref", error.message)
            }
        }
        if let setup = r.string("setup_command") {
            check(command: setup, field: "setup_command", in: &r)
            input.setupCommand = setup
        }
        input.timeoutSeconds = r.double("timeout_s", in: 0.1...86_400)
        input.deadlineSeconds = r.double("deadline_s", in: 1...7 * 86_400)
        if let env = r.stringMap("env") {
            for (name, value) in env.sorted(by: { $0.key < $1.key }) {
                if !Policy.isValidVariableName(name) {
                    r.fail(
                        "env.\(name)", "not a valid variable name (letters, digits and _, not starting with a digit)")
                } else if reservedVariables.contains(name) || name.hasPrefix("RUNPOD_") || name.hasPrefix("FLAKEBOX_") {
                    r.fail("env.\(name)", "reserved: flakebox sets it")
                } else if value.utf8.contains(0) || value.utf8.count > 32_768 {
                    r.fail("env.\(name)", "values may not contain NUL or exceed 32 KiB")
                }
            }
            input.environment = env
        }
        if let seed = r.integer("seed_start", in: 0...(Int64(1) << 53)) { input.seedStart = UInt64(seed) }
        input.stopAfterFailures = r.integer("stop_after_failures", in: 1...1000).map(Int.init)
        if let policy = r.string("policy") {
            let isName =
                !policy.isEmpty && policy.count <= 64
                && policy.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
            if isName || (origin == .commandLine && !policy.isEmpty) {
                input.policy = policy
            } else {
                r.fail(
                    "policy", "a policy name (letters, digits, - and _); paths are accepted from the command line only")
            }
        }
        input.outputLimitBytes = r.byteSize("output_limit_bytes", in: 1024...(64 << 20)).map(Int.init)
        if let junit = r.string("junit_xml") {
            if let problem = junitProblem(junit) { r.fail("junit_xml", problem) } else { input.junitXML = junit }
        }
        if let budget = r.byteSize("summary_budget_bytes", in: (64 << 10)...(64 << 20)) {
            input.summaryBudgetBytes = Int(budget)
        }
        input.submodules = r.bool("submodules") ?? false
        input.rerun = r.integer("rerun", in: 0...50).map(Int.init) ?? input.rerun
        parseFlakeFields(&r, into: &input)
        parseOutputFilterFields(&r, into: &input)
        parseModeFields(&r, into: &input)
        if let stop = input.stopAfterFailures, stop > input.runs {
            r.fail("stop_after_failures", "\(stop) is more than runs (\(input.runs))")
        }
        // Every result entry is kept whatever the budget: about 300 bytes each, plus the rest.
        let smallest = 16_384 + 300 * input.runs
        if r.has("summary_budget_bytes"), input.summaryBudgetBytes < smallest {
            r.fail(
                "summary_budget_bytes",
                "\(input.summaryBudgetBytes) is too small for \(input.runs) runs (at least \(smallest))")
        }
        if input.parallelism > input.runs, r.has("parallelism") {
            input.parallelism = input.runs  // more slots than runs would idle; not an error
        }
        r.rejectUnknownKeys(known: fieldNames)
        guard r.problems.isEmpty else { throw JobInputError(problems: r.problems) }
        return input
    }

    private static func check(command: String, field: String, in reader: inout JSONFieldReader) {
        if command.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            reader.fail(field, "must not be empty")
        } else if command.utf8.contains(0) {
            reader.fail(field, "must not contain NUL")
        } else if command.utf8.count > 65_536 {
            reader.fail(field, "longer than 64 KiB")
        }
    }

    /// A path inside the checkout: relative, no `..`, wildcards in the last component only.
    static func junitProblem(_ path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        if path.isEmpty || path.hasPrefix("/") { return "a path relative to the checkout, e.g. reports/junit.xml" }
        if parts.contains("..") || parts.contains("") { return "no '..' or empty components" }
        if path.contains("\n") || path.contains("\0") { return "no newline or NUL" }
        if parts.dropLast().contains(where: { $0.contains(where: { "*?[".contains($0) }) }) {
            return "wildcards only in the file name, e.g. reports/*.xml"
        }
        return nil
    }
}
