import FlakeboxJobs
import Foundation
import SQLiteNIO

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The service's database: its jobs and its API keys, in one SQLite file or in PostgreSQL.
public struct ServiceDatabase: Sendable {
    public var jobs: any JobStore
    public var keys: any APIKeyStore
    /// The SQLite connection behind `jobs` and `keys` when `open` made them; nil for stores in memory.
    let connection: DatabaseConnection?
    /// PostgreSQL's connection pool, which must run while the stores are used: `ServiceServer`
    /// runs it in its `ServiceGroup`, anything else inside `withPool`. Nil for SQLite and memory.
    let pool: PostgresPool?
    /// The report links' secret when the database keeps it (PostgreSQL: one for every node);
    /// nil: it is a file beside the SQLite file (`ReportSecretFile`).
    public let reportSecret: [UInt8]?

    public init(jobs: any JobStore, keys: any APIKeyStore) {
        self.jobs = jobs
        self.keys = keys
        self.connection = nil
        self.pool = nil
        self.reportSecret = nil
    }

    init(jobs: any JobStore, keys: any APIKeyStore, pool: PostgresPool, reportSecret: [UInt8]) {
        self.jobs = jobs
        self.keys = keys
        self.connection = nil
        self.pool = pool
        self.reportSecret = reportSecret
    }

    /// Opens `location`: a `postgres://` or `postgresql://` URL selects PostgreSQL, anything else
    /// is a SQLite file's path.
    public static func open(location: String) async throws(ServiceDatabaseError) -> ServiceDatabase {
        if PostgresURL.isPostgres(location) {
            return try await open(postgres: try PostgresURL(location))
        }
        return try await open(path: location)
    }

    /// How the SQLite file is run.
    public struct Options: Sendable {
        /// `FULL` (the default): a job the service acknowledged survives a power cut, since every
        /// commit syncs the WAL. `NORMAL` in WAL mode survives a crash of the process (SIGKILL
        /// included) but may lose the last commits on a power cut; it never corrupts the file.
        public var synchronousFull: Bool
        /// How long a statement waits for another process's write lock before failing.
        public var busyTimeoutMs: Int

        public init(synchronousFull: Bool = true, busyTimeoutMs: Int = 5_000) {
            self.synchronousFull = synchronousFull
            self.busyTimeoutMs = busyTimeoutMs
        }
    }

    /// Opens (or creates) the database at `path`: its directory is made mode 0700 when missing,
    /// the file is mode 0600 (SQLite gives its `-wal` and `-shm` files the same mode), the journal
    /// is a WAL, and the schema is migrated to this version in one transaction.
    public static func open(path: String, options: Options = Options()) async throws(ServiceDatabaseError)
        -> ServiceDatabase
    {
        try createFile(path)
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path))
        } catch {
            throw ServiceDatabaseError(.cannotOpen, "cannot open the database \(path): \(error)")
        }
        do {
            // Before the WAL switch, so that it too waits for another process's lock.
            _ = try await connection.query("PRAGMA busy_timeout = \(max(0, options.busyTimeoutMs))")
            let mode = try await connection.query("PRAGMA journal_mode = WAL").first?.column("journal_mode")?.string
            guard mode?.lowercased() == "wal" else {
                throw ServiceDatabaseError(
                    .cannotOpen, "\(path): SQLite would not use a write-ahead log (journal_mode \(mode ?? "?"))")
            }
            _ = try await connection.query("PRAGMA synchronous = \(options.synchronousFull ? "FULL" : "NORMAL")")
            _ = try await connection.query("PRAGMA foreign_keys = ON")
            _ = try await DatabaseSchema.migrate(connection, path: path)
        } catch {
            try? await connection.close()
            if let error = error as? ServiceDatabaseError { throw error }
            throw ServiceDatabaseError(.cannotOpen, "cannot open the database \(path): \(error)")
        }
        let shared = DatabaseConnection(connection)
        return ServiceDatabase(
            jobs: SQLiteJobStore(shared), keys: SQLiteAPIKeyStore(shared), connection: shared)
    }

    private init(jobs: any JobStore, keys: any APIKeyStore, connection: DatabaseConnection) {
        self.jobs = jobs
        self.keys = keys
        self.connection = connection
        self.pool = nil
        self.reportSecret = nil
    }

    /// Closes the file (SQLite checkpoints the WAL into it). Stores in memory have nothing to close.
    public func close() async throws(JobStoreError) {
        try await connection?.close()
    }

    /// The directory (0700, when it has to be made) and the file (0600), before SQLite opens it:
    /// SQLite would create it with the umask's mode, readable by every local user.
    private static func createFile(_ path: String) throws(ServiceDatabaseError) {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ServiceDatabaseError(.cannotCreate, "cannot make the database's directory \(directory): \(error)")
        }
        let fd = openOrCreate(path)
        guard fd >= 0 else {
            throw ServiceDatabaseError(.cannotCreate, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { closeFile(fd) }
        // An existing file keeps no wider mode either: it holds every key's jobs and key hashes.
        guard fchmod(fd, 0o600) == 0 else {
            throw ServiceDatabaseError(
                .cannotCreate, "cannot make \(path) mode 0600: \(String(cString: strerror(errno)))")
        }
    }
}

// At file scope, where `open` and `close` are the C calls rather than `ServiceDatabase`'s own.
private func openOrCreate(_ path: String) -> Int32 { open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600) }
private func closeFile(_ fd: Int32) { _ = close(fd) }
