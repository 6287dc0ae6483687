import FlakeboxSandbox
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Prepared checkouts kept after a job, so that a replay (or a second run) of the same repository,
/// commit and setup starts in the time the test takes instead of cloning and installing again.
///
/// Layout: `root/entry-<random>/{meta.json, lock, checkout/}`. The root is `0711` and owned by the
/// supervisor: the sandbox user may pass through to a checkout it is handed but cannot list the
/// entries. A job using an entry holds a shared `flock` on its `lock` for as long as it runs;
/// eviction takes the lock exclusively and skips an entry in use. Entries are moved in and out
/// with `rename(2)`, so a reader never sees half an entry.
public struct PreparedCheckoutCache: Sendable {
    public var root: String
    /// At most this many entries, and at most `maxBytes` of checkouts, least recently used out first.
    public var maxEntries: Int
    public var maxBytes: Int64
    /// An entry not used for this long is removed.
    public var maxAgeSeconds: Double

    public init(root: String, maxEntries: Int = 4, maxBytes: Int64 = 4 << 30, maxAgeSeconds: Double = 7 * 86_400) {
        self.root = root
        self.maxEntries = maxEntries
        self.maxBytes = maxBytes
        self.maxAgeSeconds = maxAgeSeconds
    }

    /// Beside the job directories: the same file system, so a finished job's checkout is moved in,
    /// never copied. One per uid, like the job directories.
    public static func standard() -> PreparedCheckoutCache {
        PreparedCheckoutCache(root: NSTemporaryDirectory() + "flakebox-cache-\(getuid())")
    }

    /// Everything that decides what the prepared checkout holds. Two jobs with equal keys would
    /// prepare the same checkout.
    public struct Key: Sendable, Equatable {
        public var text: String
        public init(_ parts: [(String, String)]) {
            text = (["flakebox-prepared-checkout 1"] + parts.map { "\($0.0)=\($0.1)" }).joined(separator: "\n")
        }
    }

    /// What the job learnt while preparing the checkout, kept with it.
    public struct Metadata: Sendable, Codable, Equatable {
        public var key: String
        public var commit: String
        public var pytestRandomly: Bool
        public var setup: SetupReport?
        public var bytes: Int64
    }

    /// An entry in use: its checkout stays until `release()`.
    public struct Lease: Sendable {
        public var checkout: String
        public var metadata: Metadata
        let lockFD: Int32

        public func release() { close(lockFD) }
    }

