import FlakeboxCore
import Foundation
import NIOPosix
import Testing

@testable import FlakeboxService

/// The pin itself: a name that cannot resolve (`.invalid` never does) reaches the receiver only
/// through the address it was pinned to, and its `Host` header keeps the name.
@Suite struct PinnedPostTests {
    let poster = PinnedPost(
        timeout: .seconds(10), maxResponseBytes: 64 << 10, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
    /// For the tries that must fail (a resolver or a dead address may hang rather than refuse).
    let impatient = PinnedPost(
        timeout: .seconds(3), maxResponseBytes: 64 << 10, eventLoopGroup: MultiThreadedEventLoopGroup.singleton)

    func checked(_ port: Int, addresses: [HostAddress]) -> CheckedURL {
        CheckedURL(
            url: "http://pinned.invalid:\(port)/hook", https: false, host: "pinned.invalid", port: port,
            addresses: addresses)
    }

    @Test("the connection goes to the pinned address; the name is not resolved again")
    func pinned() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let outcome = await poster.post(
            checked(receiver.port, addresses: [HostAddress("127.0.0.1")!]), headers: [], body: Data("x".utf8))
        #expect(outcome.error == nil && outcome.status == 200, "\(outcome)")
        #expect(receiver.requests.first?.headers["host"] == "pinned.invalid:\(receiver.port)")
    }

    @Test("the control: without a pin the same URL resolves the name, fails, and connects nowhere")
    func unpinned() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        let outcome = await impatient.post(checked(receiver.port, addresses: []), headers: [], body: Data("x".utf8))
        #expect(outcome.status == nil && outcome.error != nil)
        #expect(receiver.connections == 0)
    }

    @Test("a later try takes the next checked address")
    func rotates() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { Task { await receiver.stop() } }
        // 127.0.0.2 is loopback too, but nothing listens there on this port: the first try fails.
        let url = checked(receiver.port, addresses: [HostAddress("127.0.0.2")!, HostAddress("127.0.0.1")!])
        let first = await impatient.post(url, attempt: 1, headers: [], body: Data("x".utf8))
        let second = await poster.post(url, attempt: 2, headers: [], body: Data("x".utf8))
        #expect(first.error != nil && first.status == nil)
        #expect(second.error == nil && second.status == 200)
        #expect(receiver.requests.count == 1)
    }
}
