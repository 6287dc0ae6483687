import NIOCore
import NIOHTTP1
import NIOPosix

/// The stand-in's connection handler: gathers each request whole, hands it to the actor, and
/// writes whatever reply the actor settles on (a response, a dropped connection, raw bytes).
/// Lives on its channel's event loop; the reply comes back through a promise of that loop.
final class StandInHTTPHandler: ChannelInboundHandler {
    /// An HTTP server on 127.0.0.1 at a port the kernel picks, every request into `inbox`.
    static func listen(inbox: AsyncStream<StandInRunPod.Incoming>.Continuation) async throws -> (
        channel: any Channel, port: Int
    ) {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(StandInHTTPHandler(inbox: inbox))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw StandInError(message: "the stand-in bound no port")
        }
        return (channel, port)
    }

    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let inbox: AsyncStream<StandInRunPod.Incoming>.Continuation
    private var head: HTTPRequestHead?
    private var arrival = ContinuousClock.now
    private var body: [UInt8] = []
    /// False once the peer has gone: a reply decided later (a held long-poll) is then dropped.
    private var active = true

    init(inbox: AsyncStream<StandInRunPod.Incoming>.Continuation) {
        self.inbox = inbox
    }

    func channelInactive(context: ChannelHandlerContext) {
        active = false
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            arrival = .now
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            self.head = nil
            let request = RecordedRequest(
                method: head.method.rawValue, uri: head.uri,
                headers: head.headers.map { RecordedRequest.Header(name: $0.name, value: $0.value) }, body: body,
                arrival: arrival)
            let promise = context.eventLoop.makePromise(of: StandInReply.self)
            let keepAlive = head.isKeepAlive
            promise.futureResult.assumeIsolated().whenComplete { result in
                switch result {
                case .success(let reply): self.send(reply, keepAlive: keepAlive, context: context)
                case .failure: if self.active { context.close(promise: nil) }
                }
            }
            if case .terminated = inbox.yield(StandInRunPod.Incoming(request: request, reply: promise)) {
                promise.fail(ChannelError.ioOnClosedChannel)
            }
        }
    }

    private func send(_ reply: StandInReply, keepAlive: Bool, context: ChannelHandlerContext) {
        guard active else { return }
        switch reply {
        case .status(let code):
            respond(code, contentType: nil, body: [], keepAlive: keepAlive, context: context)
        case .job(_, let body):
            respond(200, contentType: "application/json", body: body, keepAlive: keepAlive, context: context)
        case .raw(let status, let contentType, let body):
            respond(status, contentType: contentType, body: body, keepAlive: keepAlive, context: context)
        case .dropConnection:
            context.close(promise: nil)
        case .garbage(let bytes):
            // Written from the encoder's context, i.e. below the HTTP encoder, straight to the socket.
            guard let raw = try? context.pipeline.syncOperations.context(handlerType: HTTPResponseEncoder.self)
            else {
                context.close(promise: nil)
                return
            }
            raw.writeAndFlush(NIOAny(ByteBuffer(bytes: bytes))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .after(_, let next):
            // The actor resolves holds before replying; kept total for the compiler's sake.
            send(next, keepAlive: keepAlive, context: context)
        }
    }

    private func respond(
        _ code: Int, contentType: String?, body: [UInt8], keepAlive: Bool, context: ChannelHandlerContext
    ) {
        var headers = HTTPHeaders()
        if let contentType { headers.add(name: "Content-Type", value: contentType) }
        // A 1xx, 204 or 304 reply has no body and must not say it has one.
        let bodiless = code == 204 || code == 304 || (100..<200).contains(code)
        if !bodiless { headers.add(name: "Content-Length", value: "\(body.count)") }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: code), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !bodiless, !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        }
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
