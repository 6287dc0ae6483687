#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// A repository on this machine, found as git finds it: the nearest directory, going up, that
/// holds `.git` (a directory, or a file as in worktrees and submodules). Nothing is run.
public enum LocalRepository {
    /// The top level of the repository `path` is in, or nil. `path` must be absolute.
    public static func topLevel(containing path: String) -> String? {
        guard path.hasPrefix("/") else { return nil }
        var components = path.split(separator: "/").map(String.init)
        while true {
            let directory = "/" + components.joined(separator: "/")
            var info = stat()
            if lstat(directory == "/" ? "/.git" : directory + "/.git", &info) == 0 {
                let kind = info.st_mode & S_IFMT
                if kind == S_IFDIR || kind == S_IFREG { return directory }
            }
            if components.isEmpty { return nil }
            components.removeLast()
        }
    }
}
