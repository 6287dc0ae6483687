import FlakeboxJobs
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

extension ServiceDatabase {
    /// Opens the PostgreSQL database at `url`: one connection of its own migrates the schema (under
    /// the advisory lock) and reads the report secret, then closes; the stores use a pool of at
    /// most `maximumConnections`, which does nothing until it runs (`withPool`, or the server's
    /// group).
    public static func open(postgres url: PostgresURL, maximumConnections: Int = 16, logger: Logger? = nil)
        async throws(ServiceDatabaseError) -> ServiceDatabase
    {
        // Errors only by default: the pool warns when a query races its start (harmless: the query
        // waits), and what fails reaches the caller as a `JobStoreError` anyway.
        let logger =
            logger
            ?? {
                var logger = Logger(label: "flakebox.postgres")
                logger.logLevel = .error
                return logger
            }()
        let configuration = try url.connectionConfiguration()
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                on: PostgresClient.defaultEventLoopGroup.next(), configuration: configuration, id: 0, logger: logger
            ).get()
        } catch {
            throw ServiceDatabaseError(
                .cannotOpen, "cannot open the database: \(PostgresPool.storeError(error, url: url))")
        }
        let secret: [UInt8]
        do {
            secret = try await PostgresSchema.migrate(connection, url: url, logger: logger).reportSecret
        } catch {
            try? await connection.close()
            if let error = error as? ServiceDatabaseError { throw error }
            throw ServiceDatabaseError(
                .cannotOpen, "cannot migrate the database: \(PostgresPool.storeError(error, url: url))")
        }
        try? await connection.close()
        let pool = PostgresPool(url: url, maximumConnections: maximumConnections, logger: logger)
        return ServiceDatabase(
            jobs: PostgresJobStore(pool), keys: PostgresAPIKeyStore(pool), pool: pool, reportSecret: secret)
    }

    /// What must run in the server's `ServiceGroup` beside the API (PostgreSQL's pool), if anything.
    /// Asked once per opened database (the pool runs once).
    public var services: [any Service] {
        guard let pool, pool.claimRun() else { return [] }
        return [pool.client]
    }

    /// Runs `body` with the database usable: PostgreSQL's pool runs beside it and stops after.
    /// Once per opened database (open it again for more).
    public func withPool<T>(_ body: () async throws -> T) async throws -> T {
        guard let pool else { return try await body() }
        guard pool.claimRun() else {
            throw ServiceDatabaseError(.cannotOpen, "\(pool.url): this database's pool ran already; open it again")
        }
        return try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await pool.client.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}
