import Crypto
import Foundation

/// Standard Webhooks signing (standardwebhooks.com): the receiver checks
/// `webhook-signature: v1,<base64 HMAC-SHA256(key, "{webhook-id}.{webhook-timestamp}.{body}")>`
/// with the key's `whsec_…` secret, whose base64-decoded bytes are the HMAC key.
public struct WebhookSignature: Sendable {
    /// The HMAC key bytes (kept as `Data`: `SymmetricKey` is not `Sendable`).
    let key: Data

    /// - Parameter secret: `whsec_` followed by base64 (the prefix is optional, as the reference
    ///   libraries accept).
    /// - Throws: `.invalidSecret` when the rest is not base64 or is empty.
    public init(secret: String) throws(OutboundRequestError) {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let bytes = Data(base64Encoded: encoded), !bytes.isEmpty else {
            throw OutboundRequestError(.invalidSecret, "the webhook secret is not whsec_ followed by base64")
        }
        key = bytes
    }

    /// The `webhook-signature` header value for one delivery attempt.
    public func header(id: String, timestamp: Int, body: some DataProtocol) -> String {
        var hmac = HMAC<SHA256>(key: SymmetricKey(data: key))
        hmac.update(data: Data("\(id).\(timestamp).".utf8))
        hmac.update(data: body)
        return "v1," + Data(hmac.finalize()).base64EncodedString()
    }
}
