import FlakeboxTestSupport
import Foundation
import NIOHTTP1
import Testing

/// What needs no job to finish: refusals, auth and address checks, against the real binary.
@Suite(
    "flakebox serve end to end (refusals)", .serialized,
    .enabled(if: ServiceTestMachine.hasBinaries, "needs the built flakebox and flakebox-sandbox"))
struct ServiceRefusalTests {
    @Test("bad requests are refused whole and queue nothing")
    func badRequests() async throws {
        let repo = try TestRepository(files: ["ok.sh": "true\n"])
        let service = try await ServiceHarness()
        defer { service.removeFiles() }
        let key = try await service.createKey("ci")
        let good: [String: Any] = ["repo": repo.path, "test_command": "sh ok.sh"]
        let cases: [(String, Int)] = [
            (ServiceHarness.text(["input": good, "s3Config": [:]]), 422),
            (ServiceHarness.text(["input": ["repo": repo.path]]), 422),
            (ServiceHarness.text(["input": good, "policy": ["ttl": 1]]), 422),
            (ServiceHarness.text(["input": good, "policy": ["executionTimeout": "x"]]), 422),
            (ServiceHarness.text(["input": good, "webhook": "ftp://x"]), 422),
            ("not json", 422),
            ("[1]", 422),
            (ServiceHarness.text(["input": 3]), 422),
        ]
        for (body, status) in cases {
            let reply = try await service.send(.POST, "/v2/flakebox/run", json: body, key: key.secret)
            #expect(reply.status == status, "\(body): \(reply)")
            #expect(reply.json?["error"] is String, "\(body): \(reply)")
        }
        let big = "{\"input\": {\"x\": \"" + String(repeating: "a", count: 11 << 20) + "\"}}"
        let tooBig = try await service.send(.POST, "/v2/flakebox/run", json: big, key: key.secret)
        #expect(tooBig.status == 413, "\(tooBig.status)")
        // /runsync takes up to 20 MB, as RunPod's does: 11 MB is read (and refused as a job),
        // 21 MB is not read.
        let readSync = try await service.send(.POST, "/v2/flakebox/runsync", json: big, key: key.secret)
        #expect(readSync.status == 422, "\(readSync.status)")
        let bigger = "{\"input\": {\"x\": \"" + String(repeating: "a", count: 21 << 20) + "\"}}"
        let tooBigSync = try await service.send(.POST, "/v2/flakebox/runsync", json: bigger, key: key.secret)
        #expect(tooBigSync.status == 413, "\(tooBigSync.status)")
        let other = try await service.send(
            .POST, "/v2/another/run", json: ServiceHarness.text(["input": good]), key: key.secret)
        #expect(other.status == 404)
        let unknown = try await service.send(
            .GET, "/v2/flakebox/status/00000000-0000-0000-0000-000000000000", key: key.secret)
        #expect(unknown.status == 404)
        let health = try await service.send(.GET, "/v2/flakebox/health", key: key.secret)
        #expect((health.json?["jobs"] as? [String: Any])?["inQueue"] as? Int == 0, "\(health)")
        let live = try await service.send(.GET, "/livez")
        #expect(live.status == 200)
        let ready = try await service.send(.GET, "/readyz")
        #expect(ready.status == 200)
        let openAPI = try await service.send(.GET, "/openapi.json")
        #expect(openAPI.status == 200 && openAPI.json?["openapi"] != nil)
    }

    @Test("auth: no key, a wrong one, a revoked one, a key in the URL, a missing scope, another key's job")
    func auth() async throws {
        let repo = try TestRepository(files: ["ok.sh": "true\n"])
        let service = try await ServiceHarness()
        defer { service.removeFiles() }
        let alice = try await service.createKey("alice")
        let bob = try await service.createKey("bob")
        let reader = try await service.createKey("reader", scopes: ["read"])
        let id = try await service.submit(
            ["repo": repo.path, "test_command": "sh ok.sh", "runs": 1], key: alice.secret)

        let none = try await service.send(.GET, "/v2/flakebox/status/\(id)")
        #expect(none.status == 401 && none.json?["error"] as? String == "401 Unauthorized", "\(none)")
        let wrong = try await service.send(.GET, "/v2/flakebox/status/\(id)", key: "fbk_wrong")
        #expect(wrong.status == 401)
        let raw = try await service.send(.GET, "/v2/flakebox/status/\(id)", headers: ["Authorization": alice.secret])
        #expect(raw.status == 200, "raw Authorization: \(raw)")
        let inURL = try await service.send(.GET, "/v2/flakebox/status/\(id)?api_key=\(alice.secret)")
        #expect(inURL.status == 400)
        let foreign = try await service.send(.GET, "/v2/flakebox/status/\(id)", key: bob.secret)
        #expect(foreign.status == 404)
        let foreignCancel = try await service.send(.POST, "/v2/flakebox/cancel/\(id)", key: bob.secret)
        #expect(foreignCancel.status == 404)
        let readOnly = try await service.send(
            .POST, "/v2/flakebox/run", json: ServiceHarness.text(["input": ["repo": repo.path, "test_command": "x"]]),
            key: reader.secret)
        #expect(readOnly.status == 403)
        let metrics = try await service.send(.GET, "/metrics", key: alice.secret)
        #expect(metrics.status == 403)

        try await service.revokeKey(bob.id)
        let deadline = ContinuousClock.now + .seconds(90)
        var revoked = 0
        while ContinuousClock.now < deadline {
            revoked = try await service.send(.GET, "/v2/flakebox/health", key: bob.secret).status
            if revoked == 401 { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(revoked == 401)
    }

    @Test("a repository on a private address is refused at submit unless private addresses are allowed")
    func privateAddress() async throws {
        let service = try await ServiceHarness(privateAddresses: false)
        defer { service.removeFiles() }
        let key = try await service.createKey("ci")
        for repo in ["https://127.0.0.1/r.git", "https://10.0.0.1/r.git", "https://169.254.169.254/r.git"] {
            let body = ServiceHarness.text(["input": ["repo": repo, "test_command": "true"]])
            let reply = try await service.send(.POST, "/v2/flakebox/run", json: body, key: key.secret)
            let host = String(repo.dropFirst(8).prefix { $0 != "/" })
            #expect(reply.status == 422, "\(repo): \(reply)")
            #expect(reply.text.contains(host), "\(repo): \(reply)")
        }
        let hook = ServiceHarness.text([
            "input": ["repo": "https://8.8.8.8/x/y.git", "test_command": "true"], "webhook": "https://10.0.0.1/hook",
        ])
        let refused = try await service.send(.POST, "/v2/flakebox/run", json: hook, key: key.secret)
        #expect(refused.status == 422 && refused.text.contains("10.0.0.1"), "\(refused)")
        let plain = ServiceHarness.text([
            "input": ["repo": "https://8.8.8.8/x/y.git", "test_command": "true"], "webhook": "http://8.8.4.4/h",
        ])
        let insecure = try await service.send(.POST, "/v2/flakebox/run", json: plain, key: key.secret)
        #expect(insecure.status == 422, "\(insecure)")
        let health = try await service.send(.GET, "/v2/flakebox/health", key: key.secret)
        #expect((health.json?["jobs"] as? [String: Any])?["inQueue"] as? Int == 0)
    }
}
