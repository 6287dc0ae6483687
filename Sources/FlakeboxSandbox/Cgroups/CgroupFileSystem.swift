#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Thin wrappers over the system calls the cgroup layer needs. Foundation's file APIs would lose
/// the errno, and cgroup files need exactly one `write(2)` per value.
enum CgroupFileSystem {
    /// Reads a whole (small) cgroup or proc file.
    static func readFile(_ path: String, code: CgroupError.Code = .readFailed) throws(CgroupError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            throw CgroupError(code, "cannot read a cgroup file", operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CgroupError(code, "cannot read a cgroup file", operation: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads a file, or returns `nil` if it is missing or unreadable (optional accounting files).
    static func readIfPresent(_ path: String) -> String? {
        try? readFile(path)
    }

    /// Writes `value` with a single `write(2)`, as cgroup files require.
    static func writeFile(_ value: String, to path: String, code: CgroupError.Code) throws(CgroupError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 {
            throw CgroupError(code, "cannot write \"\(value)\"", operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var bytes = Array(value.utf8)
        while true {
            let count = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
            if count == bytes.count { return }
            if count < 0 && errno == EINTR { continue }
            let failure = count < 0 ? errno : EIO
            throw CgroupError(code, "cannot write \"\(value)\"", operation: "write", path: path, errno: failure)
        }
    }

    /// `mkdir(2)`; returns `false` instead of throwing when the directory exists and `allowExisting` is set.
    @discardableResult
    static func makeDirectory(_ path: String, allowExisting: Bool, code: CgroupError.Code) throws(CgroupError) -> Bool {
        if mkdir(path, 0o755) == 0 { return true }
        let failure = errno
        if failure == EEXIST {
            if allowExisting { return false }
            throw CgroupError(
                .alreadyExists, "a cgroup with this name exists", operation: "mkdir", path: path, errno: failure)
        }
        throw CgroupError(code, "cannot create a cgroup", operation: "mkdir", path: path, errno: failure)
    }

    /// `rmdir(2)`; returns 0 or the errno, because callers retry on EBUSY.
    static func removeDirectory(_ path: String) -> Int32 {
        rmdir(path) == 0 ? 0 : errno
    }

    static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// Names of the subdirectories of `path` (child cgroups); empty if it cannot be listed.
    static func subdirectories(of path: String) -> [String] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Parses `cgroup.procs`: one pid per line.
    static func parsePIDs(_ text: String) -> [pid_t] {
        text.split(whereSeparator: \.isNewline).compactMap { pid_t(trim($0)) }
    }

    /// Parses "key value" lines (`cpu.stat`, `memory.events`, `memory.oom_control`, `pids.events`).
    static func keyedValues(_ text: String) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count == 2, let value = UInt64(fields[1]) {
                values[String(fields[0])] = value
            }
        }
        return values
    }

    /// Parses a single number; `"max"` (and v1's huge "unlimited" values) become `nil`.
    static func parseLimit(_ text: String) -> UInt64? {
        let trimmed = trim(text)
        guard trimmed != "max", let value = UInt64(trimmed) else { return nil }
        // v1 reports "no limit" as PAGE_COUNTER_MAX * page size (9223372036854771712) or -1.
        return value >= 1 << 62 ? nil : value
    }

    /// Sleeps the calling thread; used only in short bounded polling loops during teardown.
    static func sleep(milliseconds: Int) {
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 && errno == EINTR {
            request = remaining
        }
    }

    /// Strips leading and trailing whitespace (cgroup files end in a newline).
    static func trim(_ text: some StringProtocol) -> String {
        String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
