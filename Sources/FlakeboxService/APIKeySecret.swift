import Crypto
import FlakeboxJobs
import Foundation

/// The random parts of an API key and how a secret is checked. The secret (`fbk_` + base64url of
/// 32 bytes) is shown once and never stored: the database keeps its SHA-256 (a fast hash is
/// enough for 256 random bits; there is nothing to guess). All randomness comes from the
/// system's CSPRNG (`SystemRandomNumberGenerator`: getrandom(2) on Linux).
public struct APIKeySecret: Sendable {
    /// `fbk_…`, what a client sends.
    public let secret: String

    public init(secret: String) {
        self.secret = secret
    }

    /// A new secret.
    public static func generate() -> APIKeySecret {
        APIKeySecret(secret: "fbk_" + base64URL(randomBytes(32)))
    }

    /// Lowercase hex SHA-256 of the secret: what the key store keeps and looks up.
    public var hash: String { Self.hash(of: secret) }

    public static func hash(of secret: some StringProtocol) -> String {
        SHA256.hash(data: Data(secret.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A key's public id: `key_` + 12 random hex digits.
    public static func makeKeyID() -> String {
        "key_" + randomBytes(6).map { String(format: "%02x", $0) }.joined()
    }

    /// A Standard Webhooks signing secret: `whsec_` + base64 of 32 random bytes.
    public static func makeWebhookSecret() -> String {
        "whsec_" + Data(randomBytes(32)).base64EncodedString()
    }

    /// Compares in time that depends on the lengths only, never on where the first difference is.
    public static func constantTimeEqual(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for i in x.indices { difference |= x[i] ^ y[i] }
        return difference == 0
    }

    /// A new key with fresh id, secret and webhook secret; the secret is returned beside it, once.
    public static func newKey(
        name: String, scopes: Set<APIKey.Scope>, quotas: APIKey.Quotas = APIKey.Quotas(), createdAt: Date = Date()
    ) -> (key: APIKey, secret: String) {
        let secret = generate()
        let key = APIKey(
            id: makeKeyID(), name: name, secretHash: secret.hash, scopes: scopes, quotas: quotas,
            webhookSecret: makeWebhookSecret(), createdAt: createdAt)
        return (key, secret.secret)
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
