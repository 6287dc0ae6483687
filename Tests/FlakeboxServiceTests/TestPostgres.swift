import FlakeboxService
import Foundation
import Testing

/// The PostgreSQL server the tests may use (`eval "$(scripts/postgres.sh start)"`, as
/// scripts/test.sh does): FLAKEBOX_TEST_POSTGRES_URL. Each test works in a schema of its own
/// (the URL's `options=-csearch_path=…`), made and dropped with `psql`, so tests never meet.
enum TestPostgres {
    static let url: String? = {
        guard let url = ProcessInfo.processInfo.environment["FLAKEBOX_TEST_POSTGRES_URL"], !url.isEmpty else {
            print("[flakebox service tests] \(skipReason): PostgreSQL store tests are skipped")
            return nil
        }
        return url
    }()

    static var available: Bool { url != nil }

    static let skipReason =
        "FLAKEBOX_TEST_POSTGRES_URL is not set (a server for the tests: eval \"$(scripts/postgres.sh start)\")"

    /// A schema of its own, and the URL whose connections use it.
    struct Schema: Sendable {
        let name: String
        let url: String
        /// The URL with another password (the server refuses it).
        var wrongPassword: String {
            url.replacingOccurrences(
                of: #"://([^:]+):[^@]*@"#, with: "://$1:wrong-secret-7f3a@", options: .regularExpression)
        }
    }

    static func makeSchema() async throws -> Schema {
        guard let url else { try Test.cancel(Comment(rawValue: skipReason)) }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
        try await psql("CREATE SCHEMA \(name)")
        let separator = url.contains("?") ? "&" : "?"
        return Schema(name: String(name), url: url + separator + "options=-csearch_path%3D\(name)")
    }

    static func drop(_ schema: Schema) async {
        _ = try? await psql("DROP SCHEMA \(schema.name) CASCADE")
    }

    /// Runs SQL on the test database with `psql` (another client than the one under test); its output.
    @discardableResult
    static func psql(_ sql: String, url: String? = nil) async throws -> String {
        guard let target = url ?? self.url else { try Test.cancel(Comment(rawValue: skipReason)) }
        let run = try await runProgram(
            "/usr/bin/psql", [target, "--no-psqlrc", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard run.status == 0 else { throw PostgresTestError(message: "psql \(sql): \(run.stderr)") }
        return run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

struct PostgresTestError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Runs `body` with a new schema, dropped after.
func withPostgresSchema<T>(_ body: (TestPostgres.Schema) async throws -> T) async throws -> T {
    let schema = try await TestPostgres.makeSchema()
    do {
        let result = try await body(schema)
        await TestPostgres.drop(schema)
        return result
    } catch {
        await TestPostgres.drop(schema)
        throw error
    }
}

/// Runs `body` over a database in a new schema (its pool running), dropped after.
func withPostgresDatabase(_ body: (ServiceDatabase) async throws -> Void) async throws {
    try await withPostgresSchema { schema in
        let database = try await ServiceDatabase.open(location: schema.url)
        try await database.withPool { try await body(database) }
    }
}
