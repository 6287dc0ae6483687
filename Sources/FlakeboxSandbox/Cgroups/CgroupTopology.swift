/// Where this process sits in each cgroup hierarchy and where those hierarchies are mounted, from
/// `/proc/self/cgroup` and `/proc/self/mountinfo` (never from assumed `/sys/fs/cgroup` paths, which
/// differ between hosts, containers and cgroup namespaces).
public struct CgroupTopology: Sendable, Hashable {
    /// One line of `/proc/self/cgroup`, resolved to a directory if the hierarchy is mounted.
    public struct Hierarchy: Sendable, Hashable {
        /// The hierarchy id (first field); 0 for the unified v2 hierarchy.
        public var id: Int
        /// `.v2` for the unified hierarchy, `.v1` otherwise.
        public var version: CgroupVersion
        /// The v1 controllers bound to this hierarchy (`["cpu", "cpuacct"]`, `["name=systemd"]`); empty for v2.
        public var controllers: [String]
        /// This process's cgroup within the hierarchy, e.g. `/process_api/48e4…`.
        public var cgroupPath: String
        /// The mount point of the hierarchy, if a suitable mount is visible.
        public var mountPoint: String?
        /// The directory of this process's cgroup, if a mount exposes it.
        public var directory: String?
    }

    /// All hierarchies this process belongs to, in `/proc/self/cgroup` order.
    public var hierarchies: [Hierarchy]

    /// Parses the two files' contents (passed in so the parser can be tested with other hosts' layouts).
    public init(procSelfCgroup: String, mountInfo: String) {
        let mounts = Self.parseMountInfo(mountInfo)
        var hierarchies: [Hierarchy] = []
        for line in procSelfCgroup.split(whereSeparator: \.isNewline) {
            // "id:controllers:path"; the path itself may contain ':'.
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let id = Int(fields[0]) else { continue }
            let controllers = fields[1].split(separator: ",").map(String.init)
            let version: CgroupVersion = id == 0 && controllers.isEmpty ? .v2 : .v1
            var hierarchy = Hierarchy(
                id: id, version: version, controllers: controllers, cgroupPath: String(fields[2]),
                mountPoint: nil, directory: nil)
            for mount in mounts where mount.matches(hierarchy) {
                guard let relative = Self.path(hierarchy.cgroupPath, relativeTo: mount.root) else { continue }
                hierarchy.mountPoint = mount.mountPoint
                hierarchy.directory = relative.isEmpty ? mount.mountPoint : mount.mountPoint + relative
                break
            }
            hierarchies.append(hierarchy)
        }
        self.hierarchies = hierarchies
    }

    /// The topology of the calling process.
    public static func current() throws(CgroupError) -> CgroupTopology {
        CgroupTopology(
            procSelfCgroup: try CgroupFileSystem.readFile("/proc/self/cgroup"),
            mountInfo: try CgroupFileSystem.readFile("/proc/self/mountinfo"))
    }

    /// The unified (v2) hierarchy, if the kernel reports one.
    public var unified: Hierarchy? {
        hierarchies.first { $0.version == .v2 }
    }

    /// The v1 hierarchy a controller (`"memory"`, `"cpuacct"`, …) is bound to, if any.
    public func v1Hierarchy(for controller: String) -> Hierarchy? {
        hierarchies.first { $0.version == .v1 && $0.controllers.contains(controller) }
    }

    // MARK: - mountinfo

    private struct Mount {
        var root: String
        var mountPoint: String
        var fileSystemType: String
        var superOptions: Set<String>

        func matches(_ hierarchy: Hierarchy) -> Bool {
            switch hierarchy.version {
            case .v2: return fileSystemType == "cgroup2"
            case .v1: return fileSystemType == "cgroup" && superOptions.isSuperset(of: hierarchy.controllers)
            }
        }
    }

    private static func parseMountInfo(_ text: String) -> [Mount] {
        var mounts: [Mount] = []
        for line in text.split(whereSeparator: \.isNewline) {
            // "36 25 0:31 <root> <mount point> <options> [optional fields…] - <type> <source> <super options>"
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 10, let separator = fields.firstIndex(of: "-"), separator >= 6,
                fields.count > separator + 3
            else { continue }
            mounts.append(
                Mount(
                    root: unescape(fields[3]),
                    mountPoint: unescape(fields[4]),
                    fileSystemType: String(fields[separator + 1]),
                    superOptions: Set(fields[separator + 3].split(separator: ",").map(String.init))))
        }
        return mounts
    }

    /// mountinfo escapes space, tab, newline and backslash as `\040`, `\011`, `\012`, `\134`.
    private static func unescape(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        let source = Array(field.utf8)
        var index = 0
        while index < source.count {
            if source[index] == UInt8(ascii: "\\"), index + 3 < source.count,
                let value = UInt8(String(decoding: source[(index + 1)...(index + 3)], as: UTF8.self), radix: 8)
            {
                bytes.append(value)
                index += 4
            } else {
                bytes.append(source[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `path` below `root`, as a suffix starting with "/" (or empty when equal); `nil` if the mount
    /// does not contain it (a bind mount of another subtree, or a path outside our cgroup namespace).
    private static func path(_ path: String, relativeTo root: String) -> String? {
        if root == "/" { return path == "/" ? "" : path }
        if path == root { return "" }
        if path.hasPrefix(root + "/") { return String(path.dropFirst(root.count)) }
        return nil
    }
}
