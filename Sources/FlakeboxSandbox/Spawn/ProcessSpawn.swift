import CFlakeboxSpawn

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// The one way the supervisor starts a process: `fb_spawn` (posix_spawn with an empty signal mask,
/// every disposition reset, and exactly `table` as the child's descriptors), from Swift strings.
public enum ProcessSpawn {
    /// Starts `path` with `argv` (its argv[0] included) and `environment` (`NAME=value` entries);
    /// the child's descriptor i is `table[i]`, closed when -1, and it has no other. Returns the
    /// child's pid, or the errno that stopped it (`error` non-zero).
    public static func start(
        _ path: String, argv: [String], environment: [String] = [], table: [Int32]
    ) -> (pid: pid_t, error: Int32) {
        var cArgv: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        var cEnvp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { for pointer in cArgv + cEnvp { free(pointer) } }
        var pid: pid_t = 0
        let error = table.withUnsafeBufferPointer {
            fb_spawn(&pid, path, &cArgv, &cEnvp, $0.baseAddress, Int32($0.count))
        }
        return (pid, error)
    }
}
