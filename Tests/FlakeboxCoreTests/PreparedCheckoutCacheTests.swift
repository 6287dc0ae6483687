import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

@testable import FlakeboxCore

#if canImport(Glibc)
    import Glibc
#endif

/// The cache of prepared checkouts on its own: what is kept, found, bounded and refused.
@Suite("Prepared checkouts: the cache")
struct PreparedCheckoutCacheTests {
    private static func scratch() -> String {
        let path = NSTemporaryDirectory() + "flakebox-cache-test-\(UUID().uuidString.prefix(8))"
        mkdir(path, 0o755)
        return path
    }

    /// A checkout-like directory of `bytes` bytes, ready to be moved into the cache.
    private static func checkout(in directory: String, _ name: String, bytes: Int = 10) throws -> String {
        let path = "\(directory)/\(name)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try Data(count: bytes).write(to: URL(fileURLWithPath: "\(path)/file"))
        return path
    }

    private static func metadata(_ key: String, bytes: Int64 = 10) -> PreparedCheckoutCache.Metadata {
        .init(key: key, commit: String(repeating: "a", count: 40), pytestRandomly: false, setup: nil, bytes: bytes)
    }

    private static func entries(_ root: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { $0.hasPrefix("entry-") }
    }

    @Test("a stored checkout is moved in and found by its exact key only")
    func storeAndLookup() throws {
        let work = Self.scratch()
        defer { WorkspaceFiles.removeTree(work) }
        let cache = PreparedCheckoutCache(root: "\(work)/cache")
        let source = try Self.checkout(in: work, "checkout")
        let key = PreparedCheckoutCache.Key([("commit", "abc")])
        cache.store(checkout: source, metadata: Self.metadata(key.text))
        #expect(!FileManager.default.fileExists(atPath: source), "moved, not copied")
        let lease = try #require(cache.lookup(key))
        defer { lease.release() }
        #expect(FileManager.default.fileExists(atPath: "\(lease.checkout)/file"))
        #expect(lease.metadata == Self.metadata(key.text))
        #expect(cache.lookup(PreparedCheckoutCache.Key([("commit", "abd")])) == nil)
        // The root lets the sandbox user pass through but not list it.
        var info = stat()
        #expect(lstat(cache.root, &info) == 0 && info.st_mode & 0o777 == 0o711)
    }

    @Test("the least recently used entries go first; one in use stays")
    func eviction() throws {
        let work = Self.scratch()
        defer { WorkspaceFiles.removeTree(work) }
        let cache = PreparedCheckoutCache(root: "\(work)/cache", maxEntries: 2)
        let keys = (0..<3).map { PreparedCheckoutCache.Key([("n", "\($0)")]) }
        cache.store(checkout: try Self.checkout(in: work, "c0"), metadata: Self.metadata(keys[0].text))
        usleep(20_000)
        cache.store(checkout: try Self.checkout(in: work, "c1"), metadata: Self.metadata(keys[1].text))
        usleep(20_000)
        // Using entry 0 makes entry 1 the least recently used, and holds entry 0.
        let held = try #require(cache.lookup(keys[0]))
        usleep(20_000)
        cache.store(checkout: try Self.checkout(in: work, "c2"), metadata: Self.metadata(keys[2].text))
        #expect(Self.entries(cache.root).count == 2)
        #expect(cache.lookup(keys[1]) == nil)
        let third = try #require(cache.lookup(keys[2]))
        third.release()
        // Over the byte bound, but in use: entry 0 stays until released.
        var small = cache
        small.maxBytes = 5
        small.evict()
        #expect(FileManager.default.fileExists(atPath: "\(held.checkout)/file"))
        held.release()
        // A process another test is spawning right now may still hold a copy of the lock's
        // descriptor between its fork and its exec (O_CLOEXEC closes it only at exec): eviction
        // skips the entry then, and takes it on a later try.
        for _ in 0..<100 where !Self.entries(cache.root).isEmpty {
            small.evict()
            usleep(20_000)
        }
        #expect(Self.entries(cache.root).isEmpty)
    }

    @Test("entries unused for longer than the age bound are removed")
    func age() throws {
        let work = Self.scratch()
        defer { WorkspaceFiles.removeTree(work) }
        var cache = PreparedCheckoutCache(root: "\(work)/cache")
        let key = PreparedCheckoutCache.Key([("n", "old")])
        cache.store(checkout: try Self.checkout(in: work, "c"), metadata: Self.metadata(key.text))
        cache.maxAgeSeconds = 0
        cache.evict()
        #expect(Self.entries(cache.root).isEmpty)
    }

    @Test("a root that is a link, or not a directory of ours, is never used")
    func hostileRoot() throws {
        let work = Self.scratch()
        defer { WorkspaceFiles.removeTree(work) }
        mkdir("\(work)/elsewhere", 0o755)
        #expect(symlink("\(work)/elsewhere", "\(work)/cache") == 0)
        let cache = PreparedCheckoutCache(root: "\(work)/cache")
        let source = try Self.checkout(in: work, "checkout")
        let key = PreparedCheckoutCache.Key([("n", "x")])
        cache.store(checkout: source, metadata: Self.metadata(key.text))
        #expect(FileManager.default.fileExists(atPath: "\(source)/file"), "left where it was")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(work)/elsewhere")) ?? []).isEmpty)
        #expect(cache.lookup(key) == nil)
        if geteuid() == 0 {
            mkdir("\(work)/theirs", 0o755)
            chown("\(work)/theirs", 65534, 65534)
            let theirs = PreparedCheckoutCache(root: "\(work)/theirs")
            theirs.store(checkout: source, metadata: Self.metadata(key.text))
            #expect(FileManager.default.fileExists(atPath: "\(source)/file"))
        }
    }

    @Test("a checkout larger than the byte bound is not kept")
    func tooLarge() throws {
        let work = Self.scratch()
        defer { WorkspaceFiles.removeTree(work) }
        let cache = PreparedCheckoutCache(root: "\(work)/cache", maxBytes: 1000)
        let source = try Self.checkout(in: work, "checkout", bytes: 5000)
        cache.store(checkout: source, metadata: Self.metadata("k", bytes: 5000))
        #expect(FileManager.default.fileExists(atPath: "\(source)/file"))
        #expect(Self.entries(cache.root).isEmpty)
    }

    @Test("leftovers of a process that died mid-store are swept")
    func leftovers() throws {
        let work = Self.scratch()
        defer { WorkspaceFiles.removeTree(work) }
        let cache = PreparedCheckoutCache(root: "\(work)/cache")
        cache.store(checkout: try Self.checkout(in: work, "c"), metadata: Self.metadata("k"))
        // pid 2^22 + 1 is above the kernel's pid limit, so it never names a live process.
        let stale = "\(cache.root)/.incoming-4194305-dead"
        mkdir(stale, 0o700)
        cache.evict()
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(Self.entries(cache.root).count == 1)
    }
}
