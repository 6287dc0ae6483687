import CFlakeboxSpawn
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Host-side file operations on checkouts and scratch directories. The trees may be written by
/// untrusted tests: nothing here follows a symlink it did not create.
public enum WorkspaceFiles {
    static func makeDirectory(_ path: String, uid: UInt32?, gid: UInt32?, mode: mode_t) throws(SandboxError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw SandboxError(.workspace, "mkdir \(path): \(error.localizedDescription)", errno: EIO)
        }
        if chmod(path, mode) != 0 { throw SandboxError.system("chmod \(path)", errno) }
        if let uid, let gid, geteuid() == 0, chown(path, uid, gid) != 0 {
            throw SandboxError.system("chown \(path)", errno)
        }
    }

    /// Writes a new file with plain open/write: Foundation's `createFile` writes through a
    /// temporary file and fsyncs it, ~10 ms a file on this disk, for scratch files that need neither.
    @discardableResult
    static func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    /// Changes the owner of every entry below `path` (symlinks themselves, never their targets).
    static func chownTree(_ path: String, uid: UInt32, gid: UInt32) throws(SandboxError) {
        guard geteuid() == 0 else { return }
        if lchown(path, uid, gid) != 0 { throw SandboxError.system("lchown \(path)", errno) }
        guard let walker = FileManager.default.enumerator(atPath: path) else { return }
        while let relative = walker.nextObject() as? String {
            let full = "\(path)/\(relative)"
            if lchown(full, uid, gid) != 0 { throw SandboxError.system("lchown \(full)", errno) }
        }
    }

    /// A copy of the tree at `source`, made in-process (see fb_tree.h): reflinks where the
    /// filesystem has them, modes and times kept, owned by `uid`/`gid` when given (else by the
    /// source's owners, where the supervisor is root). `cp -a` only when that fails (a tree deeper
    /// than fb_tree.c walks), into a fresh destination.
    static func copyTree(_ source: String, to destination: String, uid: UInt32? = nil, gid: UInt32? = nil)
        throws(SandboxError)
    {
        let owner = uid.flatMap { uid in gid.map { (uid, $0) } }
        let err = fb_tree_copy(source, destination, owner?.0 ?? UInt32.max, owner?.1 ?? UInt32.max)
        if err == 0 { return }
        _ = fb_tree_remove(destination)
        let result = HostCommand.run(["/bin/cp", "-a", "--reflink=auto", "--", source, destination])
        guard result.status == 0 else {
            throw SandboxError(.workspace, "cp -a \(source) \(destination): \(result.stderr)", errno: EIO)
        }
        if let owner { try chownTree(destination, uid: owner.0, gid: owner.1) }
    }

    /// Removes a scratch tree in-process (see fb_tree.h); the host's `rm -rf` only when that
    /// fails, first making every directory writable (a test may leave directories without write
    /// permission, which a non-root supervisor could not empty).
    public static func removeTree(_ path: String) {
        let err = fb_tree_remove(path)
        if err == 0 || err == ENOENT { return }
        if geteuid() != 0 { _ = HostCommand.run(["/bin/chmod", "-R", "u+rwX", "--", path]) }
        _ = HostCommand.run(["/bin/rm", "-rf", "--", path])
    }
}

/// Runs a host tool (cp, rm, chmod) with a clean signal state, an empty descriptor table but for
/// a stderr pipe, and a minimal environment. Unsandboxed: for the supervisor's own tools only.
public enum HostCommand {
    /// Runs `argv` (an absolute path first) to completion; the exit status and the first 8 KiB of stderr.
    public static func run(_ argv: [String]) -> (status: Int32, stderr: String) {
        var errPipe: [Int32] = [-1, -1]
        guard fb_pipe_cloexec(&errPipe, 0) == 0 else { return (-1, "pipe: \(errno)") }
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        let table: [Int32] = [devNull, devNull, errPipe[1]]
        let (pid, err) = ProcessSpawn.start(
            argv[0], argv: argv, environment: ["PATH=/usr/bin:/bin", "LC_ALL=C"], table: table)
        close(errPipe[1])
        if devNull >= 0 { close(devNull) }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while err == 0 {
            let n = buffer.withUnsafeMutableBytes { read(errPipe[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            if output.count < 8192 { output += buffer[0..<n] }
        }
        close(errPipe[0])
        guard err == 0 else { return (-1, String(cString: strerror(err))) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code = fb_wifexited(status) != 0 ? fb_wexitstatus(status) : 128 + fb_wtermsig(status)
        return (code, String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