    /// The entry for `key`, locked shared, or nil.
    public func lookup(_ key: Key) -> Lease? {
        guard rootIsOurs() else { return nil }
        for (name, metadata) in entries() where metadata.key == key.text {
            let directory = "\(root)/\(name)"
            let fd = open("\(directory)/lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            // Shared: many jobs may use one entry; eviction's exclusive lock fails while they do.
            guard flock(fd, LOCK_SH | LOCK_NB) == 0, Self.sameFile(fd, "\(directory)/lock"),
                Self.isDirectory("\(directory)/checkout")
            else {
                close(fd)
                continue
            }
            // The lock file's time is the entry's last use.
            utimensat(AT_FDCWD, "\(directory)/lock", nil, AT_SYMLINK_NOFOLLOW)
            return Lease(checkout: "\(directory)/checkout", metadata: metadata, lockFD: fd)
        }
        return nil
    }

    /// Moves `checkout` into the cache under `metadata.key`, then evicts what is over the bounds.
    /// Does nothing when an entry for the key exists or the move is impossible (another file
    /// system); the caller removes `checkout` as usual if it is still there.
    public func store(checkout: String, metadata: Metadata) {
        guard makeRoot(), !entries().contains(where: { $0.metadata.key == metadata.key }) else { return }
        guard metadata.bytes <= maxBytes else { return }
        let incoming = "\(root)/.incoming-\(getpid())-\(UUID().uuidString.prefix(12))"
        guard mkdir(incoming, 0o711) == 0 else { return }
        guard let data = try? JSONEncoder().encode(metadata), Self.writeFile(data, to: "\(incoming)/meta.json"),
            Self.writeFile(Data(), to: "\(incoming)/lock"), rename(checkout, "\(incoming)/checkout") == 0,
            rename(incoming, "\(root)/entry-\(UUID().uuidString.prefix(16))") == 0
        else {
            if Self.isDirectory("\(incoming)/checkout") { rename("\(incoming)/checkout", checkout) }
            WorkspaceFiles.removeTree(incoming)
            return
        }
        evict()
    }

    /// Removes entries unused for `maxAgeSeconds`, then the least recently used ones while there
    /// are more than `maxEntries` or more than `maxBytes`; entries in use are skipped. Leftovers of
    /// a process that died mid-store or mid-removal go too.
    public func evict() {
        guard rootIsOurs() else { return }
        ScratchSweeper.removeStale(in: [root], ownerPID: Self.ownerPID)
        let now = Date().timeIntervalSince1970
        var live = entries().map { entry in
            (name: entry.name, bytes: entry.metadata.bytes, used: Self.modified("\(root)/\(entry.name)/lock") ?? 0)
        }
        .sorted { $0.used < $1.used }
        var total = live.reduce(Int64(0)) { $0 + $1.bytes }
        var index = 0
        while index < live.count {
            let entry = live[index]
            let over = live.count > maxEntries || total > maxBytes || now - entry.used > maxAgeSeconds
            if over && remove(entry.name) {
                total -= entry.bytes
                live.remove(at: index)
            } else {
                index += 1
            }
        }
    }

    /// Takes the entry out with its lock held exclusively (no job is using it), then deletes it.
    private func remove(_ name: String) -> Bool {
        let directory = "\(root)/\(name)"
        let fd = open("\(directory)/lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        defer { if fd >= 0 { close(fd) } }
        if fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0 { return false }
        let trash = "\(root)/.trash-\(getpid())-\(UUID().uuidString.prefix(12))"
        guard rename(directory, trash) == 0 else { return false }
        WorkspaceFiles.removeTree(trash)
        return true
    }

    /// The entries whose metadata reads back; anything else under the root is not an entry.
    private func entries() -> [(name: String, metadata: Metadata)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.filter { $0.hasPrefix("entry-") }.sorted().compactMap { name in
            guard let data = Self.readFile("\(root)/\(name)/meta.json", limit: 1 << 20),
                let metadata = try? JSONDecoder().decode(Metadata.self, from: data)
            else { return nil }
            return (name, metadata)
        }
    }

    /// Creates the root if needed; true when it is a real directory of ours.
    private func makeRoot() -> Bool {
        if mkdir(root, 0o711) != 0 && errno != EEXIST { return false }
        return rootIsOurs() && chmod(root, 0o711) == 0
    }

    /// A directory, not a link, owned by this uid: one another user made first is never used.
    private func rootIsOurs() -> Bool {
        var info = stat()
        return lstat(root, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR && info.st_uid == geteuid()
    }

    /// The pid in `.incoming-<pid>-…` or `.trash-<pid>-…`.
    static func ownerPID(_ name: String) -> pid_t? {
        for prefix in [".incoming-", ".trash-"] where name.hasPrefix(prefix) {
            let digits = name.dropFirst(prefix.count).prefix { $0.isASCII && $0.isNumber }
            return digits.isEmpty || digits.count >= 10 ? nil : pid_t(digits)
        }
        return nil
    }

    private static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private static func sameFile(_ fd: Int32, _ path: String) -> Bool {
        var opened = stat()
        var named = stat()
        return fstat(fd, &opened) == 0 && lstat(path, &named) == 0 && opened.st_ino == named.st_ino
            && opened.st_dev == named.st_dev
    }

    private static func modified(_ path: String) -> Double? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    private static func writeFile(_ data: Data, to path: String) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == data.count
    }

    private static func readFile(_ path: String, limit: Int) -> Data? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: limit + 1)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count >= 0, count <= limit else { return nil }
        return Data(buffer.prefix(count))
    }
}
