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
            let client = RunPodEndpointClient(baseURL: options.apiURL, endpoint: endpoint, apiKey: key)
            let request = pinRequest(input)
            // As text: the task below may not share the dictionary (its values are not Sendable).
            let base = try JSONSerialization.data(withJSONObject: object)

            // The signals are watched before the ref is resolved, as for a local run's job: a Ctrl-C
            // while git asks the repository kills git too.
            let summaries: [JobSummary]
            do {
                summaries = try await InterruptibleJob.run(stopped: "every shard's RunPod job was cancelled") {
                    () async throws -> [JobSummary] in
                    // Every shard clones this one commit: resolved once, before any is submitted, so a
                    // push between two shards' clones cannot split the job over two commits.
                    let ref: String
                    do throws(FetchError) {
                        ref = try await RepositoryFetcher.pinnedRef(request)
                    } catch {
                        let what = input.ref.map { "the ref \(RepositoryURL.quoted($0))" } ?? "the default branch"
                        throw Failure(
                            description: "cannot resolve \(what) of the repository to a commit: \(error.message)",
                            exitCode: 3)
                    }
                    guard let inputs = plan.inputs(json: base, commit: ref) else {
                        throw Failure(description: "the job input cannot be read back from JSON", exitCode: 3)
                    }
                    let shards = zip(plan.ranges, inputs).map { RunPodFanOut.Shard(range: $0, input: $1) }
                    do {
                        return try await RunPodFanOut(client: client, shards: shards).run(progress: {
                            reporter.update($0)
                        })
                    } catch {
                        throw Failure(description: "\(error)", exitCode: 3)
                    }
                }
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
            do {
                return try SummaryMerger.merge(summaries)
            } catch {
                throw Failure(description: "the shards' summaries cannot be merged: \(error.message)", exitCode: 3)
            }
        }

        /// Where the ref is resolved: the job's repository, under the rules its workers fetch it by
        /// (remote input: public addresses only, no local paths).
        static func pinRequest(_ input: JobInput) -> FetchRequest {
            #if DEBUG
                // Debug builds only, for tests: their stand-in endpoint runs each job on a local
                // repository in place of the job's URL, so the ref is resolved in that repository.
                let environment = ProcessInfo.processInfo.environment
                if let path = environment["FLAKEBOX_DEBUG_PIN_REPOSITORY"], !path.isEmpty {
                    return FetchRequest(repo: path, ref: input.ref, allowLocal: true, submodules: input.submodules)
                }
            #endif
            return FetchRequest(repo: input.repo, ref: input.ref, allowLocal: false, submodules: input.submodules)
        }
    }
#endif
