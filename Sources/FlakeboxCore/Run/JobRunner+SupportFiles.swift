import FlakeboxSandbox
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension JobRunner {
    /// Writes the adapter's files (the pytest plugin) into the checkout, where every tier sees
    /// them: the workspace is the one path an attempt always has (at the minimal tier its copy,
    /// whose path the sandbox puts into the variables that name it). Whatever the repository has
    /// at those paths is removed first, and nothing is followed: the checkout is untrusted.
    static func writeSupportFiles(_ adapter: any TestRunnerAdapter, into checkout: String) throws(JobError) {
        for file in adapter.supportFiles {
            let directory = (file.path as NSString).deletingLastPathComponent
            let top = file.path.split(separator: "/").first.map(String.init) ?? file.path
            WorkspaceFiles.removeTree("\(checkout)/\(top)")
            if !directory.isEmpty, mkdir("\(checkout)/\(directory)", 0o755) != 0 {
                throw JobError(.sandbox, "cannot create \(directory) in the checkout (errno \(errno))")
            }
            let fd = open("\(checkout)/\(file.path)", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw JobError(.sandbox, "cannot write \(file.path) in the checkout (errno \(errno))")
            }
            defer { close(fd) }
            let bytes = Array(file.contents.utf8)
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == bytes.count else {
                throw JobError(.sandbox, "cannot write \(file.path) in the checkout (errno \(errno))")
            }
        }
    }
}
