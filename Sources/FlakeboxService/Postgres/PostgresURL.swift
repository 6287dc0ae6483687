import Foundation
import PostgresNIO

/// A `postgres://` (or `postgresql://`) URL as libpq reads it: `postgres://USER:PASSWORD@HOST:PORT/DATABASE`
/// with `sslmode` (`disable`, `prefer` the default, `require`, `verify-full`), `host=/DIRECTORY` for
/// a unix socket, and `options` / `application_name` passed to the server at startup (tests use
/// `options=-csearch_path=SCHEMA`). Without a password in the URL, `PGPASSWORD` gives it, as for
/// libpq (a command line is visible to every local user in `ps`). Its `description` never shows
/// the password.
public struct PostgresURL: Sendable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        /// The socket file (`DIRECTORY/.s.PGSQL.PORT`, as the server names it).
        case socket(path: String)
    }

    /// libpq's `sslmode`: `prefer` and `require` encrypt without checking the certificate (as libpq
    /// does without a root certificate); `verify-full` checks it and the host name.
    public enum TLSMode: String, Sendable {
        case disable
        case prefer
        case require
        case verifyFull = "verify-full"
    }

    public var endpoint: Endpoint
    public var user: String
    public var password: String?
    public var database: String?
    public var tls: TLSMode
    public var startupParameters: [(String, String)]

    /// Whether `location` (a `--database` value) names PostgreSQL rather than a SQLite file.
    public static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(ServiceDatabaseError)
    {
        guard Self.isPostgres(text), let url = URLComponents(string: text) else {
            // The text may hold a password: say what is wrong, not what it was.
            throw ServiceDatabaseError(
                .invalidLocation, "not a postgres://USER:PASSWORD@HOST:PORT/DATABASE URL (the URL is not shown)")
        }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { _, last in last }
        let known: Set<String> = ["sslmode", "host", "port", "options", "application_name", "user", "password"]
        if let unknown = query.keys.sorted().first(where: { !known.contains($0) }) {
            throw ServiceDatabaseError(.invalidLocation, "postgres URL: unknown parameter \(unknown)")
        }
        guard let mode = TLSMode(rawValue: query["sslmode"] ?? "prefer") else {
            throw ServiceDatabaseError(
                .invalidLocation, "postgres URL: sslmode must be disable, prefer, require or verify-full")
        }
        let port = url.port ?? query["port"].flatMap { Int($0) } ?? 5432
        guard (1...65535).contains(port) else {
            throw ServiceDatabaseError(.invalidLocation, "postgres URL: port must be 1…65535")
        }
        if let directory = query["host"], directory.hasPrefix("/") {
            endpoint = .socket(path: directory + "/.s.PGSQL.\(port)")
        } else {
            let host = url.host?.isEmpty == false ? url.host! : (query["host"] ?? "localhost")
            endpoint = .tcp(host: host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), port: port)
        }
        guard let user = (url.user?.removingPercentEncoding ?? query["user"]), !user.isEmpty else {
            throw ServiceDatabaseError(.invalidLocation, "postgres URL: no user (postgres://USER:PASSWORD@HOST/DB)")
        }
        self.user = user
        password = url.password?.removingPercentEncoding ?? query["password"] ?? environment["PGPASSWORD"]
        let path = String(url.path.drop { $0 == "/" })
        database = path.isEmpty ? nil : path.removingPercentEncoding
        tls = mode
        startupParameters = ["options", "application_name"].compactMap { name in query[name].map { (name, $0) } }
    }

    /// The URL without its password (`***` in its place), for logs and errors.
    public var description: String {
        let secret = password == nil ? "" : ":***"
        let place =
            switch endpoint {
            case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
            case .socket(let path): "(socket \(path))"
            }
        return "postgres://\(user)\(secret)@\(place)/\(database ?? "")"
    }

    /// `text` with every occurrence of the password replaced: error texts from below never carry it.
    func redacting(_ text: String) -> String {
        guard let password, password.count >= 4 else { return text }
        return text.replacingOccurrences(of: password, with: "***")
    }

    func clientConfiguration(maximumConnections: Int) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            configuration = .init(
                host: host, port: port, username: user, password: password, database: database, tls: clientTLS)
        case .socket(let path):
            configuration = .init(unixSocketPath: path, username: user, password: password, database: database)
        }
        configuration.options.additionalStartupParameters = startupParameters
        configuration.options.maximumConnections = maximumConnections
        return configuration
    }

    func connectionConfiguration() throws(ServiceDatabaseError) -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        switch endpoint {
        case .tcp(let host, let port):
            let tls: PostgresConnection.Configuration.TLS
            do {
                tls =
                    switch self.tls {
                    case .disable: .disable
                    case .prefer: .prefer(try NIOSSLContext(configuration: Self.unverified))
                    case .require: .require(try NIOSSLContext(configuration: Self.unverified))
                    case .verifyFull: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
                    }
            } catch {
                throw ServiceDatabaseError(.cannotOpen, "cannot set up TLS for \(self): \(error)")
            }
            configuration = .init(
                host: host, port: port, username: user, password: password, database: database, tls: tls)
        case .socket(let path):
            configuration = .init(unixSocketPath: path, username: user, password: password, database: database)
        }
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    private var clientTLS: PostgresClient.Configuration.TLS {
        switch tls {
        case .disable: .disable
        case .prefer: .prefer(Self.unverified)
        case .require: .require(Self.unverified)
        case .verifyFull: .require(.makeClientConfiguration())
        }
    }

    private static var unverified: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        return configuration
    }
}
