import FlakeboxService
import Foundation
import Testing

@Suite("Report links")
struct ReportLinkSignerTests {
    let signer = ReportLinkSigner(secret: Array(repeating: 7, count: 32))

    func parts(_ query: String) -> (expires: String, signature: String) {
        var values: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            values[String(kv[0])] = String(kv[1])
        }
        return (values["expires"] ?? "", values["signature"] ?? "")
    }

    @Test("a link signs one job until it expires")
    func signsOneJob() {
        let later = Date().addingTimeInterval(600)
        let link = parts(signer.query(id: "job-a", expires: later))
        #expect(signer.verify(id: "job-a", expires: link.expires, signature: link.signature))
        #expect(!signer.verify(id: "job-b", expires: link.expires, signature: link.signature))
        #expect(!signer.verify(id: "job-a", expires: String(Int(link.expires)! + 1), signature: link.signature))
        #expect(
            !signer.verify(
                id: "job-a", expires: link.expires, signature: link.signature, now: later.addingTimeInterval(2)))
        let other = ReportLinkSigner(secret: Array(repeating: 8, count: 32))
        #expect(!other.verify(id: "job-a", expires: link.expires, signature: link.signature))
        #expect(!signer.verify(id: "job-a", expires: link.expires, signature: "zz"))
    }

    @Test("the secret file is made once, mode 0600, and read back")
    func secretFile() throws {
        let path = NSTemporaryDirectory() + "flakebox-report-key-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let made = try ReportSecretFile.load(path: path)
        #expect(made.count == 32)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try ReportSecretFile.load(path: path) == made)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: ReportSecretFile.Failure.self) { try ReportSecretFile.load(path: path) }
    }
}
