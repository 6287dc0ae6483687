import FlakeboxJobs
import FlakeboxService
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// The authenticator in a real server on 127.0.0.1 (HummingbirdTesting's `.live`).
@Suite struct APIKeyAuthenticatorTests {
    let reader = APIKeySecret.newKey(name: "reader", scopes: [.read])
    let submitter = APIKeySecret.newKey(name: "ci", scopes: [.submit, .read])
    let admin = APIKeySecret.newKey(name: "ops", scopes: [.admin])

    func store() -> CountingKeyStore { CountingKeyStore([reader.key, submitter.key, admin.key]) }

    @Test("no key: 401 where a scope is needed, nothing where none is")
    func noKey() async throws {
        try await makeAuthApp(keys: store()).app.test(.live) { client in
            let refused = try await client.execute(uri: "/v2/flakebox/health", method: .get)
            #expect(refused.status == .unauthorized)
            #expect(errorText(refused.body) == "401 Unauthorized")
            #expect(refused.headers[.contentType] == "application/json")
            #expect(try await client.execute(uri: "/open", method: .get).status == .ok)
        }
    }

    @Test("a wrong key, an empty one and a malformed header are 401 with RunPod's body")
    func wrongKey() async throws {
        try await makeAuthApp(keys: store()).app.test(.live) { client in
            for header in ["Bearer fbk_wrong", "fbk_" + String(repeating: "x", count: 43), "Bearer ", "Bearer a b"] {
                let reply = try await client.execute(
                    uri: "/v2/flakebox/health", method: .get, headers: [.authorization: header])
                #expect(reply.status == .unauthorized, "\(header)")
                #expect(errorText(reply.body) == "401 Unauthorized")
            }
        }
    }

    @Test("Bearer, its lowercase and the raw secret all authenticate")
    func bearerAndRaw() async throws {
        try await makeAuthApp(keys: store()).app.test(.live) { client in
            for header in ["Bearer \(reader.secret)", "bearer \(reader.secret)", reader.secret] {
                let reply = try await client.execute(
                    uri: "/v2/flakebox/health", method: .get, headers: [.authorization: header])
                #expect(reply.status == .ok, "\(header.prefix(10))…")
                #expect(String(buffer: reply.body) == reader.key.id)
            }
        }
    }

    @Test("a key in the query string is 400, even beside a good header, and never looked up")
    func keyInQueryRefused() async throws {
        let keys = store()
        try await makeAuthApp(keys: keys).app.test(.live) { client in
            for name in ["api_key", "apikey", "key", "token", "access_token", "API_KEY"] {
                let reply = try await client.execute(
                    uri: "/v2/flakebox/health?\(name)=\(submitter.secret)", method: .get,
                    headers: bearer(submitter.secret))
                #expect(reply.status == .badRequest, "\(name)")
                #expect(errorText(reply.body)?.contains("query string") == true)
            }
            #expect(await keys.lookups == 0)
            let other = try await client.execute(
                uri: "/v2/flakebox/health?wait=5", method: .get, headers: bearer(submitter.secret))
            #expect(other.status == .ok, "other query parameters are fine")
        }
    }

    @Test("a key without the scope is 403; admin has every scope")
    func scopes() async throws {
        try await makeAuthApp(keys: store()).app.test(.live) { client in
            let body = runBody(runs: 1, timeout: 10)
            let refused = try await client.execute(
                uri: "/v2/flakebox/run", method: .post, headers: bearer(reader.secret), body: body)
            #expect(refused.status == .forbidden)
            #expect(errorText(refused.body)?.contains("submit") == true)
            let allowed = try await client.execute(
                uri: "/v2/flakebox/run", method: .post, headers: bearer(admin.secret), body: body)
            #expect(allowed.status == .ok)
            #expect(
                try await client.execute(uri: "/v2/flakebox/health", method: .get, headers: bearer(admin.secret))
                    .status == .ok)
        }
    }

    @Test(
        "a revoked key is 401; a key just used is not looked up again; a revocation takes effect once the cache's time has passed"
    )
    func revoked() async throws {
        let keys = store()
        _ = try await keys.revoke(id: admin.key.id, at: Date())
        // A cache time no loaded machine outlasts between two requests, to see the cache work.
        try await makeAuthApp(keys: keys, cacheTTL: .seconds(60)).app.test(.live) { client in
            let dead = try await client.execute(uri: "/v2/flakebox/health", method: .get, headers: bearer(admin.secret))
            #expect(dead.status == .unauthorized && errorText(dead.body) == "401 Unauthorized")
            #expect(
                try await client.execute(uri: "/v2/flakebox/health", method: .get, headers: bearer(reader.secret))
                    .status == .ok)
            let lookups = await keys.lookups
            #expect(
                try await client.execute(uri: "/v2/flakebox/health", method: .get, headers: bearer(reader.secret))
                    .status == .ok)
            #expect(await keys.lookups == lookups, "a key just used is not looked up again")
        }
        // A short one, waited out (a sleep lasts at least its time, however loaded the machine).
        try await makeAuthApp(keys: keys, cacheTTL: .milliseconds(300)).app.test(.live) { client in
            #expect(
                try await client.execute(uri: "/v2/flakebox/health", method: .get, headers: bearer(reader.secret))
                    .status == .ok)
            #expect(try await keys.revoke(id: reader.key.id, at: Date()))
            try await Task.sleep(for: .milliseconds(400))
            let after = try await client.execute(
                uri: "/v2/flakebox/health", method: .get, headers: bearer(reader.secret))
            #expect(after.status == .unauthorized)
        }
    }
}
