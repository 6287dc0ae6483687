import ArgumentParser
import FlakeboxCore
import FlakeboxSandbox
import Foundation

extension Flakebox {
    /// One attempt again, with the seed (and attempt number) of a failure, its output shown live.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rerun one attempt with its seed, in the same sandbox, and show its output live.",
            discussion: """
                A summary's `replay` field is this command with everything filled in. With --runs N the \
                same seed and attempt number run N times (one checkout, a fresh sandbox each), and the \
                last line says whether the seed controls the failure: it does when every replay fails. \
                Exit code 1 when any replay failed.
                """)

        @OptionGroup var job: JobOptions

        @Option(help: "The seed to replay (TEST_SEED, and PYTHONHASHSEED and pytest-randomly's seed from it).")
        var seed: Int

        @Option(help: "The attempt number to show as ATTEMPT.")
        var attempt: Int = 0

        @Argument(parsing: .postTerminator, help: "The test command, after --.")
        var command: [String] = []

        func run() async throws {
            var words = command
            if words.first == "--" { words.removeFirst() }
            var options = job
            // --runs N: N replays of this one seed and attempt (the planner pins them), one at a
            // time unless asked, so that their live output does not interleave.
            let replays = job.runs ?? 1
            options.runs = replays
            options.parallelism = job.parallelism ?? 1
            options.seedStart = seed
            options.rerun = 0  // one attempt, shown live: no classification phase after it
            let input: JobInput
            do {
                input = try options.input(testCommand: words.isEmpty ? nil : words.joined(separator: " "))
            } catch let bad as BadInput {
                FileHandle.standardError.write(Data("flakebox: \(bad)\n".utf8))
                throw ExitCode(64)
            }
            var runnerOptions = JobRunner.Options(
                sandbox: .init(tier: job.tier), firstAttempt: attempt,
                outputObserver: { _, stream, bytes in
                    let text = Data(HumanReport.printable(String(decoding: bytes, as: UTF8.self)).utf8)
                    (stream == .stdout ? FileHandle.standardOutput : FileHandle.standardError).write(text)
                })
            runnerOptions.includeWorkingTree = !job.committedOnly
            runnerOptions.preparedCache = job.noCache ? nil : .standard()
            runnerOptions.pinSeed = true
            let runner = JobRunner(options: runnerOptions)
            let summary: JobSummary
            do {
                summary = try await InterruptibleJob.run(runner, input)
            } catch let interrupted as InterruptibleJob.Interrupted {
                throw ExitCode(interrupted.exitCode)
            } catch {
                FileHandle.standardError.write(Data("flakebox: \(error)\n".utf8))
                throw ExitCode(3)
            }
            let object = (try? JSONSerialization.jsonObject(with: summary.encodedJSON())) as? [String: Any] ?? [:]
            let results = object["results"] as? [[String: Any]] ?? []
            for result in results {
                var line = "[flakebox] attempt \(attempt) seed \(seed): \(result["status"] as? String ?? "?")"
                if let code = result["exit_code"] as? Int { line += " exit=\(code)" }
                if let duration = result["duration_s"] as? Double { line += String(format: " %.2fs", duration) }
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            let failed = object["failures"] as? Int ?? 0
            let outcomes = object["test_outcomes"] as? Int ?? 0
            FileHandle.standardError.write(
                Data(("[flakebox] " + Self.verdict(seed: seed, failed: failed, outcomes: outcomes) + "\n").utf8))
            let allPassed = !results.isEmpty && results.allSatisfy { $0["status"] as? String == "passed" }
            throw ExitCode(allPassed ? 0 : 1)
        }

        /// Whether the seed controls the failure, from the replays with a test outcome.
        static func verdict(seed: Int, failed: Int, outcomes: Int) -> String {
            let head = "seed \(seed) failed \(failed) of \(outcomes) \(outcomes == 1 ? "replay" : "replays")"
            if outcomes == 0 { return head + ": no replay produced a test outcome (see the statuses above)" }
            if failed == outcomes { return head + ": the seed controls the failure" }
            return head
                + ": the seed does not control the failure (timing, order or outside state do); "
                + "try --shuffle or more parallelism in `flakebox run` to make it fail more often"
        }
    }
}
