import Foundation

/// The worker's URLs, templated exactly as the SDK does (docs/RUNPOD_PROTOCOL.md §3): `$ID` in the
/// job-take URL, then `$RUNPOD_POD_ID` before `$ID` in job-done and stream URLs, and query
/// parameters appended with a bare `&` (the platform's URLs carry a `?` already).
public struct RunPodURLs: Sendable, Equatable {
    private let jobTakeBase: String
    private let jobDoneTemplate: String
    private let streamTemplate: String
    private let pingBase: String?

    public init(jobTake: String, jobDone: String, stream: String, ping: String?, workerID: String) {
        jobTakeBase = jobTake.replacingAll("$ID", with: workerID)
        jobDoneTemplate = jobDone.replacingAll("$RUNPOD_POD_ID", with: workerID)
        streamTemplate = stream.replacingAll("$RUNPOD_POD_ID", with: workerID)
        pingBase = ping?.replacingAll("$RUNPOD_POD_ID", with: workerID)
    }

    /// `…&job_in_progress=0|1`; one job at a time, so never the batch form.
    public func jobTake(jobInProgress: Bool) -> String {
        jobTakeBase + "&job_in_progress=" + (jobInProgress ? "1" : "0")
    }

    /// The job-take URL with `/job-take/` made `/job-stop/`, its query kept; nil (channel off)
    /// when the job-take URL has no `/job-take/`.
    public var jobStop: String? {
        guard jobTakeBase.contains("/job-take/") else { return nil }
        return jobTakeBase.replacingAll("/job-take/", with: "/job-stop/")
    }

    public func jobDone(jobID: String, isStream: Bool = false) -> String {
        jobDoneTemplate.replacingAll("$ID", with: jobID) + "&isStream=" + (isStream ? "true" : "false")
    }

    /// The heartbeat URL with `job_id` (omitted when idle) and `runpod_version`, joined with `?`
    /// or `&` as `requests` does with `params`.
    public func ping(jobIDs: [String]) -> String? {
        guard let pingBase else { return nil }
        var query: [String] = []
        if !jobIDs.isEmpty { query.append("job_id=" + Self.formEncode(jobIDs.joined(separator: ","))) }
        query.append("runpod_version=" + Self.formEncode(WorkerProtocol.sdkVersion))
        let separator = pingBase.contains("?") ? (pingBase.hasSuffix("?") || pingBase.hasSuffix("&") ? "" : "&") : "?"
        return pingBase + separator + query.joined(separator: "&")
    }

    /// Percent-encoding as `urllib.parse.urlencode` (quote_plus) does it: unreserved characters
    /// stay, a space is `+`, everything else `%XX`. Commas become `%2C`, as requests sends them.
    static func formEncode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        replacingOccurrences(of: target, with: replacement)
    }

    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
