import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The report links' server secret: 32 random bytes in a file beside the database, mode 0600,
/// made on first start, so that links stay good across restarts and die with a new secret.
public enum ReportSecretFile {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var message: String
        public var description: String { message }
    }

    public static func path(forDatabase database: String) -> String { database + ".report-key" }

    /// Reads the secret, or makes it (created exclusively with 0600: never readable by others).
    public static func load(path: String) throws(Failure) -> [UInt8] {
        if let existing = FileManager.default.contents(atPath: path) {
            guard existing.count == 32 else { throw Failure(message: "\(path): not a report secret (32 bytes)") }
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
                throw Failure(message: "\(path) is readable by others: chmod 600 it")
            }
            return Array(existing)
        }
        var secret = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in secret.indices { secret[index] = generator.next() }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            // Another process made it first: use theirs.
            if errno == EEXIST { return try load(path: path) }
            throw Failure(message: "\(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let written = secret.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == secret.count, fsync(fd) == 0 else {
            unlink(path)
            throw Failure(message: "\(path): could not write the report secret")
        }
        return secret
    }
}
