import ArgumentParser
import FlakeboxCore
import Foundation

/// Where `flakebox run` writes its results besides the terminal: files CI systems read, an HTML
/// report, every failing attempt's output, and GitHub Actions' step summary and annotations.
struct ReportOutputs: ParsableArguments {
    @Option(name: .customLong("junit-out"), help: "Write JUnit XML (Surefire's flaky-test dialect) to this file.")
    var junitOut: String?

    @Option(help: "Write a self-contained HTML report to this file.")
    var html: String?

    @Option(
        name: .customLong("output-dir"),
        help: "Write summary.json and each failing attempt's captured output to this directory.")
    var outputDirectory: String?

    /// Writes every output asked for; a failure to write is reported and exits 3 after the rest.
    /// What `run`, `replay` and `merge` end with: the report files, then the summary (JSON, or
    /// for a person), then the exit code the verdict says.
    func finish(_ summary: JobSummary, command: String, repositoryRoot: String?, json: Bool) throws -> Never {
        try write(summary, command: command, repositoryRoot: repositoryRoot, json: json)
        let data = summary.encodedJSON()
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        if json {
            FileHandle.standardOutput.write(data)
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else {
            print(HumanReport.render(object))
        }
        throw ExitCode(HumanReport.exitCode(verdict: object["verdict"] as? String))
    }

    func write(_ summary: JobSummary, command: String, repositoryRoot: String?, json: Bool) throws {
        var failures: [String] = []
        func save(_ text: String, to path: String) {
            do {
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            } catch {
                failures.append("\(path): \(error.localizedDescription)")
            }
        }
        if let junitOut { save(JUnitWriter.render(summary, command: command), to: junitOut) }
        if let html { save(HTMLReport.render(summary, command: command), to: html) }
        if let outputDirectory {
            do {
                try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
                save(
                    String(decoding: summary.encodedJSON(), as: UTF8.self) + "\n", to: "\(outputDirectory)/summary.json"
                )
                for attempt in summary.results where attempt.status.isTestFailure {
                    let name = "\(outputDirectory)/attempt-\(attempt.attempt)-seed-\(attempt.seed)"
                    save(attempt.stdout, to: name + ".stdout")
                    save(attempt.stderr, to: name + ".stderr")
                }
            } catch {
                failures.append("\(outputDirectory): \(error.localizedDescription)")
            }
        }
        let environment = ProcessInfo.processInfo.environment
        if environment["GITHUB_ACTIONS"] == "true" {
            if let path = environment["GITHUB_STEP_SUMMARY"], !path.isEmpty {
                do {
                    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                    try handle.seekToEnd()
                    try handle.write(contentsOf: Data(GitHubActionsReport.stepSummary(summary, command: command).utf8))
                    try handle.close()
                } catch {
                    failures.append("GITHUB_STEP_SUMMARY \(path): \(error.localizedDescription)")
                }
            }
            let lines = GitHubActionsReport.annotations(summary, command: command, repositoryRoot: repositoryRoot)
            // The runner reads workflow commands from both streams; with --json stdout is the JSON's.
            let stream = json ? FileHandle.standardError : FileHandle.standardOutput
            for line in lines { stream.write(Data((line + "\n").utf8)) }
        }
        if !failures.isEmpty {
            FileHandle.standardError.write(Data("flakebox: cannot write \(failures.joined(separator: "; "))\n".utf8))
            throw ExitCode(3)
        }
    }
}
