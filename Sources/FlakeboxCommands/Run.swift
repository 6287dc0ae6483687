import ArgumentParser
import FlakeboxCore
import FlakeboxSandbox
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension Flakebox {
    /// The main job: N sandboxed runs of a test command, P at a time, and what they say.
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Run a repository's test command many times, each attempt in its own sandbox, and say if it is flaky.",
            discussion: """
                The words after -- are joined with spaces into test_command, which runs under /bin/sh -c \
                in the checkout, exactly as the RunPod worker runs it. Every job field is a flag; --input \
                reads a job JSON file (flags override it).

                Exit codes: 0 no failure seen, 1 flaky, 2 always fails, 3 harness error or job error \
                (clone, setup, isolation), 64 bad input.
                """)

        @OptionGroup var job: JobOptions

        @OptionGroup(title: "Reports") var reports: ReportOutputs

        @OptionGroup(title: "RunPod") var runpod: RunPodOptions

        @Flag(help: "Print exactly the summary the RunPod worker returns, as JSON, and nothing else on stdout.")
        var json = false

        @Flag(name: [.customShort("q"), .long], help: "No progress on stderr.")
        var quiet = false

        @Argument(parsing: .postTerminator, help: "The test command, after --.")
        var command: [String] = []

        func run() async throws {
            var words = command
            if words.first == "--" { words.removeFirst() }
            let input: JobInput
            let testCommand = words.isEmpty ? nil : words.joined(separator: " ")
            do {
                input = try job.input(testCommand: testCommand)
            } catch let bad as BadInput {
                FileHandle.standardError.write(Data("flakebox: \(bad)\n".utf8))
                throw ExitCode(64)
            }
            let reporter = ProgressLine(mode: .forStandardError(quiet: quiet))
            if let endpoint = runpod.endpoint {
                let summary = try await fanOut(input, testCommand: testCommand, endpoint: endpoint, reporter: reporter)
                try report(summary, input: input)
            }
            var options = JobRunner.Options(sandbox: .init(tier: job.tier), progress: { reporter.update($0) })
            options.includeWorkingTree = !job.committedOnly
            options.preparedCache = job.noCache ? nil : .standard()
            let runner = JobRunner(options: options)
            let summary: JobSummary
            do {
                summary = try await InterruptibleJob.run(runner, input)
            } catch let interrupted as InterruptibleJob.Interrupted {
                reporter.finish()
                throw ExitCode(interrupted.exitCode)
            } catch {
                reporter.finish()
                FileHandle.standardError.write(Data("flakebox: \(error)\n".utf8))
                throw ExitCode(3)
            }
            reporter.finish()
            try report(summary, input: input)
        }

        /// The reports, the summary (JSON or for a person) and the exit code, as the verdict says.
        private func report(_ summary: JobSummary, input: JobInput) throws -> Never {
            try reports.finish(
                summary, command: input.testCommand,
                repositoryRoot: input.repo.hasPrefix("/") ? input.repo : nil, json: json)
        }

        private func fanOut(_ input: JobInput, testCommand: String?, endpoint: String, reporter: ProgressLine)
            async throws -> JobSummary
        {
            #if Worker
                do {
                    let summary = try await RunPodFanOutRun.run(
                        object: try job.object(testCommand: testCommand), input: input, options: runpod,
                        endpoint: endpoint, reporter: reporter)
                    reporter.finish()
                    return summary
                } catch let interrupted as InterruptibleJob.Interrupted {
                    reporter.finish()
                    throw ExitCode(interrupted.exitCode)
                } catch let failure as RunPodFanOutRun.Failure {
                    reporter.finish()
                    FileHandle.standardError.write(Data("flakebox: \(failure.description)\n".utf8))
                    throw ExitCode(failure.exitCode)
                }
            #else
                FileHandle.standardError.write(
                    Data("flakebox: this build has no RunPod support (built without the Worker trait)\n".utf8))
                throw ExitCode(64)
            #endif
        }
    }
}
