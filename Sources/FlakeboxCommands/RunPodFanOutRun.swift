#if Worker
    import ArgumentParser
    import FlakeboxCore
    import FlakeboxWorker
    import Foundation

    /// `flakebox run --runpod-endpoint ID --shards K`: the job's runs as K RunPod jobs of disjoint
    /// seed ranges, followed with the live progress line, merged into the summary one local run of
    /// the job would give. SIGINT and SIGTERM cancel every shard's job, then exit as a local run does.
    enum RunPodFanOutRun {
        struct Failure: Error, CustomStringConvertible {
            var description: String
            var exitCode: Int32
        }

        static func run(
            object: [String: Any], input: JobInput, options: RunPodOptions, endpoint: String, reporter: ProgressLine
        ) async throws -> JobSummary {
            do {
                // What a worker accepts: a repository it can clone, among the rest.
                _ = try JobInput.parse(object, origin: .remote)
            } catch {
                throw Failure(
                    description: "--runpod-endpoint runs the job on RunPod's workers, which clone the repository "
                        + "themselves: give its URL (a local path is refused):\n"
                        + error.problems.map { "  - \($0)" }.joined(separator: "\n"), exitCode: 64)
            }
            guard let key = ProcessInfo.processInfo.environment["RUNPOD_API_KEY"], !key.isEmpty else {
                throw Failure(description: "--runpod-endpoint needs the API key in RUNPOD_API_KEY", exitCode: 64)
            }
            let plan = ShardPlan(runs: input.runs, seedStart: input.seedStart, shards: options.shards ?? 1)
            var shards: [RunPodFanOut.Shard] = []
            for range in plan.ranges {
                var part = object
                part["seed_start"] = range.seedStart
                part["runs"] = range.runs
                let data = try JSONSerialization.data(withJSONObject: part, options: [.sortedKeys])
                shards.append(RunPodFanOut.Shard(range: range, input: data))
            }
            let client = RunPodEndpointClient(baseURL: options.apiURL, endpoint: endpoint, apiKey: key)
            let fanOut = RunPodFanOut(client: client, shards: shards)

            // Installed before the first submission, as a local run installs it before its job.
            let signals = ShutdownSignal.stream()
            let job = Task { () async throws(RunPodEndpointError) -> [JobSummary] in
                try await fanOut.run(progress: { reporter.update($0) })
            }
            let watcher = Task {
                for await signal in signals {
                    job.cancel()
                    return signal
                }
                return Int32(0)
            }
            let result = await job.result
            await client.shutdown()
            if job.isCancelled {
                let signal = await watcher.value
                FileHandle.standardError.write(
                    Data(
                        "\nflakebox: \(ShutdownSignal.name(signal)) received; every shard's RunPod job was cancelled\n"
                            .utf8))
                throw InterruptibleJob.Interrupted(signal: signal)
            }
            watcher.cancel()
            let summaries: [JobSummary]
            switch result {
            case .success(let value): summaries = value
            case .failure(let error): throw Failure(description: "\(error)", exitCode: 3)
            }
            do {
                return try SummaryMerger.merge(summaries)
            } catch {
                throw Failure(description: "the shards' summaries cannot be merged: \(error.message)", exitCode: 3)
            }
        }
    }
#endif
