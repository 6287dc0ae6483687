/// The official Python SDK release whose protocol and shapes flakebox copies (docs/RUNPOD_PROTOCOL.md).
public enum RunPodSDK {
    /// Reported as `runpod_version` (pings, error payloads), so that the platform and clients
    /// treat flakebox like that SDK.
    public static let version = "1.12.0"
}
