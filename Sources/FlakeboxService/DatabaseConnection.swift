import FlakeboxJobs
import Foundation
import NIOCore
import SQLiteNIO

/// The service's one SQLite connection, shared by the job and key stores. Every use holds
/// `AsyncLock`, so statements and transactions never interleave: SQLite allows one writer at a
/// time anyway, and a claim+finish cycle takes well under a millisecond of the lock (see the
/// figure the store tests print), far below what a job costs; a reader pool would add a second
/// file handle and WAL snapshots to reason about for no measurable gain.
final class DatabaseConnection: Sendable {
    let connection: SQLiteConnection
    private let lock = AsyncLock()

    init(_ connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Runs `body` alone on the connection; SQLite's errors become `JobStoreError`s.
    func exclusive<T>(_ body: (SQLiteConnection) async throws -> T) async throws(JobStoreError) -> T {
        await lock.lock()
        defer { lock.unlock() }
        do {
            return try await body(connection)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body` in one write transaction (`BEGIN IMMEDIATE`: the write lock is taken first, so
    /// what it reads cannot change before it writes); rolled back when it throws.
    func transaction<T>(_ body: (SQLiteConnection) async throws -> T) async throws(JobStoreError) -> T {
        try await exclusive { connection in
            _ = try await connection.query("BEGIN IMMEDIATE")
            do {
                let result = try await body(connection)
                _ = try await connection.query("COMMIT")
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK")
                throw error
            }
        }
    }

    /// One statement, alone on the connection.
    func query(_ sql: String, _ binds: [SQLiteData] = []) async throws(JobStoreError) -> [SQLiteRow] {
        try await exclusive { try await $0.query(sql, binds) }
    }

    func close() async throws(JobStoreError) {
        try await exclusive { connection in
            if !connection.isClosed { try await connection.close() }
        }
    }

    static func storeError(_ error: any Error) -> JobStoreError {
        if let error = error as? JobStoreError { return error }
        guard let error = error as? SQLiteError else {
            return JobStoreError(.unavailable, "the database failed: \(error)")
        }
        switch error.reason {
        case .constraintPrimaryKeyFailed, .constraintUniqueFailed:
            return JobStoreError(.duplicate, error.message)
        case .full:
            return JobStoreError(.full, "the database's disk is full: \(error.message)")
        case .corrupt, .corruptIndex, .corruptSequenceSchema, .notADatabase:
            return JobStoreError(.corrupt, "the database is damaged: \(error.message)")
        default:
            return JobStoreError(.unavailable, "the database failed: \(error.description)")
        }
    }
}

extension SQLiteData {
    init(_ data: Data) { self = .blob(ByteBuffer(bytes: data)) }
    init(_ date: Date) { self = .float(date.timeIntervalSinceReferenceDate) }
    init(_ date: Date?) { self = date.map(SQLiteData.init) ?? .null }
    init(_ string: String?) { self = string.map(SQLiteData.text) ?? .null }
}

extension SQLiteRow {
    /// A column the schema declares NOT NULL (a missing one is a damaged database).
    func required(_ name: String) throws(JobStoreError) -> SQLiteData {
        guard let value = column(name), !value.isNull else {
            throw JobStoreError(.corrupt, "column \(name) is missing or null")
        }
        return value
    }

    func int(_ name: String) throws(JobStoreError) -> Int {
        guard let value = try required(name).integer else {
            throw JobStoreError(.corrupt, "column \(name) is not an integer")
        }
        return Int(value)
    }

    func string(_ name: String) throws(JobStoreError) -> String {
        guard let value = try required(name).string else {
            throw JobStoreError(.corrupt, "column \(name) is not text")
        }
        return value
    }

    func optionalString(_ name: String) -> String? {
        guard let value = column(name), !value.isNull else { return nil }
        return value.string
    }

    /// Dates are kept as seconds since Foundation's reference date (2001-01-01), which round-trips
    /// a `Date` exactly (`datetime(x + 978307200, 'unixepoch')` shows one).
    func date(_ name: String) throws(JobStoreError) -> Date {
        guard let value = try required(name).double else {
            throw JobStoreError(.corrupt, "column \(name) is not a time")
        }
        return Date(timeIntervalSinceReferenceDate: value)
    }

    func optionalDate(_ name: String) -> Date? {
        guard let value = column(name), !value.isNull, let seconds = value.double else { return nil }
        return Date(timeIntervalSinceReferenceDate: seconds)
    }

    func data(_ name: String) throws(JobStoreError) -> Data {
        guard let value = column(name) else { throw JobStoreError(.corrupt, "column \(name) is missing") }
        return try Self.bytes(value, name)
    }

    func optionalData(_ name: String) throws(JobStoreError) -> Data? {
        guard let value = column(name), !value.isNull else { return nil }
        return try Self.bytes(value, name)
    }

    private static func bytes(_ value: SQLiteData, _ name: String) throws(JobStoreError) -> Data {
        switch value {
        case .blob(let buffer): return Data(buffer.readableBytesView)
        case .text(let text): return Data(text.utf8)
        case .null: return Data()
        default: throw JobStoreError(.corrupt, "column \(name) is not bytes")
        }
    }
}
