import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The `/etc` an attempt sees: copies of the policy's entries of the host's `/etc` and a
/// `passwd`/`group` for the sandbox user, made once per sandbox and bound read-only as one
/// directory — one mount per attempt instead of two mount calls per entry.
final class CuratedEtc: Sendable {
    /// Host path of the directory bound at `/etc`.
    let path: String
    private let root: String
    private let scratch: String

    init(entries: [String], scratch: String) throws(SandboxError) {
        self.scratch = scratch
        root = "\(scratch)/etc-\(UUID().uuidString.prefix(8))"
        path = "\(root)/etc"
        try WorkspaceFiles.makeDirectory(scratch, uid: nil, gid: nil, mode: 0o755)
        try WorkspaceFiles.makeDirectory(path, uid: nil, gid: nil, mode: 0o755)
        for entry in entries where entry != "passwd" && entry != "group" {
            Self.copyWorldReadable(from: "/etc/\(entry)", to: "\(path)/\(entry)")
        }
        for (name, content) in [("passwd", SandboxIdentity.passwd), ("group", SandboxIdentity.group)] {
            guard FileManager.default.createFile(atPath: "\(path)/\(name)", contents: Data(content.utf8)) else {
                WorkspaceFiles.removeTree(root)
                throw SandboxError(.workspace, "writing \(path)/\(name)", errno: EIO)
            }
            chmod("\(path)/\(name)", 0o644)
        }
    }

    /// Copies what any user may read (the sandbox sees host-owned files as "other"): symlinks as
    /// symlinks, world-readable files, world-searchable directories. Anything else — keys in
    /// `/etc/ssl/private` — is neither copied nor visible in the sandbox, as with a bind mount.
    private static func copyWorldReadable(from source: String, to destination: String) {
        var info = stat()
        guard lstat(source, &info) == 0 else { return }
        let mode = info.st_mode
        switch mode & S_IFMT {
        case S_IFLNK:
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: source) {
                _ = symlink(target, destination)
            }
        case S_IFDIR where mode & 0o005 == 0o005:
            guard mkdir(destination, 0o755) == 0 || errno == EEXIST else { return }
            let children = (try? FileManager.default.contentsOfDirectory(atPath: source)) ?? []
            for child in children { copyWorldReadable(from: "\(source)/\(child)", to: "\(destination)/\(child)") }
        case S_IFREG where mode & 0o004 != 0:
            guard let data = FileManager.default.contents(atPath: source),
                FileManager.default.createFile(atPath: destination, contents: data)
            else { return }
            chmod(destination, mode & 0o755)
        default:
            return
        }
    }

    deinit {
        WorkspaceFiles.removeTree(root)
        rmdir(scratch)  // only when empty: other sandboxes may share it
    }
}
