#if Service
    import ArgumentParser
    import FlakeboxJobs
    import FlakeboxService
    import Foundation

    extension Flakebox.Serve {
        /// `flakebox serve keys create|list|revoke`: the service's API keys, in its database.
        struct Keys: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create, list and revoke the service's API keys.",
                subcommands: [Create.self, List.self, Revoke.self])
        }
    }

    extension Flakebox.Serve.Keys {
        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create an API key; its secret is printed once, here, and never stored.",
                discussion: """
                    Prints the secret (fbk_…) on stdout; with --json an object with the key's id, name, secret, \
                    webhook_secret (signs its webhooks) and scopes. The database keeps only the secret's SHA-256. \
                    A running `flakebox serve` on the same database accepts the key at once.
                    """)

            @Option(
                help:
                    "The database of `flakebox serve`: a SQLite file (created when missing, mode 0600) or a postgres:// URL."
            )
            var database: String

            @Option(help: "A name for people (who or what uses the key).")
            var name: String

            @Option(
                name: .customLong("scope"),
                help: "submit, read or admin (repeatable; default: submit and read). admin sees every key's jobs.")
            var scopes: [String] = []

            @Option(help: "Jobs queued at once.")
            var maxQueued = APIKey.Quotas().maxQueued

            @Option(help: "Jobs running at once.")
            var maxRunning = APIKey.Quotas().maxRunning

            @Option(help: "runs × per-attempt timeout (seconds) of one job.")
            var maxAttemptSecondsPerJob = APIKey.Quotas().maxAttemptSecondsPerJob

            @Option(help: "The same, summed over the key's jobs of the last 24 hours.")
            var maxAttemptSecondsPerDay = APIKey.Quotas().maxAttemptSecondsPerDay

            @Option(help: "/runsync requests waiting at once.")
            var maxSyncWaits = APIKey.Quotas().maxSyncWaits

            @Flag(help: "Print a JSON object instead of the secret alone.")
            var json = false

            func validate() throws {
                let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
                guard !trimmed.isEmpty, trimmed.count <= 100, !trimmed.contains(where: \.isNewline) else {
                    throw ValidationError("--name must be 1…100 characters on one line")
                }
                _ = try parsedScopes()
                for (flag, value, least) in [
                    ("--max-queued", maxQueued, 1), ("--max-running", maxRunning, 1),
                    ("--max-attempt-seconds-per-job", maxAttemptSecondsPerJob, 1),
                    ("--max-attempt-seconds-per-day", maxAttemptSecondsPerDay, 1),
                    ("--max-sync-waits", maxSyncWaits, 0),
                ] where value < least {
                    throw ValidationError("\(flag) must be at least \(least)")
                }
            }

            func parsedScopes() throws -> Set<APIKey.Scope> {
                guard !scopes.isEmpty else { return [.submit, .read] }
                var parsed: Set<APIKey.Scope> = []
                for name in scopes {
                    guard let scope = APIKey.Scope(rawValue: name) else {
                        throw ValidationError("--scope must be submit, read or admin (not \(name))")
                    }
                    parsed.insert(scope)
                }
                return parsed
            }

            func run() async throws {
                let quotas = APIKey.Quotas(
                    maxQueued: maxQueued, maxRunning: maxRunning, maxAttemptSecondsPerJob: maxAttemptSecondsPerJob,
                    maxAttemptSecondsPerDay: maxAttemptSecondsPerDay, maxSyncWaits: maxSyncWaits)
                let made = APIKeySecret.newKey(
                    name: name.trimmingCharacters(in: .whitespacesAndNewlines), scopes: try parsedScopes(),
                    quotas: quotas)
                try await withKeyStore(database) { keys in try await keys.insert(made.key) }
                if json {
                    print(
                        try KeyListing.json([
                            "id": made.key.id, "name": made.key.name, "secret": made.secret,
                            "webhook_secret": made.key.webhookSecret,
                            "scopes": made.key.scopes.map(\.rawValue).sorted(),
                        ]))
                } else {
                    print(made.secret)
                    KeyListing.note(
                        "flakebox serve keys: created \(made.key.id) (\(made.key.name)); the secret above is shown "
                            + "only now")
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List the API keys (never their secrets).")

            @Option(help: "The database of `flakebox serve`: a SQLite file or a postgres:// URL.")
            var database: String

            @Flag(help: "Print a JSON array.")
            var json = false

            func run() async throws {
                let keys = try await withKeyStore(database) { try await $0.keys() }
                if json {
                    print(try KeyListing.json(keys.map(KeyListing.object)))
                } else {
                    print(KeyListing.table(keys), terminator: "")
                }
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Revoke an API key; a running server refuses it within 5 seconds.")

            @Option(help: "The database of `flakebox serve`: a SQLite file or a postgres:// URL.")
            var database: String

            @Argument(help: "The key's id (key_…), as `keys list` shows it.")
            var keyID: String

            func run() async throws {
                let revoked = try await withKeyStore(database) { keys in
                    try await keys.revoke(id: keyID, at: Date())
                }
                guard revoked else {
                    KeyListing.note("flakebox serve keys: no key \(keyID), or it was revoked already")
                    throw ExitCode(1)
                }
                print("revoked \(keyID)")
            }
        }
    }

    /// Opens the database, runs `body` over its key store, and closes it (also when `body` throws).
    private func withKeyStore<T>(_ path: String, _ body: (any APIKeyStore) async throws -> T) async throws -> T {
        let database: ServiceDatabase
        do {
            database = try await ServiceDatabase.open(location: path)
        } catch {
            KeyListing.note("flakebox serve keys: \(error)")
            throw ExitCode(1)
        }
        do {
            let result = try await database.withPool { try await body(database.keys) }
            try await database.close()
            return result
        } catch {
            try? await database.close()
            KeyListing.note("flakebox serve keys: \(error)")
            throw ExitCode(1)
        }
    }

    /// How keys are shown: never a secret, nor the secret's hash, nor the webhook secret.
    enum KeyListing {
        static func object(_ key: APIKey) -> [String: Any] {
            var object: [String: Any] = [
                "id": key.id, "name": key.name, "scopes": key.scopes.map(\.rawValue).sorted(),
                "created_at": ISO8601DateFormatter().string(from: key.createdAt),
                "quotas": [
                    "max_queued": key.quotas.maxQueued, "max_running": key.quotas.maxRunning,
                    "max_attempt_seconds_per_job": key.quotas.maxAttemptSecondsPerJob,
                    "max_attempt_seconds_per_day": key.quotas.maxAttemptSecondsPerDay,
                    "max_sync_waits": key.quotas.maxSyncWaits,
                ],
            ]
            object["revoked_at"] = key.revokedAt.map { ISO8601DateFormatter().string(from: $0) } ?? NSNull()
            return object
        }

        static func table(_ keys: [APIKey]) -> String {
            guard !keys.isEmpty else { return "no keys (flakebox serve keys create --database PATH --name NAME)\n" }
            let rows =
                [["ID", "NAME", "SCOPES", "CREATED", "REVOKED"]]
                + keys.map { key in
                    [
                        key.id, key.name, key.scopes.map(\.rawValue).sorted().joined(separator: ","),
                        ISO8601DateFormatter().string(from: key.createdAt),
                        key.revokedAt.map { ISO8601DateFormatter().string(from: $0) } ?? "-",
                    ]
                }
            let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
            return rows.map { row in
                row.enumerated().map { column, cell in
                    column == 4 ? cell : cell.padding(toLength: widths[column] + 2, withPad: " ", startingAt: 0)
                }.joined()
            }.joined(separator: "\n") + "\n"
        }

        static func json(_ value: Any) throws -> String {
            String(
                decoding: try JSONSerialization.data(
                    withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]),
                as: UTF8.self)
        }

        static func note(_ line: String) {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
#endif
