#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// Disk use of a tree that something else may be writing (git, during a clone), measured without
/// following symlinks: every entry is `fstatat(AT_SYMLINK_NOFOLLOW)`ed, and only entries seen as
/// directories on the tree's own filesystem are descended into, each opened with `O_NOFOLLOW`
/// relative to the root. Each inode counts once, as the larger of its size and its allocated
/// blocks (so neither sparse nor compressed files, nor a million empty ones, come out as nothing).
/// Entries that vanish mid-walk are skipped. The walk keeps a list of paths rather than a chain of
/// open descriptors, so a deep tree costs no descriptors.
enum DirectorySize {
    /// The bytes under `path` (0 if it does not exist); stops early, with a result above
    /// `stopAbove`, once that much has been seen.
    static func measure(_ path: String, stopAbove: UInt64 = .max) -> UInt64 {
        let root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { return 0 }
        defer { close(root) }
        var rootInfo = stat()
        guard fstat(root, &rootInfo) == 0 else { return 0 }
        var walk = Walk(limit: stopAbove, device: rootInfo.st_dev)
        walk.count(rootInfo)
        var pending: [String] = ["."]
        while let relative = pending.popLast(), walk.total <= stopAbove {
            let fd = openat(root, relative, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { continue }
            for name in walk.list(fd) { pending.append(relative == "." ? name : relative + "/" + name) }
        }
        return walk.total
    }

    private struct Inode: Hashable {
        var device: UInt64
        var number: UInt64
    }

    private struct Walk {
        let limit: UInt64
        let device: dev_t
        var total: UInt64 = 0
        var seen: Set<Inode> = []

        init(limit: UInt64, device: dev_t) {
            self.limit = limit
            self.device = device
        }

        /// Adds an inode (once); returns whether it was new.
        @discardableResult
        mutating func count(_ info: stat) -> Bool {
            let inode = Inode(device: UInt64(info.st_dev), number: UInt64(info.st_ino))
            if info.st_nlink > 1 || (info.st_mode & S_IFMT) == S_IFDIR {
                guard seen.insert(inode).inserted else { return false }
            }
            let allocated = UInt64(max(info.st_blocks, 0)) * 512
            let apparent = UInt64(max(info.st_size, 0))
            total &+= max(allocated, apparent)
            return true
        }

        /// Counts the entries of the directory open on `fd` (and closes it); returns the names
        /// of its subdirectories not seen before.
        mutating func list(_ fd: Int32) -> [String] {
            guard let dir = fdopendir(fd) else {
                close(fd)
                return []
            }
            defer { closedir(dir) }
            var subdirectories: [String] = []
            while total <= limit, let entry = readdir(dir) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                var info = stat()
                guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
                let isNew = count(info)
                if isNew && (info.st_mode & S_IFMT) == S_IFDIR && info.st_dev == device { subdirectories.append(name) }
            }
            return subdirectories
        }
    }
}
