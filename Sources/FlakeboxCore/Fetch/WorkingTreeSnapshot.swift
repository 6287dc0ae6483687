import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// What of a local repository's working tree went into the checkout: by default a local job
/// tests what the developer has in front of them, not only `HEAD`. Modified, added and untracked
/// (not ignored) files are copied over the clone, deleted ones removed, and the result committed
/// in the clone — a snapshot commit that exists only there, never in the user's repository.
public struct WorkingTreeSnapshot: Sendable, Equatable, Codable {
    enum CodingKeys: String, CodingKey {
        case baseCommit = "base_commit"
        case copiedFiles = "copied_files"
        case deletedFiles = "deleted_files"
    }

    /// The commit the working tree is based on (the user's `HEAD`).
    public var baseCommit: String
    /// Files copied from the working tree (modified, added, untracked).
    public var copiedFiles: Int
    /// Files deleted in the working tree, removed from the checkout.
    public var deletedFiles: Int

    public var isEmpty: Bool { copiedFiles == 0 && deletedFiles == 0 }

    /// Applies `source`'s uncommitted changes to the clone `checkout` and commits them there.
    static func apply(
        from source: String, to checkout: String, baseCommit: String, git: SanitizedGit
    ) throws(FetchError) -> WorkingTreeSnapshot {
        let status = try git.check(
            [
                "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames",
                "--ignore-submodules=all",
            ], in: source, what: "git status of the working tree")
        var snapshot = WorkingTreeSnapshot(baseCommit: baseCommit, copiedFiles: 0, deletedFiles: 0)
        for entry in status.stdout.split(separator: 0) where entry.count > 3 {
            let code = Array(entry.prefix(2))
            let path = String(decoding: entry.dropFirst(3), as: UTF8.self)
            guard Self.isSafeRelative(path) else { continue }
            let deleted = code[1] == UInt8(ascii: "D") || (code[0] == UInt8(ascii: "D") && code[1] == 0x20)
            if deleted {
                if unlink("\(checkout)/\(path)") == 0 { snapshot.deletedFiles += 1 }
            } else if try copy("\(source)/\(path)", to: "\(checkout)/\(path)") {
                snapshot.copiedFiles += 1
            }
        }
        guard !snapshot.isEmpty else { return snapshot }
        try git.check(["add", "--all"], in: checkout, what: "git add of the working tree snapshot")
        try git.check(
            [
                "-c", "user.name=flakebox", "-c", "user.email=flakebox@localhost", "-c", "commit.gpgSign=false",
                "commit", "--quiet", "--no-verify", "--allow-empty", "-m",
                "flakebox: working tree snapshot on \(baseCommit)",
            ], in: checkout, what: "git commit of the working tree snapshot")
        return snapshot
    }

    /// A path git printed: relative, without `..` or NUL.
    private static func isSafeRelative(_ path: String) -> Bool {
        !path.isEmpty && !path.hasPrefix("/") && !path.split(separator: "/").contains("..")
    }

    /// Copies one file or symlink (never following it); false for anything else.
    private static func copy(_ from: String, to destination: String) throws(FetchError) -> Bool {
        var info = stat()
        guard lstat(from, &info) == 0 else { return false }
        let parent = (destination as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw FetchError(.system, "cannot create \(parent): \(error.localizedDescription)")
        }
        _ = unlink(destination)
        switch info.st_mode & S_IFMT {
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let length = readlink(from, &buffer, buffer.count - 1)
            guard length >= 0 else { return false }
            buffer[length] = 0
            return symlink(buffer, destination) == 0
        case S_IFREG:
            let input = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            guard input >= 0 else { return false }
            defer { close(input) }
            let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, info.st_mode & 0o777)
            guard output >= 0 else {
                throw FetchError(.system, "cannot write \(destination): \(String(cString: strerror(errno)))")
            }
            defer { close(output) }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = read(input, &buffer, buffer.count)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return n == 0 }
                var written = 0
                while written < n {
                    let w = buffer.withUnsafeBytes { write(output, $0.baseAddress! + written, n - written) }
                    guard w > 0 else {
                        throw FetchError(.system, "cannot write \(destination): \(String(cString: strerror(errno)))")
                    }
                    written += w
                }
            }
        default:
            return false
        }
    }
}
