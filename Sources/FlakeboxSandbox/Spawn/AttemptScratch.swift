#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// An attempt's own files below the full tier, where no overlay exists: its copy of the
/// workspace, its private temp directory, the path guard's private `/tmp`, `/var/tmp` and
/// `/dev/shm`, and (a root supervisor at the minimal tier) the uid slot that owns them. A job's
/// attempts get theirs made ahead, while the previous attempt runs, and removed after their
/// result is reported (`PreparedScratches`), so neither is on the attempt's path.
struct AttemptScratch: Sendable {
    /// The attempt's directory, removed with everything in it; nil when it needs none.
    var directory: String?
    /// The workspace as the attempt sees it: its copy, or the workspace itself (writable).
    var source: String
    var privateTemp: String?
    var slot: Int?
    var directories: PrivateDirectories?

    var owner: UInt32? { slot.map { AttemptSlots.uid($0) } }

    /// Why it could not be made: the stage an attempt's `sandbox_error` names, and errno.
    struct Failure: Error {
        var stage: String
        var errno: Int32
    }

    /// What making one depends on, beside the request: the sandbox's tier and layers.
    struct Context: Sendable {
        var tier: IsolationTier
        var identity: SandboxIdentity
        var slotUIDs: Bool
        var privateDirectories: Bool
        var root: String
    }

    static func make(for request: AttemptRequest, name: String, in context: Context) throws(Failure) -> AttemptScratch {
        var scratch = AttemptScratch(source: request.workspace)
        // Minimal tier, root supervisor: a uid of the attempt's own (see AttemptSlots). Not for
        // a writable checkout, which belongs to the sandbox identity.
        if context.tier == .minimal && request.workspaceMode == .overlay && context.identity.dropsPrivileges
            && context.slotUIDs
        {
            scratch.slot = AttemptSlots.take()
        }
        let owner = scratch.owner
        let dir = "\(context.root)/\(name)"
        do throws(Failure) {
            if request.workspaceMode == .overlay {
                scratch.directory = dir
                do throws(SandboxError) {
                    try WorkspaceFiles.makeDirectory(dir, uid: nil, gid: nil, mode: 0o755)
                    scratch.source = "\(dir)/workspace"
                    try WorkspaceFiles.copyTree(request.workspace, to: scratch.source, uid: owner, gid: owner)
                    if context.tier == .minimal {
                        let temp = "\(dir)/tmp"
                        scratch.privateTemp = temp
                        try WorkspaceFiles.makeDirectory(
                            temp, uid: owner ?? context.identity.uid, gid: owner ?? context.identity.gid, mode: 0o700)
                    }
                    // Only the attempt's uid may enter its directory.
                    if let owner, lchown(dir, owner, owner) != 0 || chmod(dir, 0o700) != 0 {
                        throw SandboxError.system("chown \(dir)", errno)
                    }
                } catch {
                    throw Failure(stage: "workspace-copy", errno: error.errno ?? 0)
                }
            } else if context.tier == .minimal {
                // A writable checkout (setup) still gets a private temp directory of its own.
                scratch.directory = dir
                let temp = "\(dir)/tmp"
                scratch.privateTemp = temp
                do throws(SandboxError) {
                    try WorkspaceFiles.makeDirectory(dir, uid: nil, gid: nil, mode: 0o755)
                    try WorkspaceFiles.makeDirectory(
                        temp, uid: context.identity.uid, gid: context.identity.gid, mode: 0o700)
                } catch {
                    throw Failure(stage: "private-temp", errno: error.errno ?? 0)
                }
            }
            // Its own /tmp, /var/tmp and /dev/shm by path (the /tmp one is its TMPDIR).
            if context.privateDirectories, let directory = scratch.directory {
                do throws(SandboxError) {
                    scratch.directories = try PrivateDirectories.make(
                        in: directory, uid: owner ?? context.identity.uid, gid: owner ?? context.identity.gid)
                } catch {
                    throw Failure(stage: "private-directories", errno: error.errno ?? 0)
                }
            }
        } catch {
            scratch.remove()
            throw error
        }
        return scratch
    }

    /// Removes it all; the aliases first (they point into the tree), the slot last (its uid must
    /// own nothing when the next attempt takes it).
    func remove() {
        directories?.remove()
        if let directory { WorkspaceFiles.removeTree(directory) }
        if let slot { AttemptSlots.release(slot) }
    }
}
