import Foundation

/// What the platform tells a worker through its environment (docs/RUNPOD_PROTOCOL.md §2), read once.
///
/// The values are kept here and nowhere else: the sandbox never sees this process's environment
/// (attempts get a built one), and `Sandbox.isSecretName` also refuses every `RUNPOD_` name a
/// policy or job might try to pass through.
public struct RunPodEnvironment: Sendable {
    /// `RUNPOD_WEBHOOK_GET_JOB`; nil means local test mode (an empty string counts as set, as in the SDK).
    public var jobTakeTemplate: String?
    public var jobDoneTemplate: String
    public var streamTemplate: String
    public var pingTemplate: String?
    /// `RUNPOD_AI_API_KEY`, sent raw as `Authorization`.
    public var apiKey: String
    /// `RUNPOD_POD_ID`, or a random id for this process.
    public var workerID: String
    /// Whether `RUNPOD_POD_ID` was set (error payloads say `unknown` otherwise, as the SDK does).
    public var workerIDIsSet: Bool
    public var hostname: String
    /// Seconds between heartbeats (`RUNPOD_PING_INTERVAL` in ms, whole seconds, at least 1).
    public var pingIntervalSeconds: Int
    /// `RUNPOD_ENDPOINT_ID`: when set, logs are JSON lines.
    public var endpointID: String?
    /// `RUNPOD_LOG_LEVEL`, falling back to `RUNPOD_DEBUG_LEVEL`.
    public var logLevel: String?

    public init(_ environment: [String: String] = ProcessInfo.processInfo.environment) {
        jobTakeTemplate = environment["RUNPOD_WEBHOOK_GET_JOB"]
        jobDoneTemplate = environment["RUNPOD_WEBHOOK_POST_OUTPUT"] ?? "JOB_DONE_URL"
        streamTemplate = environment["RUNPOD_WEBHOOK_POST_STREAM"] ?? "JOB_STREAM_URL"
        pingTemplate = environment["RUNPOD_WEBHOOK_PING"]
        apiKey = environment["RUNPOD_AI_API_KEY"] ?? ""
        workerIDIsSet = environment["RUNPOD_POD_ID"] != nil
        workerID = environment["RUNPOD_POD_ID"] ?? UUID().uuidString.lowercased()
        hostname = environment["RUNPOD_POD_HOSTNAME"] ?? "unknown"
        // The SDK divides by 1000 with integer division and then loops without sleeping when the
        // result is 0; one second is the floor here.
        let milliseconds = environment["RUNPOD_PING_INTERVAL"].flatMap { Int($0) } ?? 10_000
        pingIntervalSeconds = max(1, milliseconds / 1000)
        endpointID = environment["RUNPOD_ENDPOINT_ID"]
        logLevel = environment["RUNPOD_LOG_LEVEL"] ?? environment["RUNPOD_DEBUG_LEVEL"]
    }

    /// The SDK sends heartbeats only when all three are set.
    public var sendsHeartbeats: Bool {
        pingTemplate != nil && !apiKey.isEmpty && workerIDIsSet
    }

    public var urls: RunPodURLs? {
        jobTakeTemplate.map {
            RunPodURLs(
                jobTake: $0, jobDone: jobDoneTemplate, stream: streamTemplate, ping: pingTemplate, workerID: workerID)
        }
    }
}
