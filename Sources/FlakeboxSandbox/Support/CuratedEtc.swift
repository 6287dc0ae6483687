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

    init(entries: [String], scratch defaultScratch: String) throws(SandboxError) {
        // On a tmpfs when there is one: Debian's /etc/alternatives and /etc/ssl/certs are ~700
        // symlinks, and creating a symlink took ~0.3 ms on this VM's ext4 /tmp (µs on tmpfs).
        let scratch = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm/flakebox-\(getpid())" : defaultScratch
        self.scratch = scratch
        root = "\(scratch)/etc-\(UUID().uuidString.prefix(8))"
        path = "\(root)/etc"
        try WorkspaceFiles.makeDirectory(scratch, uid: nil, gid: nil, mode: 0o755)
        try WorkspaceFiles.makeDirectory(path, uid: nil, gid: nil, mode: 0o755)
        for entry in entries where entry != "passwd" && entry != "group" {
            Self.copyWorldReadable(from: "/etc/\(entry)", to: "\(path)/\(entry)")
        }
        for (name, content) in [("passwd", SandboxIdentity.passwd), ("group", SandboxIdentity.group)] {
            guard WorkspaceFiles.writeFile("\(path)/\(name)", Array(content.utf8)) else {
                WorkspaceFiles.removeTree(root)
                throw SandboxError(.workspace, "writing \(path)/\(name)", errno: EIO)
            }
            chmod("\(path)/\(name)", 0o644)
        }
    }

    /// Copies what any user may read (the sandbox sees host-owned files as "other"): symlinks as
    /// symlinks, world-readable files, world-searchable directories, each with its times. Anything
    /// else — keys in `/etc/ssl/private` — is neither copied nor visible in the sandbox, as with a
    /// bind mount.
    ///
    /// The times matter: Debian's `sitecustomize.py` is a symlink into `/etc/python3.X`, and
    /// Python checks its cached bytecode against the source's mtime; a copy made now made every
    /// Python start in an attempt compile it again (~0.7 ms, issue 17).
    private static func copyWorldReadable(from source: String, to destination: String) {
        // POSIX calls throughout: Foundation's directory and link APIs took ~200 ms for the
        // ~700 entries of a Debian /etc/alternatives and /etc/ssl.
        var info = stat()
        guard lstat(source, &info) == 0 else { return }
        let mode = info.st_mode
        switch mode & S_IFMT {
        case S_IFLNK:
            var target = [CChar](repeating: 0, count: 4096)
            let length = readlink(source, &target, target.count - 1)
            guard length > 0 else { return }
            target[length] = 0
            guard symlink(target, destination) == 0 else { return }
            copyTimes(of: info, to: destination)
        case S_IFDIR where mode & 0o005 == 0o005:
            guard mkdir(destination, 0o755) == 0 || errno == EEXIST, let directory = opendir(source) else { return }
            // Last: creating the entries changes the directory's times.
            defer {
                closedir(directory)
                copyTimes(of: info, to: destination)
            }
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name == "." || name == ".." { continue }
                copyWorldReadable(from: "\(source)/\(name)", to: "\(destination)/\(name)")
            }
        case S_IFREG where mode & 0o004 != 0:
            guard let data = FileManager.default.contents(atPath: source),
                WorkspaceFiles.writeFile(destination, [UInt8](data))
            else { return }
            chmod(destination, mode & 0o755)
            // The times of what was read: the file may have been rewritten since the lstat.
            var read = stat()
            copyTimes(of: stat(source, &read) == 0 ? read : info, to: destination)
        default:
            return
        }
    }

    /// Never through a link: the copy's own entry, whatever an overlapping policy entry made of
    /// the path before.
    private static func copyTimes(of info: stat, to path: String) {
        let times = [info.st_atim, info.st_mtim]
        _ = utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW)
    }

    deinit {
        WorkspaceFiles.removeTree(root)
        rmdir(scratch)  // only when empty: other sandboxes may share it
    }
}
