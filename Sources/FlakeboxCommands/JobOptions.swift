import ArgumentParser
import FlakeboxCore
import FlakeboxSandbox
import Foundation

/// Every job field as a flag; the job is validated by the same code as the worker's input.
struct JobOptions: ParsableArguments {
    @Option(help: "A job JSON file; flags override its fields.")
    var input: String?

    @Option(help: "Repository: https://…, git@…:…, or (here only) a local path or file:// URL.")
    var repo: String?

    @Option(help: "Branch, tag or commit.")
    var ref: String?

    @Option(help: "Attempts (1-1000).")
    var runs: Int?

    @Option(help: "Attempts at once (1-50).")
    var parallelism: Int?

    @Option(name: .customLong("setup-command"), help: "Prepares the checkout once, with the network.")
    var setupCommand: String?

    @Option(help: "Wall-clock limit of one attempt, seconds.")
    var timeout: Double?

    @Option(help: "Wall-clock limit of the whole job, seconds: no attempt starts after it.")
    var deadline: Double?

    @Option(name: .customLong("env"), help: "NAME=VALUE for every attempt (repeatable).")
    var environment: [String] = []

    @Option(name: .customLong("seed-start"), help: "Seed of the first attempt (attempt i gets seed-start + i).")
    var seedStart: Int?

    @Option(name: .customLong("stop-after-failures"), help: "Start no new attempt after this many failures.")
    var stopAfterFailures: Int?

    @Option(help: "Sandbox policy: a name or a file.")
    var policy: String?

    @Option(name: .customLong("output-limit"), help: "Bytes of output kept per stream per attempt.")
    var outputLimit: Int?

    @Option(
        name: .customLong("junit-xml"),
        help: "JUnit XML path or glob inside the checkout (pytest's is found by itself).")
    var junitXML: String?

    @Option(name: .customLong("summary-budget"), help: "Largest summary, bytes (default 4 MiB).")
    var summaryBudget: Int?

    @Flag(help: "Fetch submodules too.")
    var submodules = false

    @Option(
        help: "Runs of each failing test alone afterwards, to classify it (NOD, OD-victim, OD-brittle); 0: off.")
    var rerun: Int?

    @Option(help: "Run at this isolation tier (minimal, reduced, full) instead of the strongest available.")
    var tier: IsolationTier?

    /// The job, from --input then the flags, validated as a whole.
    func input(testCommand: String?) throws -> JobInput {
        var object: [String: Any] = [:]
        if let input {
            do {
                object = try JSONFieldReader.parseObject(try Data(contentsOf: URL(fileURLWithPath: input)))
            } catch {
                throw ValidationError("--input \(input): \(error)")
            }
        }
        if var repo {
            // A local directory is made absolute here: the job runs elsewhere than the shell's
            // cwd. Anything else goes to validation as it is (and `--upload-pack=…` fails there).
            var isDirectory: ObjCBool = false
            if !repo.hasPrefix("/"), FileManager.default.fileExists(atPath: repo, isDirectory: &isDirectory),
                isDirectory.boolValue
            {
                repo = URL(fileURLWithPath: repo).standardizedFileURL.path
            }
            object["repo"] = repo
        }
        let pairs: [(String, Any?)] = [
            ("test_command", testCommand), ("ref", ref), ("runs", runs), ("parallelism", parallelism),
            ("setup_command", setupCommand), ("timeout_s", timeout), ("deadline_s", deadline),
            ("seed_start", seedStart), ("stop_after_failures", stopAfterFailures), ("policy", policy),
            ("output_limit_bytes", outputLimit), ("junit_xml", junitXML), ("summary_budget_bytes", summaryBudget),
            ("rerun", rerun),
        ]
        for case (let key, let value?) in pairs { object[key] = value }
        if submodules { object["submodules"] = true }
        if !environment.isEmpty {
            var env = object["env"] as? [String: Any] ?? [:]
            for pair in environment {
                guard let eq = pair.firstIndex(of: "=") else {
                    throw ValidationError("--env takes NAME=VALUE, got \(pair)")
                }
                env[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
            }
            object["env"] = env
        }
        do {
            return try JobInput.parse(object, origin: .commandLine)
        } catch {
            throw BadInput(error)
        }
    }
}

/// Bad input: the problems, one per line, and exit code 64.
struct BadInput: Error, CustomStringConvertible {
    var error: JobInputError
    init(_ error: JobInputError) { self.error = error }
    var description: String {
        "invalid job:\n" + error.problems.map { "  - \($0)" }.joined(separator: "\n")
    }
}
