import Foundation

/// One line of `WebhookSender`'s delivery log: a try, or a delivery dropped before any try.
public struct WebhookAttempt: Sendable, Equatable {
    public var webhookID: String
    public var url: String
    /// 1 for the first try; 0 for a delivery that was never tried (dropped, refused secret).
    public var attempt: Int
    /// The response's status code, when a response came.
    public var status: Int?
    /// Why it failed; nil when it was delivered.
    public var error: String?
    /// No try follows for this delivery (it was delivered, or given up).
    public var final: Bool
    public var at: Date

    public var delivered: Bool { error == nil }

    public init(
        webhookID: String, url: String, attempt: Int, status: Int? = nil, error: String? = nil, final: Bool,
        at: Date = Date()
    ) {
        self.webhookID = webhookID
        self.url = url
        self.attempt = attempt
        self.status = status
        self.error = error
        self.final = final
        self.at = at
    }
}
