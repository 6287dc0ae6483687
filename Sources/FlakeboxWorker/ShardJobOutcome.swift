import FlakeboxCore
import Foundation

/// What a shard's finished RunPod job came to, from its `/status`: the summary; a job error (the
/// job itself cannot run: tried again it would fail again); or neither, a platform failure (the
/// worker died, the queue dropped the job, the reply is not flakebox's), worth another try.
enum ShardJobOutcome {
    case summary(JobSummary)
    /// The error, as a sentence (with the setup's log tail, when there is one).
    case jobError(String)
    case platformFailure

    /// The handler's error codes (`FlakeboxJobHandler`: `<class 'flakebox.CODE'>`) that belong to
    /// the job, not to the worker that ran it: refused input or policy, a clone or a setup that
    /// failed. `sandbox` (this worker's isolation) and `cancelled` (the worker was stopped) are
    /// left out: another worker may do.
    static let jobErrorCodes: Set<String> = [
        JobError.Code.invalidInput.name, JobError.Code.policy.name, JobError.Code.fetchFailed.name,
        JobError.Code.setupFailed.name,
    ]

    init(_ reply: RunPodEndpointClient.JobStatus) {
        if let output = reply.output, let summary = try? JSONDecoder().decode(JobSummary.self, from: output) {
            self = .summary(summary)
            return
        }
        // RunPod puts the handler's error in `error` (FAILED); an output object carrying one is
        // judged the same way.
        var errors = reply.error.map { [$0] } ?? []
        if let output = reply.output,
            let object = (try? JSONSerialization.jsonObject(with: output)) as? [String: Any],
            let error = object["error"] as? String
        {
            errors.append(error)
        }
        for error in errors {
            if let description = Self.jobError(error) {
                self = .jobError(description)
                return
            }
        }
        self = .platformFailure
    }

    /// The job error `text` is, or nil: the handler's refusal of the input (`{"error": "invalid
    /// job input: …"}`), or the SDK's error_info of an exception the handler raised for a job
    /// error (`{"error_type": "<class 'flakebox.fetch_failed'>", "error_message": …}`).
    static func jobError(_ text: String) -> String? {
        if text.hasPrefix("invalid job input: ") || text.hasPrefix(JobError.Code.invalidInput.name + ": ") {
            return String(text.prefix(4000))
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
            let type = object["error_type"] as? String, type.hasPrefix("<class 'flakebox."), type.hasSuffix("'>")
        else { return nil }
        let code = String(type.dropFirst("<class 'flakebox.".count).dropLast(2))
        guard jobErrorCodes.contains(code) else { return nil }
        var description = "\(code): \(object["error_message"] as? String ?? "(no message)")"
        if let tail = object["error_traceback"] as? String, !tail.isEmpty {
            description += "\n" + String(tail.suffix(4000))
        }
        return description
    }
}
