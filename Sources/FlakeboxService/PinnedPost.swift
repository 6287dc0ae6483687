import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One POST to a checked URL, connected to the address the check saw and nowhere else.
///
/// AsyncHTTPClient has no resolver hook, but its `dnsOverride` maps the URL's host name to an
/// address to connect to while TLS still sends that name (SNI) and verifies the certificate
/// against it; given an IP literal it resolves nothing. So each try builds a client whose only
/// override is the checked host → one of its checked addresses: the name in the URL is never looked
/// up again. Redirects are not followed (a 3xx is a failed try), no proxy is used, the response
/// body is read up to a limit and discarded, and the whole try has one deadline.
struct PinnedPost: Sendable {
    var timeout: Duration
    var maxResponseBytes: Int
    var eventLoopGroup: any EventLoopGroup

    struct Outcome: Sendable, Equatable {
        /// The response's status code, when one came.
        var status: Int?
        /// Why the try failed; nil for a 2xx.
        var error: String?
        /// Bytes of the response body read (at most the limit).
        var bodyBytes: Int
    }

    func post(_ checked: CheckedURL, attempt: Int = 1, headers: [(String, String)], body: Data) async -> Outcome {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .nanoseconds(timeout.nanoseconds), read: .nanoseconds(timeout.nanoseconds)),
            proxy: nil, decompression: .disabled)
        configuration.dnsOverride = checked.dnsOverride(attempt: attempt)
        configuration.httpVersion = .http1Only
        let client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
        let outcome: Outcome
        do {
            outcome = try await withDeadline(timeout) { try await exchange(client, checked, headers, body) }
        } catch let error as TryTimedOut {
            outcome = Outcome(status: error.status, error: "no complete reply within \(timeout)", bodyBytes: 0)
        } catch {
            outcome = Outcome(status: nil, error: "\(error)", bodyBytes: 0)
        }
        try? await client.shutdown()
        return outcome
    }

    private func exchange(
        _ client: HTTPClient, _ checked: CheckedURL, _ headers: [(String, String)], _ body: Data
    ) async throws -> Outcome {
        var request = HTTPClientRequest(url: checked.url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, deadline: .now() + .nanoseconds(timeout.nanoseconds))
        let status = Int(response.status.code)
        var read = 0
        // Read (and drop) at most the limit; leaving the loop early ends the stream and the
        // connection, which is shut down with the client anyway.
        for try await chunk in response.body {
            read += chunk.readableBytes
            if read >= maxResponseBytes { break }
        }
        let error: String?
        switch status {
        case 200..<300: error = nil
        case 300..<400:
            error = "HTTP \(status): redirects are not followed"
        default: error = "HTTP \(status)"
        }
        return Outcome(status: status, error: error, bodyBytes: min(read, maxResponseBytes))
    }

    struct TryTimedOut: Error { var status: Int? }

    /// Runs `operation`, cancelled when `limit` passes first.
    private func withDeadline<T: Sendable>(
        _ limit: Duration, _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw TryTimedOut() }
            return value
        }
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
