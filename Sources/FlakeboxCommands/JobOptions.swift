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

    @Option(help: "Attempts (1-1000; default 10, or 1000 with --until-failure).")
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

    @Flag(
        name: .customLong("until-failure"),
        help: "Start attempts until the first failure, up to --runs (whose default is then the maximum, 1000).")
    var untilFailure = false

    @Option(help: "Start no attempt after this long (e.g. 90s, 10m, 1h30m): the job's deadline_s.")
    var duration: DurationArgument?

    @Option(
        name: .customLong("failure-pattern"),
        help: "A failed run counts as a failure only when its output matches this regular expression.")
    var failurePattern: String?

    @Option(
        name: .customLong("ignore-pattern"),
        help: "A failed run whose output matches this regular expression does not count as a failure.")
    var ignorePattern: String?

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

    @Flag(
        name: .customLong("committed-only"),
        help: "For a local repository: test HEAD only, without the working tree's uncommitted and untracked changes.")
    var committedOnly = false

    @Flag(
        name: .customLong("no-cache"),
        help: "Clone and set up again even when a checkout of this commit and setup is cached, and keep none.")
    var noCache = false

    @Flag(name: .customLong("no-reseed"), help: "Do not reseed the test runner's random generators before each test.")
    var noReseed = false

    @Flag(help: "Run the tests in an order shuffled by the seed.")
    var shuffle = false

    @Flag(
        help:
            "Interference mode: run the same seeds again several at once in one shared checkout, to tell collisions (ports, files, /tmp) from the test's own flakiness."
    )
    var interference = false

    @Flag(help: "Stress mode: CPU and I/O noise beside the test inside each attempt's limits (4 CPU, 1 I/O worker).")
    var stress = false

    @Option(name: .customLong("stress-cpu"), help: "Stress mode with this many CPU workers (0-64).")
    var stressCPU: Int?

    @Option(name: .customLong("stress-io"), help: "Stress mode with this many I/O workers (0-4).")
    var stressIO: Int?

    @Option(name: .customLong("package"), help: "A pip requirement installed on top of requirements.txt (repeatable).")
    var packages: [String] = []

    @Option(help: "Memory limit of an attempt (e.g. 3GiB), within the policy's maxMemory.")
    var memory: String?

    @Option(
        help: "Runs of each failing test alone afterwards, to classify it (NOD, OD-victim, OD-brittle); 0: off.")
    var rerun: Int?

    @Option(help: "Run at this isolation tier (minimal, reduced, full) instead of the strongest available.")
    var tier: IsolationTier?

    /// The job, from --input then the flags, validated as a whole.
    func input(testCommand: String?) throws -> JobInput {
        let object = try object(testCommand: testCommand)
        do {
            return try JobInput.parse(object, origin: .commandLine)
        } catch {
            throw BadInput(error)
        }
    }

    /// The job's fields as JSON values, from --input then the flags, not yet validated (what a
    /// fan-out sends each shard, with its own seed range).
    func object(testCommand: String?) throws -> [String: Any] {
        var object: [String: Any] = [:]
        if let input {
            do {
                object = try JSONFieldReader.parseObject(try Data(contentsOf: URL(fileURLWithPath: input)))
            } catch {
                throw ValidationError("--input \(input): \(error)")
            }
        }
        if let repo {
            object["repo"] = try Self.localRepositoryRoot(repo) ?? repo
        } else if object["repo"] == nil {
            // No repository named: the one the shell is in, as git itself would find it.
            let cwd = FileManager.default.currentDirectoryPath
            guard let root = LocalRepository.topLevel(containing: cwd) else {
                throw ValidationError("no --repo given, and \(cwd) is not inside a git repository")
            }
            if root != cwd {
                FileHandle.standardError.write(
                    Data("flakebox: testing the repository at \(root) (the command runs at its top level)\n".utf8))
            }
            object["repo"] = root
        }
        let pairs: [(String, Any?)] = [
            ("test_command", testCommand), ("ref", ref), ("runs", runs), ("parallelism", parallelism),
            ("setup_command", setupCommand), ("timeout_s", timeout), ("deadline_s", deadline),
            ("seed_start", seedStart), ("stop_after_failures", stopAfterFailures), ("policy", policy),
            ("output_limit_bytes", outputLimit), ("junit_xml", junitXML), ("summary_budget_bytes", summaryBudget),
            ("rerun", rerun), ("failure_pattern", failurePattern), ("ignore_pattern", ignorePattern),
        ]
        for case (let key, let value?) in pairs { object[key] = value }
        try applyStopping(to: &object)
        if submodules { object["submodules"] = true }
        if noReseed { object["reseed"] = false }
        if shuffle { object["shuffle"] = true }
        if interference { object["interference"] = true }
        if stressCPU != nil || stressIO != nil {
            var noise = object["stress"] as? [String: Any] ?? [:]
            if let stressCPU { noise["cpu"] = stressCPU }
            if let stressIO { noise["io"] = stressIO }
            object["stress"] = noise
        } else if stress {
            object["stress"] = true
        }
        if !packages.isEmpty { object["packages"] = (object["packages"] as? [Any] ?? []) + packages }
        if let memory { object["memory"] = memory }
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
        return object
    }
}

extension JobOptions {
    /// `--until-failure` and `--duration`, as go's `stress` has them, in the job's own fields.
    func applyStopping(to object: inout [String: Any]) throws {
        if let duration {
            guard deadline == nil else { throw ValidationError("--duration and --deadline say the same: give one") }
            object["deadline_s"] = duration.seconds
        }
        guard untilFailure else { return }
        guard stopAfterFailures == nil else {
            throw ValidationError("--until-failure is --stop-after-failures 1: give one")
        }
        object["stop_after_failures"] = 1
        if object["runs"] == nil { object["runs"] = 1000 }
    }

    /// For a local directory: its repository's top level, absolute (the job runs elsewhere than
    /// the shell's cwd). nil for anything else, which goes to validation as it is (and
    /// `--upload-pack=…` fails there).
    /// - Throws: `ValidationError` for a directory that is in no git repository.
    static func localRepositoryRoot(_ repo: String) throws -> String? {
        var isDirectory: ObjCBool = false
        guard !repo.hasPrefix("-"), !repo.contains("://"),
            FileManager.default.fileExists(atPath: repo, isDirectory: &isDirectory), isDirectory.boolValue
        else { return nil }
        let absolute = URL(fileURLWithPath: repo).standardizedFileURL.path
        guard let root = LocalRepository.topLevel(containing: absolute) else {
            throw ValidationError("--repo \(repo): not a git repository (nor inside one)")
        }
        guard root == absolute else {
            throw ValidationError(
                "--repo \(repo) is inside the repository at \(root): name that one (the test command runs at "
                    + "the repository's top level)")
        }
        return root
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
