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
        // cp -a --parents /etc/x ROOT makes ROOT/etc/x, keeping modes, owners and symlinks.
        let present = entries.filter { $0 != "passwd" && $0 != "group" }.map { "/etc/\($0)" }.filter {
            (try? FileManager.default.attributesOfItem(atPath: $0)) != nil
        }
        if !present.isEmpty {
            let copy = HostCommand.run(["/bin/cp", "-a", "--parents", "--"] + present + [root])
            guard copy.status == 0 else {
                WorkspaceFiles.removeTree(root)
                throw SandboxError(.workspace, "copying /etc entries: \(copy.stderr)", errno: EIO)
            }
        }
        for (name, content) in [("passwd", SandboxIdentity.passwd), ("group", SandboxIdentity.group)] {
            guard FileManager.default.createFile(atPath: "\(path)/\(name)", contents: Data(content.utf8)) else {
                WorkspaceFiles.removeTree(root)
                throw SandboxError(.workspace, "writing \(path)/\(name)", errno: EIO)
            }
            chmod("\(path)/\(name)", 0o644)
        }
    }

    deinit {
        WorkspaceFiles.removeTree(root)
        rmdir(scratch)  // only when empty: other sandboxes may share it
    }
}
