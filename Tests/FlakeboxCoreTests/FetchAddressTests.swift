import FlakeboxCore
import Testing

/// Remote input cannot aim the host's git at the host itself, its private networks or a cloud's
/// metadata service (server-side request forgery).
@Suite("Fetch: addresses remote input may reach")
struct FetchAddressTests {
    @Test(
        "special-purpose addresses are refused, public ones accepted",
        arguments: [
            ("127.0.0.1", false), ("127.45.6.7", false), ("0.0.0.0", false), ("10.1.2.3", false),
            ("172.16.0.1", false), ("172.31.255.255", false), ("172.32.0.1", true), ("192.168.1.1", false),
            ("169.254.169.254", false), ("100.64.0.1", false), ("100.128.0.1", true), ("198.18.0.1", false),
            ("224.0.0.1", false), ("255.255.255.255", false), ("192.0.2.1", false), ("8.8.8.8", true),
            ("140.82.112.3", true), ("::1", false), ("::", false), ("fe80::1", false), ("fc00::1", false),
            ("fd12:3456::1", false), ("ff02::1", false), ("::ffff:127.0.0.1", false), ("::ffff:10.0.0.1", false),
            ("::ffff:8.8.8.8", true), ("64:ff9b::a9fe:a9fe", false), ("2002:7f00:1::1", false),
            ("2001:db8::1", false), ("2606:4700::1111", true),
        ])
    func classification(address: String, isPublic: Bool) throws {
        let parsed = try #require(HostAddress(address))
        #expect((parsed.refusal == nil) == isPublic, "\(address): \(parsed.refusal ?? "public")")
    }

    @Test("the host and port git will connect to, from each URL form")
    func endpoints() {
        #expect(RemoteHostGuard.endpoint(of: "https://example.com/a/b.git")! == ("example.com", 443, true))
        #expect(RemoteHostGuard.endpoint(of: "https://example.com:8443/a")! == ("example.com", 8443, true))
        #expect(RemoteHostGuard.endpoint(of: "https://[::1]:9/a")! == ("::1", 9, true))
        #expect(RemoteHostGuard.endpoint(of: "ssh://git@host.example:2222/x")! == ("host.example", 2222, false))
        #expect(RemoteHostGuard.endpoint(of: "git@github.com:o/r.git")! == ("github.com", 22, false))
        #expect(RemoteHostGuard.endpoint(of: "/tmp/repo") == nil)
    }

    @Test(
        "a remote repository on the host's own or a private address is refused before git connects",
        arguments: ["127.0.0.1", "localhost", "0x7f.1", "2130706433", "[::1]", "169.254.169.254", "10.0.0.1"])
    func refusedBeforeConnecting(host: String) async throws {
        let listener = try LoopbackListener()
        defer { listener.close() }
        let root = FetchFixtures.temporaryDirectory()
        defer { FetchFixtures.remove(root) }
        // Remote input: allowLocal false, so the scope is public addresses only.
        let request = FetchRequest(repo: "https://\(host):\(listener.port)/repo.git", timeoutSeconds: 20)
        #expect(request.addressScope == .publicOnly)
        do {
            _ = try await RepositoryFetcher.fetch(request, into: "\(root)/checkout")
            Issue.record("a fetch from \(host) was not refused")
        } catch {
            #expect(error.code == .addressRefused, "\(error)")
            #expect(error.message.contains("jobs from the network may reach public addresses only"))
        }
        #expect(!listener.hasPendingConnection(within: 0.5), "git connected to \(host)")
    }

    @Test("the command line may still name a repository on loopback")
    func commandLineMayUseLoopback() {
        #expect(FetchRequest(repo: "https://127.0.0.1/x", allowLocal: true).addressScope == .any)
    }

    @Test("git is pinned to the checked addresses and refuses redirects")
    func pinnedArguments() throws {
        let entry = RemoteHostGuard.resolveEntry(
            host: "example.com", port: 443,
            addresses: [try #require(HostAddress("93.184.215.14")), try #require(HostAddress("2606:2800::1"))])
        #expect(entry == "example.com:443:93.184.215.14,[2606:2800::1]")
    }
}
