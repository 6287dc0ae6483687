import FlakeboxJobs
import FlakeboxSandbox
import FlakeboxService
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// `flakebox serve keys …` through the built binary on a temporary database.
@Suite struct ServeKeysCommandTests {
    let flakebox = HelperLocator.executableDirectory().appendingPathComponent("flakebox").path

    func keys(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await runProgram(flakebox, ["serve", "keys"] + arguments)
    }

    /// GET /v2/flakebox/health with `secret`, through the authenticator over the database's keys.
    func healthStatus(database path: String, secret: String) async throws -> HTTPResponse.Status {
        let database = try await ServiceDatabase.open(path: path)
        do {
            let status = try await makeAuthApp(keys: database.keys).app.test(.live) { client in
                try await client.execute(uri: "/v2/flakebox/health", method: .get, headers: bearer(secret)).status
            }
            try await database.close()
            return status
        } catch {
            try? await database.close()
            throw error
        }
    }

    @Test(
        "create prints a secret that authenticates; list never shows secrets; revoke works",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: HelperLocator.executableDirectory().path + "/flakebox"),
            "needs the built flakebox binary (swift build)"))
    func createListRevoke() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("db/service.db")

        let created = try await keys(
            ["create", "--database", path, "--name", "ci runner", "--scope", "read", "--max-queued", "3", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(created.stdout.utf8)) as? [String: Any])
        let secret = try #require(object["secret"] as? String)
        let id = try #require(object["id"] as? String)
        let webhookSecret = try #require(object["webhook_secret"] as? String)
        #expect(secret.hasPrefix("fbk_") && id.hasPrefix("key_") && webhookSecret.hasPrefix("whsec_"))
        #expect(object["name"] as? String == "ci runner")
        #expect(object["scopes"] as? [String] == ["read"])

        let plain = try await keys(["create", "--database", path, "--name", "second"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let plainSecret = plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(plainSecret.hasPrefix("fbk_") && !plainSecret.contains("\n"), "only the secret on stdout")

        #expect(try await healthStatus(database: path, secret: secret) == .ok)
        #expect(try await healthStatus(database: path, secret: plainSecret) == .ok)
        #expect(try await healthStatus(database: path, secret: "fbk_not-a-key") == .unauthorized)

        // What the database keeps: the hash, never the secret.
        let database = try await ServiceDatabase.open(path: path)
        let stored = try #require(try await database.keys.key(id: id))
        try await database.close()
        #expect(stored.secretHash == APIKeySecret.hash(of: secret) && stored.quotas.maxQueued == 3)
        let fileBytes = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(fileBytes.range(of: Data(secret.utf8)) == nil, "the secret is not in the file")

        for arguments in [["list", "--database", path], ["list", "--database", path, "--json"]] {
            let listed = try await keys(arguments)
            #expect(listed.status == 0, "\(listed.stderr)")
            #expect(listed.stdout.contains(id) && listed.stdout.contains("ci runner"))
            for hidden in [secret, plainSecret, stored.secretHash, webhookSecret, String(webhookSecret.dropFirst(6))] {
                #expect(!listed.stdout.contains(hidden) && !listed.stderr.contains(hidden), "\(arguments)")
            }
        }

        let revoked = try await keys(["revoke", "--database", path, id])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(try await healthStatus(database: path, secret: secret) == .unauthorized)
        #expect(try await healthStatus(database: path, secret: plainSecret) == .ok)
        let again = try await keys(["revoke", "--database", path, id])
        #expect(again.status != 0 && again.stderr.contains(id))
        let listed = try await keys(["list", "--database", path, "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(rows.first { $0["id"] as? String == id }?["revoked_at"] is String)
    }

    @Test(
        "bad arguments are refused before the database is touched",
        .enabled(
            if: FileManager.default.isExecutableFile(atPath: HelperLocator.executableDirectory().path + "/flakebox"),
            "needs the built flakebox binary (swift build)"))
    func badArguments() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.file("service.db")
        let badScope = try await keys(["create", "--database", path, "--name", "x", "--scope", "everything"])
        #expect(badScope.status != 0 && badScope.stderr.contains("--scope"))
        let badQuota = try await keys(["create", "--database", path, "--name", "x", "--max-running", "0"])
        #expect(badQuota.status != 0 && badQuota.stderr.contains("--max-running"))
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
