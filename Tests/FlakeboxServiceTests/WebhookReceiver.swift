import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP server on a loopback port for the webhook tests: it counts every connection (a
/// refused webhook must make none), records every request, and answers from a script.
final class WebhookReceiver: Sendable {
    struct Request: Sendable {
        var method: String
        var uri: String
        /// Lower-cased names; the last value of a repeated name.
        var headers: [String: String]
        var body: Data
    }

    enum Answer: Sendable {
        case status(Int)
        /// 302 to another path of this receiver: the sender must not follow it.
        case redirect
        /// 200 with a body that never ends: the sender must stop reading at its limit.
        case endlessBody
        /// Never answers: the sender's per-try timeout must end the try.
        case silence
    }

    let port: Int
    let host: String
    private let channel: any Channel
    private let state: Mutex<(connections: Int, requests: [Request], script: [Answer])>

    var connections: Int { state.withLock { $0.connections } }
    var requests: [Request] { state.withLock { $0.requests } }

    private init(port: Int, host: String, channel: any Channel, script: [Answer]) {
        self.port = port
        self.host = host
        self.channel = channel
        self.state = Mutex((connections: 0, requests: [], script: script))
    }

    /// Listens on `host` (127.0.0.1 unless told) at a port the kernel picks; answers `script` in
    /// order, then 200.
    static func start(host: String = "127.0.0.1", script: [Answer] = []) async throws -> WebhookReceiver {
        let box = ReceiverBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    box.receiver?.connected()
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(ReceiverHandler(box: box))
                }
            }
            .bind(host: host, port: 0).get()
        let port = channel.localAddress?.port ?? 0
        let receiver = WebhookReceiver(port: port, host: host, channel: channel, script: script)
        box.set(receiver)
        return receiver
    }

    /// `http://HOST:PORT` (IPv6 hosts bracketed).
    var base: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    func stop() async {
        try? await channel.close()
    }

    fileprivate func connected() { state.withLock { $0.connections += 1 } }

    fileprivate func received(_ request: Request) -> Answer {
        state.withLock {
            $0.requests.append(request)
            return $0.script.isEmpty ? .status(200) : $0.script.removeFirst()
        }
    }
}

/// Lets the channel initializer reach the receiver created after the bind.
private final class ReceiverBox: Sendable {
    private let value = Mutex<WebhookReceiver?>(nil)
    var receiver: WebhookReceiver? { value.withLock { $0 } }
    func set(_ receiver: WebhookReceiver) { value.withLock { $0 = receiver } }
}

private final class ReceiverHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let box: ReceiverBox
    private var head: HTTPRequestHead?
    private var body = Data()

    init(box: ReceiverBox) { self.box = box }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = Data()
        case .body(var buffer):
            body.append(contentsOf: buffer.readBytes(length: buffer.readableBytes) ?? [])
        case .end:
            guard let head, let receiver = box.receiver else { return }
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            let answer = receiver.received(
                .init(method: "\(head.method)", uri: head.uri, headers: headers, body: body))
            respond(answer, context: context, receiver: receiver)
        }
    }

    private func respond(_ answer: WebhookReceiver.Answer, context: ChannelHandlerContext, receiver: WebhookReceiver) {
        var headers = HTTPHeaders()
        switch answer {
        case .silence:
            return
        case .status(let code):
            headers.add(name: "Content-Length", value: "2")
            context.write(
                wrapOutboundOut(.head(.init(version: .http1_1, status: .init(statusCode: code), headers: headers))),
                promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .redirect:
            headers.add(name: "Location", value: "\(receiver.base)/elsewhere")
            headers.add(name: "Content-Length", value: "0")
            context.write(
                wrapOutboundOut(.head(.init(version: .http1_1, status: .found, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        case .endlessBody:
            headers.add(name: "Transfer-Encoding", value: "chunked")
            context.writeAndFlush(
                wrapOutboundOut(.head(.init(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            pump(context: context, chunk: ByteBuffer(repeating: UInt8(ascii: "x"), count: 16 << 10))
        }
    }

    /// Writes the next chunk when the last one is flushed, until the peer goes away.
    private func pump(context: ChannelHandlerContext, chunk: ByteBuffer) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(chunk)))).whenSuccess {
            let (handler, context) = loopBound.value
            handler.pump(context: context, chunk: chunk)
        }
    }
}
