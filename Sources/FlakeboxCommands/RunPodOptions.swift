import ArgumentParser

/// `flakebox run` on a RunPod endpoint's workers: the job cut into shards of disjoint seed ranges,
/// one RunPod job each, merged into one summary. The API key comes from `RUNPOD_API_KEY` only.
struct RunPodOptions: ParsableArguments {
    static let defaultAPIURL = "https://api.runpod.ai/v2"

    @Option(
        name: .customLong("runpod-endpoint"),
        help: "Run the job on this RunPod serverless endpoint (its id), as --shards jobs; key from RUNPOD_API_KEY.")
    var endpoint: String?

    @Option(help: "How many RunPod jobs the runs are split into (disjoint seed ranges; default 1).")
    var shards: Int?

    @Option(name: .customLong("runpod-api-url"), help: "RunPod's API base URL.")
    var apiURL = defaultAPIURL

    /// Refused: a key on the command line is seen by every user of `ps` and kept in shell history.
    @Option(name: .customLong("runpod-api-key"), help: .hidden)
    var apiKey: String?

    func validate() throws {
        if apiKey != nil {
            throw ValidationError(
                "--runpod-api-key is refused: a key on the command line shows in `ps` and shell history; "
                    + "set RUNPOD_API_KEY instead")
        }
        if endpoint == nil {
            if shards != nil { throw ValidationError("--shards needs --runpod-endpoint") }
            if apiURL != Self.defaultAPIURL { throw ValidationError("--runpod-api-url needs --runpod-endpoint") }
        }
        if let shards, shards < 1 { throw ValidationError("--shards must be at least 1") }
        if let endpoint, endpoint.isEmpty || endpoint.contains("/") {
            throw ValidationError("--runpod-endpoint takes an endpoint id, not a path or URL")
        }
    }
}
