import Foundation

/// A job as the platform hands it over: its id and its `input`, kept as JSON text (any JSON
/// value: whether it is a valid flakebox job is the handler's question, answered in the result).
public struct RunPodJob: Sendable, Equatable {
    public var id: String
    public var input: Data

    public init(id: String, input: Data) {
        self.id = id
        self.input = input
    }

    /// Why a job-take reply held no job the worker can run.
    public struct Rejection: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        /// A job that came without what makes it a job (logged and dropped, as the SDK does);
        /// otherwise the reply was not a job at all (treated as a server fault).
        public var isDroppedJob: Bool
        public var description: String { message }
    }

    /// Reads a job-take reply body: one job object, or a batch (an array of them). A job needs an
    /// `id` (a string; a number is taken as its text) and an `input` key.
    public static func parse(_ body: [UInt8]) throws(Rejection) -> [RunPodJob] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
        } catch {
            throw Rejection(message: "job-take reply is not JSON (\(body.count) bytes)", isDroppedJob: false)
        }
        if let batch = value as? [Any] {
            var jobs: [RunPodJob] = []
            for element in batch {
                guard let object = element as? [String: Any] else { continue }
                if let job = try? job(from: object) { jobs.append(job) }
            }
            return jobs
        }
        guard let object = value as? [String: Any] else {
            throw Rejection(message: "job-take reply is JSON but not an object", isDroppedJob: false)
        }
        return [try job(from: object)]
    }

    private static func job(from object: [String: Any]) throws(Rejection) -> RunPodJob {
        let id: String? =
            switch object["id"] {
            case let text as String where !text.isEmpty: text
            case let number as NSNumber: number.stringValue
            default: nil
            }
        guard let id, let input = object["input"] else {
            throw Rejection(message: "Job has missing field(s): id or input.", isDroppedJob: true)
        }
        let data =
            (try? JSONSerialization.data(withJSONObject: input, options: [.fragmentsAllowed])) ?? Data("null".utf8)
        return RunPodJob(id: id, input: data)
    }
}
