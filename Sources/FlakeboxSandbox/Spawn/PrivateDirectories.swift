import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The minimal tier's private `/tmp`, `/var/tmp` and `/dev/shm`: a directory of the attempt's own
/// for each, and an alias for it at `/` no longer than the path it stands for (`/.k3`, a symlink),
/// which the launcher's path guard writes over that path's prefix in the attempt's path arguments
/// (`/tmp/x` becomes `/.k3//x`; see pathguard.h). Made by the supervisor, which may write `/` where
/// it is root (container root may); removed with the attempt.
struct PrivateDirectories: Sendable {
    struct Entry: Sendable, Equatable {
        /// The shared directory the attempt names (`/tmp`).
        let shared: String
        /// The symlink at `/` (`/.k3`).
        let alias: String
        /// The attempt's own directory it points to.
        let directory: String
    }

    /// What is redirected, and the name of each one's private directory in the attempt's scratch.
    static let redirected = [("/tmp", "tmp"), ("/var/tmp", "var-tmp"), ("/dev/shm", "shm")]
    /// Where the aliases live: `/`, the one directory whose entries are short enough.
    static let aliasDirectory = "/"

    let entries: [Entry]

    /// The launcher's arguments for these redirections.
    var helperArguments: [String] { entries.flatMap { ["--private-path", $0.shared, $0.alias] } }

    /// Makes the directories beneath `scratch` (the one for `/tmp` may exist already: it is the
    /// attempt's TMPDIR) owned by `uid`, then an alias for each.
    static func make(in scratch: String, uid: UInt32, gid: UInt32) throws(SandboxError) -> PrivateDirectories {
        var entries: [Entry] = []
        do {
            for (shared, name) in redirected {
                let directory = "\(scratch)/\(name)"
                try WorkspaceFiles.makeDirectory(directory, uid: uid, gid: gid, mode: 0o700)
                entries.append(Entry(shared: shared, alias: try makeAlias(to: directory), directory: directory))
            }
        } catch {
            PrivateDirectories(entries: entries).remove()
            throw error
        }
        return PrivateDirectories(entries: entries)
    }

    /// Removes the aliases (the directories go with the attempt's scratch tree); only a symlink
    /// that still points where this one made it.
    func remove() {
        for entry in entries where Self.target(of: entry.alias) == entry.directory {
            unlink(entry.alias)
        }
    }

    /// Characters of an alias name: `/.` and two of these (3,844 names; three per attempt).
    private static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)

    /// Creates a fresh `/.XY` symlink to `directory`: symlink(2) is atomic and never replaces a
    /// name, so two supervisors cannot take the same one.
    static func makeAlias(to directory: String) throws(SandboxError) -> String {
        let base = aliasDirectory.hasSuffix("/") ? aliasDirectory : aliasDirectory + "/"
        let count = alphabet.count * alphabet.count
        let start = Int.random(in: 0..<count)
        for step in 0..<count {
            let k = (start + step) % count
            let name =
                base + "."
                + String(decoding: [alphabet[k / alphabet.count], alphabet[k % alphabet.count]], as: UTF8.self)
            if symlink(directory, name) == 0 { return name }
            if errno != EEXIST { throw SandboxError.system("symlink \(name)", errno) }
        }
        throw SandboxError.system("symlink \(base).XY", EEXIST)
    }

    /// Where the symlink at `path` points, or nil.
    static func target(of path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Whether `name` (an entry of the alias directory) has an alias's shape.
    static func isAliasName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        return bytes.count == 3 && bytes[0] == UInt8(ascii: ".") && alphabet.contains(bytes[1])
            && alphabet.contains(bytes[2])
    }

    /// Removes the aliases of supervisors that died without removing theirs: an alias-shaped
    /// symlink into a `flakebox-` scratch directory that no longer exists.
    static func removeStale() {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: aliasDirectory)) ?? []
        let base = aliasDirectory.hasSuffix("/") ? aliasDirectory : aliasDirectory + "/"
        for name in entries where isAliasName(name) {
            let path = base + name
            guard let target = target(of: path), target.contains("/flakebox-") else { continue }
            var info = stat()
            if stat(target, &info) != 0 && errno == ENOENT { unlink(path) }
        }
    }
}
