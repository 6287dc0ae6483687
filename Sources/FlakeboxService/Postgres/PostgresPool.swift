import FlakeboxJobs
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// PostgreSQL's connection pool (postgres-nio's `PostgresClient`) behind the job and key stores,
/// with their error mapping. The pool does nothing until it runs: `flakebox serve` runs it in its
/// `ServiceGroup` (it is stopped last), a command in `ServiceDatabase.withPool`.
final class PostgresPool: Sendable {
    let client: PostgresClient
    let url: PostgresURL
    let logger: Logger
    /// `PostgresClient.run` may be called once (a precondition): a second `withPool` is refused.
    private let ran = Mutex(false)

    /// True the first time only.
    func claimRun() -> Bool {
        ran.withLock { ran in
            defer { ran = true }
            return !ran
        }
    }

    init(url: PostgresURL, maximumConnections: Int, logger: Logger) {
        self.url = url
        self.logger = logger
        client = PostgresClient(
            configuration: url.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: logger)
    }

    /// One statement (a transaction of its own); its rows.
    func query(_ query: PostgresQuery) async throws(JobStoreError) -> [PostgresRow] {
        do {
            return try await client.query(query, logger: logger).collect()
        } catch {
            throw Self.storeError(error, url: url)
        }
    }

    /// `body`'s statements as one transaction on one connection: committed when it returns,
    /// rolled back when it throws.
    func transaction<Value: Sendable>(
        _ body: @Sendable (PostgresConnection, Logger) async throws -> Value
    ) async throws(JobStoreError) -> Value {
        do {
            return try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let value = try await body(connection, logger)
                    try await connection.query("COMMIT", logger: logger)
                    return value
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        } catch {
            throw Self.storeError(error, url: url)
        }
    }

    /// What went wrong, in words, for a `JobStoreError`: the server's SQLSTATE and message, or the
    /// connection's failure. PSQLError's own description is deliberately empty; its debug one
    /// carries the statement's binds (job inputs), so neither is used. Never the password.
    static func storeError(_ error: any Error, url: PostgresURL) -> JobStoreError {
        if let error = error as? JobStoreError { return error }
        guard let error = error as? PSQLError else {
            return JobStoreError(.unavailable, url.redacting("the database \(url) failed: \(error)"))
        }
        let state = error.serverInfo?[.sqlState]
        var text = "PostgreSQL (\(url))"
        if let message = error.serverInfo?[.message] {
            text += ": \(message) (SQLSTATE \(state ?? "?"))"
        } else {
            text += ": \(error.code)"
        }
        if let detail = error.serverInfo?[.detail] { text += "; \(detail)" }
        if let underlying = error.underlying { text += ": \(underlying)" }
        text = url.redacting(text)
        switch state {
        case "23505": return JobStoreError(.duplicate, text)
        case "53100": return JobStoreError(.full, "the database's disk is full: \(text)")
        case "XX001", "XX002": return JobStoreError(.corrupt, "the database is damaged: \(text)")
        default: return JobStoreError(.unavailable, "the database failed: \(text)")
        }
    }
}

extension PostgresRow {
    /// The row's columns by name, decoded with the stores' error: a missing or mistyped column is
    /// a damaged (or foreign) database.
    func store() -> StoreRow { StoreRow(row: makeRandomAccess()) }
}

struct StoreRow {
    let row: PostgresRandomAccessRow

    func value<T: PostgresDecodable>(_ name: String, _ type: T.Type = T.self) throws(JobStoreError) -> T {
        guard row.contains(name) else { throw JobStoreError(.corrupt, "column \(name) is missing") }
        do {
            return try row[name].decode(T.self)
        } catch {
            throw JobStoreError(.corrupt, "column \(name) is not a \(T.self)")
        }
    }

    func date(_ name: String) throws(JobStoreError) -> Date {
        Date(timeIntervalSinceReferenceDate: try value(name, Double.self))
    }

    func optionalDate(_ name: String) throws(JobStoreError) -> Date? {
        try value(name, Double?.self).map(Date.init(timeIntervalSinceReferenceDate:))
    }
}
