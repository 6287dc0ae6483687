import FlakeboxCore
import FlakeboxJobs
import FlakeboxSandbox
import Foundation

/// A `/run` or `/runsync` body, checked whole before anything is queued: `{"input": {...},
/// "webhook"?: "https://…", "policy"?: {...}}`. Any other top-level field (RunPod's `s3Config`
/// included) is refused, as a field the service would silently ignore is a surprise.
struct SubmitRequest: Sendable {
    static let fields = ["input", "webhook", "policy"]

    /// The job's input, as submitted (JSON object text).
    var input: Data
    var job: JobInput
    var policy: JobPolicy
    var webhook: String?

    /// Parses `body`; a `ServiceError` (422) naming the field otherwise.
    static func parse(_ body: Data, allowLocalRepositories: Bool) throws(ServiceError) -> SubmitRequest {
        let object: [String: Any]
        do {
            object = try JSONFieldReader.parseObject(body)
        } catch {
            throw .invalid("the body is not a JSON object: \(error.message)")
        }
        for key in object.keys.sorted() where !fields.contains(key) {
            throw .invalid("unknown field \(key) (known: \(fields.joined(separator: ", ")))")
        }
        guard let inputObject = object["input"] as? [String: Any] else {
            throw .invalid(object["input"] == nil ? "input is required" : "input must be an object")
        }
        let input: Data
        do {
            input = try JSONSerialization.data(withJSONObject: inputObject, options: [.sortedKeys])
        } catch {
            throw .invalid("input could not be read as JSON")
        }
        // The same origin the handler runs the job with, so that what passes here runs there.
        let origin: JobInput.Origin = allowLocalRepositories ? .commandLine : .remote
        let job: JobInput
        do {
            job = try JobInput.parse(json: input, origin: origin)
        } catch {
            throw .invalid(error.description)
        }
        let policy: JobPolicy
        do {
            policy = try JobPolicy.parse(object["policy"])
        } catch {
            throw .invalid(error.message)
        }
        var webhook: String?
        if let value = object["webhook"], !(value is NSNull) {
            // Its form, scheme and host are the address guard's to judge (`checkAddresses`).
            guard let text = value as? String, text.utf8.count <= 2048 else {
                throw .invalid("webhook must be a URL string (at most 2048 bytes)")
            }
            webhook = text
        }
        return SubmitRequest(input: input, job: job, policy: policy, webhook: webhook)
    }
}
