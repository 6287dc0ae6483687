/// Why the service's database could not be opened. A message never holds a database password.
public struct ServiceDatabaseError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Its directory or file could not be made (or given its mode).
        case cannotCreate
        /// SQLite could not open it, or refused a setting (WAL, the schema).
        case cannotOpen
        /// It was written by a newer flakebox: this one does not know its schema and will not
        /// downgrade it.
        case newerSchema
        /// `--database` is neither a file path nor a `postgres://` URL flakebox can use.
        case invalidLocation
    }
    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
