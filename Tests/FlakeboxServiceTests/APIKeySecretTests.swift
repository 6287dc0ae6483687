import FlakeboxService
import Foundation
import Testing

@Suite struct APIKeySecretTests {
    @Test("secrets, ids and webhook secrets have their shapes and do not repeat")
    func shapes() {
        let secrets = (0..<50).map { _ in APIKeySecret.generate().secret }
        #expect(Set(secrets).count == 50)
        let urlSafe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        for secret in secrets {
            #expect(secret.hasPrefix("fbk_") && secret.count == 4 + 43)
            #expect(secret.dropFirst(4).allSatisfy(urlSafe.contains))
        }
        let id = APIKeySecret.makeKeyID()
        #expect(id.hasPrefix("key_") && id.count == 16 && id.dropFirst(4).allSatisfy(\.isHexDigit))
        let webhook = APIKeySecret.makeWebhookSecret()
        #expect(webhook.hasPrefix("whsec_"))
        #expect(Data(base64Encoded: String(webhook.dropFirst(6)))?.count == 32)
    }

    @Test("the stored hash is the secret's SHA-256 in lowercase hex")
    func hash() {
        #expect(
            APIKeySecret.hash(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let made = APIKeySecret.newKey(name: "n", scopes: [.read])
        #expect(made.key.secretHash == APIKeySecret.hash(of: made.secret))
        #expect(made.key.secretHash != made.secret)
    }

    @Test("constant-time comparison agrees with ==")
    func comparison() {
        #expect(APIKeySecret.constantTimeEqual("abc", "abc"))
        #expect(!APIKeySecret.constantTimeEqual("abc", "abd"))
        #expect(!APIKeySecret.constantTimeEqual("abc", "abcd"))
        #expect(APIKeySecret.constantTimeEqual("", ""))
    }
}
