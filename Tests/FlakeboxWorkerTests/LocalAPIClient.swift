import AsyncHTTPClient
import FlakeboxTestSupport
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// A client of the worker's local API (`--rp_serve_api`, docs/RUNPOD_PROTOCOL.md §16.3).
struct LocalAPIClient: Sendable {
    struct Reply {
        var status: Int
        var body: [String: Any]?
        var text: String
    }

    let port: Int

    /// A port nothing listens on now: the kernel's pick for a socket bound to 127.0.0.1:0, then closed.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StandInError(message: "socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw StandInError(message: "bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func send(
        _ method: HTTPMethod, _ path: String, json: String? = nil, headers: [String: String] = [:], timeout: Int64 = 120
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        let body = try await response.body.collect(upTo: 32 << 20)
        let bytes = Array(buffer: body)
        return Reply(
            status: Int(response.status.code), body: JSON.object(bytes), text: String(decoding: bytes, as: UTF8.self))
    }

    /// Waits until `/health` answers; false if `worker` exits first or `timeout` seconds pass.
    func waitUntilUp(_ worker: WorkerProcess, timeout: Double = 60) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while ContinuousClock.now < deadline, worker.termination == nil {
            // 401: up, and asking for a token.
            if let reply = try? await send(.GET, "/health", timeout: 5), [200, 401].contains(reply.status) {
                return true
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return false
    }
}
