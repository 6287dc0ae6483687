import Foundation

/// One webhook to deliver: a job's final `/status` reply, where to, and the key's secret.
public struct WebhookDelivery: Sendable, Equatable {
    public var jobID: String
    /// The job's `/retry` count: a retried job's new final state is a new webhook.
    public var retries: Int
    /// The final `/status` body, sent as is (and signed as is).
    public var body: Data
    public var url: String
    /// The submitting key's `whsec_…` secret.
    public var secret: String

    public init(jobID: String, retries: Int, body: Data, url: String, secret: String) {
        self.jobID = jobID
        self.retries = retries
        self.body = body
        self.url = url
        self.secret = secret
    }

    /// `webhook-id`: the same for every attempt of this delivery, so that a receiver can drop
    /// repeats.
    public var webhookID: String { "\(jobID).\(retries)" }
}
