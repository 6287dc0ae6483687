import FlakeboxCore
import FlakeboxJobs

#if canImport(Glibc)
    import Glibc
#endif

/// Constants of the wire protocol the worker speaks: the official Python SDK's, release 1.12.0.
public enum WorkerProtocol {
    /// Reported as `runpod_version` (pings, error payloads): the SDK release whose protocol we
    /// copy, so that the platform treats the worker like that SDK.
    public static let sdkVersion = RunPodSDK.version
    /// The client-side limit on a job-take or job-stop long-poll.
    public static let longPollSeconds: Int64 = 90
    /// Wait after a 429 from job-take or job-stop.
    public static let tooManyRequestsSeconds: Int64 = 5
    /// job-done is tried this many times in all, waiting these seconds between tries (aiohttp_retry's
    /// Fibonacci schedule with attempts=3 and max_timeout=3).
    public static let resultRetryWaits: [Int64] = [2, 3]
    /// RunPod's platform limit on a `/runsync` result; a summary's budget is kept under it.
    public static let maxResultBytes = 20_000_000

    /// `flakebox/0.x (RunPod worker protocol 1.12.0; Linux <release>; <machine>)`.
    public static let userAgent: String = {
        var names = utsname()
        uname(&names)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }
        return "flakebox/\(FlakeboxVersion.current) (RunPod worker protocol \(sdkVersion); "
            + "Linux \(field(names.release)); \(field(names.machine)))"
    }()
}
