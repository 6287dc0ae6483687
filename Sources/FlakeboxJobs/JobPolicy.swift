import FlakeboxSandbox
import Foundation

/// A request's `policy` object, with RunPod's defaults and bounds (docs/RUNPOD_PROTOCOL.md §17).
public struct JobPolicy: Sendable, Equatable, Codable {
    /// How long the job may run once started, in milliseconds; past it the job is `TIMED_OUT`.
    public var executionTimeoutMs: Int
    /// How long the job may live in all, queue included, in milliseconds; a job still queued
    /// past it is `TIMED_OUT` without running.
    public var ttlMs: Int
    /// Accepted for RunPod's sake: claimed after every other job of the same key.
    public var lowPriority: Bool

    public static let defaultExecutionTimeoutMs = 600_000
    public static let executionTimeoutRange = 5_000...86_400_000
    public static let defaultTTLMs = 86_400_000
    public static let ttlRange = 10_000...604_800_000

    public init(
        executionTimeoutMs: Int = Self.defaultExecutionTimeoutMs, ttlMs: Int = Self.defaultTTLMs,
        lowPriority: Bool = false
    ) {
        self.executionTimeoutMs = executionTimeoutMs
        self.ttlMs = ttlMs
        self.lowPriority = lowPriority
    }

    /// Reads a request's `policy` object: unknown keys, wrong types and values out of range are
    /// refused with the field named.
    public static func parse(_ value: Any?) throws(JobRequestError) -> JobPolicy {
        guard let value, !(value is NSNull) else { return JobPolicy() }
        guard let object = value as? [String: Any] else {
            throw JobRequestError(field: "policy", message: "policy must be an object")
        }
        var policy = JobPolicy()
        for (key, raw) in object {
            switch key {
            case "executionTimeout":
                policy.executionTimeoutMs = try integer(raw, "policy.executionTimeout", in: executionTimeoutRange)
            case "ttl":
                policy.ttlMs = try integer(raw, "policy.ttl", in: ttlRange)
            case "lowPriority":
                guard let number = raw as? NSNumber, JSONFieldReader.isBool(number) else {
                    throw JobRequestError(
                        field: "policy.lowPriority", message: "policy.lowPriority must be true or false")
                }
                policy.lowPriority = number.boolValue
            default:
                var message = "unknown field policy.\(key) (known: executionTimeout, ttl, lowPriority)"
                if let near = JSONFieldReader.nearest(to: key, in: ["executionTimeout", "ttl", "lowPriority"]) {
                    message += "; did you mean \"\(near)\"?"
                }
                throw JobRequestError(field: "policy.\(key)", message: message)
            }
        }
        return policy
    }

    private static func integer(_ raw: Any, _ field: String, in range: ClosedRange<Int>) throws(JobRequestError) -> Int
    {
        guard let number = raw as? NSNumber, !JSONFieldReader.isBool(number),
            let value = Int(exactly: number.doubleValue)
        else {
            throw JobRequestError(field: field, message: "\(field) must be a whole number of milliseconds")
        }
        guard range.contains(value) else {
            throw JobRequestError(
                field: field, message: "\(field) must be between \(range.lowerBound) and \(range.upperBound) ms")
        }
        return value
    }
}
