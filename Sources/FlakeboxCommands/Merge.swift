import ArgumentParser
import FlakeboxCore
import Foundation

extension Flakebox {
    /// Summaries of shards of one job (disjoint seed ranges) made into the summary of the whole job.
    struct Merge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge the summaries of shards of one job into the summary the whole job would have given.",
            discussion: """
                Each file is what `flakebox run --json` printed, or the RunPod worker's {"output": …} reply. \
                The shards must be the same job (repository commit, command, policy, tier and every field \
                that changes results) over disjoint seed ranges (--seed-start); anything else is refused, \
                naming the difference. Timings are the slowest shard's.

                Exit codes as `flakebox run`: 0 no failure seen, 1 flaky, 2 always fails, 3 harness error, \
                64 files that cannot be read or merged.
                """)

        @Flag(help: "Print the merged summary as JSON, and nothing else on stdout.")
        var json = false

        @Option(help: "Also write the merged summary's JSON to this file.")
        var output: String?

        @OptionGroup(title: "Reports") var reports: ReportOutputs

        @Argument(help: "Summary files (JSON), one per shard.")
        var files: [String] = []

        func run() async throws {
            let merged: JobSummary
            do {
                merged = try SummaryMerger.merge(try files.map(Self.read))
            } catch let error as MergeError {
                FileHandle.standardError.write(Data("flakebox: cannot merge: \(error.message)\n".utf8))
                throw ExitCode(64)
            } catch {
                FileHandle.standardError.write(Data("flakebox: \(error)\n".utf8))
                throw ExitCode(64)
            }
            let data = merged.encodedJSON()
            if let output {
                do {
                    try (data + Data("\n".utf8)).write(to: URL(fileURLWithPath: output))
                } catch {
                    FileHandle.standardError.write(
                        Data("flakebox: cannot write \(output): \(error.localizedDescription)\n".utf8))
                    throw ExitCode(3)
                }
            }
            let command = merged.shard?.identity["test_command"] ?? ""
            let repo = merged.shard?.identity["repo"] ?? ""
            try reports.finish(merged, command: command, repositoryRoot: repo.hasPrefix("/") ? repo : nil, json: json)
        }

        /// A summary from `flakebox run --json`, or the worker's reply with it under `output`.
        static func read(_ path: String) throws -> JobSummary {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                throw ValidationError("cannot read \(path): \(error.localizedDescription)")
            }
            return try decode(data, path: path)
        }

        static func decode(_ data: Data, path: String) throws -> JobSummary {
            let object = try? JSONSerialization.jsonObject(with: data)
            var body = data
            if let wrapper = object as? [String: Any], wrapper["total_runs"] == nil, let inner = wrapper["output"] {
                guard JSONSerialization.isValidJSONObject(inner),
                    let innerData = try? JSONSerialization.data(withJSONObject: inner)
                else { throw ValidationError("\(path): its \"output\" is not a summary") }
                body = innerData
            }
            do {
                return try JSONDecoder().decode(JobSummary.self, from: body)
            } catch {
                throw ValidationError("\(path) is not a flakebox summary: \(error)")
            }
        }
    }
}
