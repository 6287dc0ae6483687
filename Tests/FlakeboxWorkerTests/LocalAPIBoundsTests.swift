import FlakeboxTestSupport
import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

extension WorkerTests {
    /// The local API holds under floods: a bounded queue, idle connections closed, an optional token.
    @Suite(
        "local API: bounds",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox and flakebox-sandbox"),
        .timeLimit(.minutes(3)))
    struct LocalAPIBoundsTests {
        static func serve(_ harness: WorkerHarness, environment: [String: String] = [:]) async throws -> (
            LocalAPIClient, WorkerProcess
        ) {
            let api = LocalAPIClient(port: try LocalAPIClient.freePort())
            let worker = try harness.startWorker(
                [
                    "--allow-local-repos", "--rp_serve_api", "--rp_api_host", "127.0.0.1", "--rp_api_port",
                    "\(api.port)",
                ],
                environment: harness.baseEnvironment.merging(environment) { $1 })
            try #require(await api.waitUntilUp(worker), "the local API did not come up\n\(worker.logTail)")
            return (api, worker)
        }

        @Test("with FLAKEBOX_LOCAL_API_TOKEN set, requests without the bearer token get 401")
        func token() async throws {
            try await WorkerHarness.run { harness in
                let (api, _) = try await Self.serve(harness, environment: ["FLAKEBOX_LOCAL_API_TOKEN": "s3cret"])
                #expect(try await api.send(.GET, "/health").status == 401)
                #expect(try await api.send(.GET, "/health", headers: ["Authorization": "Bearer s3cre"]).status == 401)
                #expect(try await api.send(.GET, "/health", headers: ["Authorization": "Bearer s3crex"]).status == 401)
                #expect(try await api.send(.GET, "/health", headers: ["Authorization": "s3cret"]).status == 401)
                #expect(try await api.send(.GET, "/health", headers: ["Authorization": "Bearer s3cret"]).status == 200)
                let run = try await api.send(.POST, "/run", json: #"{"input": {}}"#)
                #expect(run.status == 401)
            }
        }

        @Test("an idle connection is closed by the server")
        func idleConnection() async throws {
            try await WorkerHarness.run { harness in
                let (api, _) = try await Self.serve(harness)
                let port = api.port
                let closed = await onOwnThread { Self.connectionClosesWhileIdle(port: port, within: 60) }
                #expect(closed, "an idle connection was still open after 60 s")
            }
        }

        @Test(
            "a full queue answers 429 with Retry-After; a body over the cap is 413",
            .enabled(
                if: WorkerTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing")
        )
        func queueFlood() async throws {
            try await WorkerHarness.run { harness in
                let (api, _) = try await Self.serve(harness)
                let repo = try TestRepository(files: ["t.txt": "x\n"])
                let input = String(
                    decoding: JSON.encode([
                        "input": ["repo": repo.path, "test_command": "sleep 60", "runs": 1] as [String: Any]
                    ]), as: UTF8.self)
                var accepted: [String] = []
                var refused = 0
                for _ in 0..<40 {
                    let reply = try await api.send(.POST, "/run", json: input)
                    if reply.status == 200, let id = reply.body?["id"] as? String {
                        accepted.append(id)
                    } else {
                        #expect(reply.status == 429, "\(reply.status) \(reply.text)")
                        refused += 1
                    }
                }
                // One running and 32 queued.
                #expect(accepted.count == 33 && refused == 7, "accepted \(accepted.count), refused \(refused)")
                for id in accepted { _ = try await api.send(.POST, "/cancel/\(id)") }
                let big = #"{"input": {"x": ""# + String(repeating: "a", count: 21 << 20) + #""}}"#
                let tooLarge = try await api.send(.POST, "/run", json: big)
                #expect(tooLarge.status == 413, "\(tooLarge.status)")
            }
        }

        /// Connects, sends nothing, and waits for the server to close the connection.
        static func connectionClosesWhileIdle(port: Int, within seconds: Double) -> Bool {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { return false }
            defer { close(fd) }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else { return false }
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, Int32(seconds * 1000)) > 0 else { return false }
            var byte: UInt8 = 0
            return read(fd, &byte, 1) <= 0
        }
    }
}
