import FlakeboxCore
import Testing

@testable import FlakeboxService

@Suite struct OutboundAddressGuardTests {
    let strict = OutboundAddressGuard()

    func refusalCode(_ guardian: OutboundAddressGuard, _ url: String) -> OutboundRequestError.Code? {
        do throws(OutboundRequestError) {
            _ = try guardian.checkWebhook(url)
            return nil
        } catch {
            return error.code
        }
    }

    @Test(
        "loopback, private, link-local, metadata, CGNAT, unique-local, unspecified, multicast and mapped forms are refused",
        arguments: [
            "https://127.0.0.1/", "https://127.1.2.3:8443/x", "https://10.0.0.1/", "https://172.16.5.4/",
            "https://192.168.1.1/", "https://169.254.169.254/latest/meta-data/", "https://100.64.0.1/",
            "https://0.0.0.0/", "https://224.0.0.1/", "https://[::1]/", "https://[::]/", "https://[fd00::1]/",
            "https://[fe80::1]/", "https://[ff02::1]/", "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:169.254.169.254]/", "https://[::ffff:10.0.0.1]/", "https://[64:ff9b::a9fe:a9fe]/",
            "https://2130706433/", "https://0x7f.1/", "https://localhost/", "https://LOCALHOST./",
        ])
    func refused(url: String) {
        #expect(refusalCode(strict, url) == .addressRefused, "\(url)")
    }

    @Test("a public address literal passes and is its own pin")
    func publicLiteral() throws {
        let checked = try strict.checkWebhook("https://93.184.215.14:8443/hook?x=1#frag")
        #expect(checked.url == "https://93.184.215.14:8443/hook?x=1")
        #expect(checked.addresses == [HostAddress("93.184.215.14")!])
        #expect(checked.dnsOverride().isEmpty)
    }

    @Test("a name is pinned to the first address it resolved to")
    func namePinned() throws {
        let guardian = OutboundAddressGuard(allowPrivateAddresses: true)
        let checked = try guardian.checkWebhook("http://LocalHost.:8080/hook")
        #expect(checked.host == "localhost" && checked.url == "http://localhost:8080/hook")
        let first = try #require(checked.addresses.first)
        #expect(first.refusal != nil)
        #expect(checked.dnsOverride() == ["localhost": first.description])
        let two = CheckedURL(
            url: "https://a.example/", https: true, host: "a.example", port: 443,
            addresses: [HostAddress("2001:4860::8888")!, HostAddress("8.8.8.8")!])
        #expect(two.dnsOverride(attempt: 1) == ["a.example": "2001:4860::8888"])
        #expect(two.dnsOverride(attempt: 2) == ["a.example": "8.8.8.8"])
        #expect(two.dnsOverride(attempt: 3) == ["a.example": "2001:4860::8888"])
    }

    @Test("http is refused unless private addresses are allowed; it is then accepted")
    func httpOnlyWhenPrivateAllowed() throws {
        #expect(refusalCode(strict, "http://93.184.215.14/") == .insecureScheme)
        #expect(refusalCode(strict, "http://example.invalid/") == .insecureScheme)
        let loose = OutboundAddressGuard(allowPrivateAddresses: true)
        #expect(try loose.checkWebhook("http://127.0.0.1:9/").addresses == [HostAddress("127.0.0.1")!])
    }

    @Test(
        "malformed webhook URLs are refused before anything is resolved",
        arguments: [
            "ftp://example.com/", "https://user:pw@example.com/", "https://example.com@127.0.0.1/",
            "https://exa mple.com/", "https://example.com:0/", "https://example.com:99999/", "https://[::1/",
            "https://ex%61mple.com/", "https://ex_ample.com/", "https://-a.com/", "https://a..com/", "https:///x",
            "https://例え.jp/", "https://example.com\\@127.0.0.1/", "//example.com/", "https://[127.0.0.1]/",
        ])
    func malformed(url: String) {
        #expect(refusalCode(strict, url) == .invalidURL, "\(url)")
    }

    @Test("the allow-list admits its hosts and their subdomains only")
    func allowList() {
        let guardian = OutboundAddressGuard(
            allowPrivateAddresses: true, allowedHosts: ["Example.COM.", "localhost", "[::1]", "127.0.0.1"])
        #expect(guardian.isAllowed(host: "example.com"))
        #expect(guardian.isAllowed(host: "hooks.api.example.com"))
        #expect(!guardian.isAllowed(host: "badexample.com"))
        #expect(!guardian.isAllowed(host: "example.com.evil.net"))
        #expect(guardian.isAllowed(host: "0:0::1"))
        #expect(guardian.isAllowed(host: "127.0.0.1"))
        #expect(!guardian.isAllowed(host: "127.0.0.2"))
        #expect(OutboundAddressGuard().isAllowed(host: "anything.example"))
        let other = OutboundAddressGuard(allowPrivateAddresses: true, allowedHosts: ["example.com"])
        #expect(refusalCode(other, "http://localhost:9/hook") == .hostNotAllowed)
        #expect(refusalCode(other, "http://127.0.0.1:9/hook") == .hostNotAllowed)
        #expect(throws: OutboundRequestError.self) { try other.checkWebhookSyntax("http://127.0.0.1:9/") }
    }

    @Test("the submit-time check refuses what it can decide without resolving")
    func syntaxOnly() throws {
        try strict.checkWebhookSyntax("https://hooks.example.invalid/x")
        #expect(throws: OutboundRequestError.self) { try strict.checkWebhookSyntax("https://169.254.169.254/") }
        #expect(throws: OutboundRequestError.self) { try strict.checkWebhookSyntax("http://hooks.example.invalid/") }
    }

    @Test("repository URLs: the host of https, ssh and scp-like forms is checked; local paths connect nowhere")
    func repositories() throws {
        for url in [
            "https://127.0.0.1/r.git", "ssh://git@10.1.2.3/r.git", "ssh://git@[fd00::5]/r.git",
            "https://localhost/r.git",
            "git@169.254.169.254:r.git",
        ] {
            #expect(throws: OutboundRequestError.self, "\(url)") { try strict.checkRepository(url) }
        }
        #expect(try strict.checkRepository("https://93.184.215.14/r.git") == [HostAddress("93.184.215.14")!])
        #expect(try strict.checkRepository("/srv/repo").isEmpty)
        let listed = OutboundAddressGuard(allowedHosts: ["github.com"])
        do throws(OutboundRequestError) {
            _ = try listed.checkRepository("https://gitlab.com/a/b.git")
            Issue.record("gitlab.com passed an allow-list of github.com")
        } catch {
            #expect(error.code == .hostNotAllowed)
        }
    }

    @Test("Core's list refuses the same ranges, so git fetch refuses them too")
    func coreAgrees() {
        for text in ["100.64.0.1", "169.254.169.254", "fd00::1", "::ffff:127.0.0.1", "fe80::1", "224.1.1.1", "::"] {
            #expect(HostAddress(text)?.refusal != nil, "\(text)")
        }
        #expect(HostAddress("8.8.8.8")?.refusal == nil)
        #expect(HostAddress("2606:4700::1111")?.refusal == nil)
    }
}
