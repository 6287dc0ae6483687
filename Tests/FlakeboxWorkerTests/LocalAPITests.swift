import FlakeboxTestSupport
import Foundation
import NIOHTTP1
import Testing

extension WorkerTests {
    /// The local API (`--rp_serve_api`, docs/RUNPOD_PROTOCOL.md §16.3) running jobs.
    @Suite(
        "local API: jobs",
        .enabled(
            if: WorkerTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"),
        .timeLimit(.minutes(3)))
    struct LocalAPIJobTests {
        @Test("/runsync answers COMPLETED with the summary; /run answers IN_PROGRESS, then /status COMPLETED")
        func runAndStatus() async throws {
            try await WorkerHarness.run { harness in
                let repo = try TestRepository(files: ["t.sh": "[ $((TEST_SEED % 2)) -eq 0 ]\n"])
                let input = String(
                    decoding: JSON.encode(["input": WorkerHarness.jobInput(repo: repo.path)]), as: UTF8.self)
                let api = LocalAPIClient(port: try LocalAPIClient.freePort())
                let worker = try harness.startWorker(
                    [
                        "--allow-local-repos", "--rp_serve_api", "--rp_api_host", "127.0.0.1", "--rp_api_port",
                        "\(api.port)",
                    ],
                    environment: harness.baseEnvironment)
                try #require(await api.waitUntilUp(worker), "the local API did not come up\n\(worker.logTail)")

                let sync = try await api.send(.POST, "/runsync", json: input)
                #expect(sync.status == 200, "\(sync.text)")
                let syncBody = try #require(sync.body, "\(sync.text)")
                #expect(Self.isTestID(syncBody["id"]), "\(sync.text)")
                #expect(syncBody["status"] as? String == "COMPLETED", "\(sync.text)")
                let output = try #require(syncBody["output"] as? [String: Any], "\(sync.text)")
                #expect(output["total_runs"] as? Int == 2 && output["failures"] as? Int == 1, "\(sync.text)")

                let failed = try await api.send(
                    .POST, "/runsync", json: #"{"input": {"test_command": "true", "runs": 0}}"#)
                #expect(failed.status == 200, "\(failed.text)")
                #expect(failed.body?["status"] as? String == "FAILED", "\(failed.text)")
                #expect(failed.body?["error"] != nil, "\(failed.text)")

                let run = try await api.send(.POST, "/run", json: input)
                #expect(run.status == 200, "\(run.text)")
                let runBody = try #require(run.body, "\(run.text)")
                #expect(Set(runBody.keys) == ["id", "status"], "\(run.text)")
                #expect(runBody["status"] as? String == "IN_PROGRESS", "\(run.text)")
                let id = try #require(runBody["id"] as? String)
                #expect(Self.isTestID(id), "\(id)")

                var status = try await api.send(.POST, "/status/\(id)")
                let deadline = ContinuousClock.now + .seconds(90)
                while status.body?["status"] as? String != "COMPLETED", ContinuousClock.now < deadline {
                    #expect(
                        ["IN_QUEUE", "IN_PROGRESS"].contains(status.body?["status"] as? String ?? ""), "\(status.text)")
                    try await Task.sleep(for: .milliseconds(300))
                    status = try await api.send(.POST, "/status/\(id)")
                }
                #expect(status.status == 200)
                #expect(status.body?["id"] as? String == id, "\(status.text)")
                #expect(status.body?["status"] as? String == "COMPLETED", "\(status.text)")
                #expect((status.body?["output"] as? [String: Any])?["total_runs"] as? Int == 2, "\(status.text)")
                let viaGet = try await api.send(.GET, "/status/\(id)")
                #expect(viaGet.status == 200, "\(viaGet.text)")
                #expect(viaGet.body?["status"] as? String == "COMPLETED", "\(viaGet.text)")
                #expect((viaGet.body?["output"] as? [String: Any])?["total_runs"] as? Int == 2, "\(viaGet.text)")
                #expect(worker.termination == nil, "\(worker.logTail)")
            }
        }

        /// `test-<uuid>`, as the SDK's simulator names jobs.
        static func isTestID(_ value: Any?) -> Bool {
            guard let id = value as? String, id.hasPrefix("test-") else { return false }
            return UUID(uuidString: String(id.dropFirst(5))) != nil
        }
    }

    /// The local API's answers that need no job to run.
    @Suite(
        "local API: routes",
        .enabled(if: WorkerTestMachine.hasBinaries, "needs the built flakebox and flakebox-sandbox"),
        .timeLimit(.minutes(2)))
    struct LocalAPIRouteTests {
        @Test("unknown ids are FAILED \"Job ID not found\" with 200; input not an object is 422 with detail; /health")
        func routes() async throws {
            try await WorkerHarness.run { harness in
                let api = LocalAPIClient(port: try LocalAPIClient.freePort())
                let worker = try harness.startWorker(
                    [
                        "--allow-local-repos", "--rp_serve_api", "--rp_api_host", "127.0.0.1", "--rp_api_port",
                        "\(api.port)",
                    ],
                    environment: harness.baseEnvironment)
                try #require(await api.waitUntilUp(worker), "the local API did not come up\n\(worker.logTail)")

                for method in [HTTPMethod.POST, .GET] {
                    let reply = try await api.send(method, "/status/test-unknown")
                    #expect(reply.status == 200, "\(method): \(reply.text)")
                    #expect(reply.body?["id"] as? String == "test-unknown", "\(reply.text)")
                    #expect(reply.body?["status"] as? String == "FAILED", "\(reply.text)")
                    #expect(reply.body?["error"] as? String == "Job ID not found", "\(reply.text)")
                }
                for route in ["/runsync", "/run"] {
                    for body in [#"{"input": [1, 2]}"#, #"{"input": "tests"}"#, #"{"input": null}"#, "{}"] {
                        let reply = try await api.send(.POST, route, json: body)
                        #expect(reply.status == 422, "\(route) \(body): \(reply.status) \(reply.text)")
                        #expect(reply.body?["detail"] is [Any], "\(route) \(body): \(reply.text)")
                    }
                }
                let health = try await api.send(.GET, "/health")
                #expect(health.status == 200, "\(health.text)")
                #expect(health.body?["jobs"] is [String: Any], "\(health.text)")
                #expect(health.body?["workers"] is [String: Any], "\(health.text)")
            }
        }
    }
}
