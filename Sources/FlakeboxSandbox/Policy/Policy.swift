import Foundation

/// A named sandbox policy: what an attempt sees, what it may use, and how strongly it must be
/// isolated. Policies are data (`policies/*.json`); see `PolicyStore` for where they come from.
public struct Policy: Sendable, Equatable {
    public enum Network: String, Sendable, Equatable, CaseIterable {
        /// A private network namespace holding only its own loopback.
        case none
        /// A private network namespace whose only way out is the helper's egress proxy: HTTP
        /// CONNECT (what `pip`, `git`, `npm` and `cargo` use through `HTTPS_PROXY`) to public
        /// addresses, never loopback, private, link-local, CGNAT or unique-local ones. At the
        /// minimal tier, where there is no namespace, it is the host network under the net guard.
        case proxy
        /// The host's network.
        case host
    }

    /// The egress proxy's port on a `proxy` sandbox's own 127.0.0.1.
    public static let egressProxyPort = 3128

    /// The filesystem an attempt sees. Everything not listed is absent.
    public struct Filesystem: Sendable, Equatable {
        /// Host paths bound read-only at the same place; host symlinks (`/bin` → `usr/bin`) are
        /// recreated as symlinks. Missing paths are skipped.
        public var readOnlyPaths: [String]
        /// Entries of the host's `/etc` bound read-only (never the whole `/etc`). `passwd` and
        /// `group` are generated for the sandbox user instead.
        public var etc: [String]
        /// Where the copy-on-write view of the checkout appears.
        public var workspace: String
        public var workspaceSize: UInt64
        public var tmpSize: UInt64
        public var shmSize: UInt64
        /// Inode limit of each writable tmpfs (workspace upper, /tmp).
        public var inodes: UInt64
    }

    public struct Limits: Sendable, Equatable {
        public var memory: UInt64?
        /// The most a job's `memory` may ask for (never less than `memory`: a policy that extends
        /// another and raises `memory` keeps it); nil: no more than `memory`.
        public var maxMemory: UInt64? = nil
        public var pids: Int?
        public var cpus: Double?
        public var cpuSeconds: Int?
        public var fileSize: UInt64?
        public var openFiles: Int?
        /// Per-process backstop for the pid limit, counted per user namespace.
        public var processes: Int?
        /// Wall-clock limit of one attempt.
        public var timeoutSeconds: Double
        /// Bytes kept per stream (head and tail halves).
        public var outputCapture: Int
        /// Total bytes an attempt may write to stdout+stderr before it is killed (`output_limit`).
        public var outputLimit: UInt64
    }

    public struct Environment: Sendable, Equatable {
        /// Variables copied from the supervisor when set there (never `RUNPOD_*` or API keys).
        public var passthrough: [String]
        public var set: [String: String]
    }

    public var name: String
    public var summary: String
    public var minimumTier: IsolationTier
    public var network: Network
    public var filesystem: Filesystem
    public var limits: Limits
    public var environment: Environment
    /// A profile file in the OCI/Docker format, relative to the policy's directory, or `unconfined`.
    public var seccompProfile: String
    /// Let 32-bit and x32 system calls through (they bypass argument filters via socketcall).
    public var allowForeignABIs: Bool
    /// Where `seccompProfile` is resolved from.
    public var directory: URL?
    /// Whether a job that arrived over the network (worker, service) may name this policy. Never
    /// together with `network: host`, which the loader refuses.
    public var openToRemoteJobs: Bool = false

    /// The policy a job's setup step (dependency installation) runs under: each family names its
    /// own (`default` → `setup`, `runpod` → `runpod-setup`). Nil: the runner's default.
    public var setupPolicy: String? = nil

    public static let knownKeys = [
        "name", "description", "extends", "minimumTier", "network", "filesystem", "limits", "environment",
        "seccomp", "allowForeignABIs", "remoteJobs", "setupPolicy",
    ]
}

extension Policy {
    /// Builds a policy from its JSON object, collecting every problem.
    public init(json object: [String: Any], directory: URL?) throws(PolicyError) {
        var reader = JSONFieldReader(object)
        let name = reader.string("name") ?? "unnamed"
        let summary = reader.string("description") ?? ""
        _ = reader.string("extends")
        var minimumTier = IsolationTier.full
        if let text = reader.string("minimumTier") {
            if let tier = IsolationTier(rawValue: text) {
                minimumTier = tier
            } else {
                reader.fail("minimumTier", "must be one of minimal, reduced, full")
            }
        }
        var network = Network.none
        if let text = reader.string("network") {
            if let value = Network(rawValue: text) {
                network = value
            } else {
                reader.fail("network", "must be \"none\", \"proxy\" or \"host\"")
            }
        }
        let seccomp = reader.string("seccomp") ?? "unconfined"
        let allowForeignABIs = reader.bool("allowForeignABIs") ?? false
        let openToRemoteJobs = reader.bool("remoteJobs") ?? false
        if openToRemoteJobs && network == .host {
            reader.fail("remoteJobs", "a policy with \"network\": \"host\" cannot be open to remote jobs")
        }
        let setupPolicy = reader.string("setupPolicy")
        if let setupPolicy, setupPolicy.isEmpty || setupPolicy.contains("/") {
            reader.fail("setupPolicy", "must be a policy name")
        }

        var filesystem = Filesystem(
            readOnlyPaths: [], etc: [], workspace: "/workspace", workspaceSize: 1 << 30, tmpSize: 512 << 20,
            shmSize: 64 << 20, inodes: 262_144)
        if var fs = reader.object("filesystem") {
            filesystem.readOnlyPaths = fs.stringArray("readOnlyPaths") ?? []
            filesystem.etc = fs.stringArray("etc") ?? []
            filesystem.workspace = fs.string("workspace") ?? filesystem.workspace
            filesystem.workspaceSize = fs.byteSize("workspaceSize", in: 1 << 20...1 << 40) ?? filesystem.workspaceSize
            filesystem.tmpSize = fs.byteSize("tmpSize", in: 1 << 20...1 << 40) ?? filesystem.tmpSize
            filesystem.shmSize = fs.byteSize("shmSize", in: 1 << 20...1 << 40) ?? filesystem.shmSize
            filesystem.inodes = fs.byteSize("inodes", in: 1024...1 << 32) ?? filesystem.inodes
            for (index, path) in filesystem.readOnlyPaths.enumerated() where !Self.isCleanAbsolute(path) {
                fs.fail("readOnlyPaths[\(index)]", "must be an absolute path without '..': \(path)")
            }
            for (index, entry) in filesystem.etc.enumerated()
            where entry.isEmpty || entry.hasPrefix("/") || entry.split(separator: "/").contains("..") {
                fs.fail("etc[\(index)]", "must be a path relative to /etc without '..': \(entry)")
            }
            if !Self.isCleanAbsolute(filesystem.workspace) {
                fs.fail("workspace", "must be an absolute path without '..'")
            }
            fs.rejectUnknownKeys(known: [
                "readOnlyPaths", "etc", "workspace", "workspaceSize", "tmpSize", "shmSize", "inodes",
            ])
            reader.absorb(fs)
        }

        var limits = Limits(
            memory: nil, pids: nil, cpus: nil, cpuSeconds: nil, fileSize: nil, openFiles: nil, processes: nil,
            timeoutSeconds: 600, outputCapture: 64 << 10, outputLimit: 64 << 20)
        if var l = reader.object("limits") {
            limits.memory = l.byteSize("memory", in: 16 << 20...1 << 44)
            limits.maxMemory = l.byteSize("maxMemory", in: 16 << 20...1 << 44)
            limits.pids = l.integer("pids", in: 8...1_000_000).map(Int.init)
            limits.cpus = l.double("cpus", in: 0.01...1024)
            limits.cpuSeconds = l.integer("cpuSeconds", in: 1...86_400 * 7).map(Int.init)
            limits.fileSize = l.byteSize("fileSize", in: 1 << 10...1 << 44)
            limits.openFiles = l.integer("openFiles", in: 16...1 << 20).map(Int.init)
            limits.processes = l.integer("processes", in: 8...1_000_000).map(Int.init)
            limits.timeoutSeconds = l.double("timeoutSeconds", in: 0.01...86_400 * 7) ?? limits.timeoutSeconds
            limits.outputCapture = Int(l.byteSize("outputCapture", in: 256...1 << 30) ?? UInt64(limits.outputCapture))
            limits.outputLimit = l.byteSize("outputLimit", in: 1 << 10...1 << 44) ?? limits.outputLimit
            l.rejectUnknownKeys(known: [
                "memory", "maxMemory", "pids", "cpus", "cpuSeconds", "fileSize", "openFiles", "processes",
                "timeoutSeconds",
                "outputCapture", "outputLimit",
            ])
            reader.absorb(l)
        }

        var environment = Environment(passthrough: [], set: [:])
        if var e = reader.object("environment") {
            environment.passthrough = e.stringArray("passthrough") ?? []
            environment.set = e.stringMap("set") ?? [:]
            for name in environment.passthrough + environment.set.keys.sorted() where !Self.isValidVariableName(name) {
                e.fail("passthrough", "invalid variable name \"\(name)\"")
            }
            e.rejectUnknownKeys(known: ["passthrough", "set"])
            reader.absorb(e)
        }
        reader.rejectUnknownKeys(known: Self.knownKeys)
        if !reader.problems.isEmpty {
            throw PolicyError(code: .invalid, policy: name, problems: reader.problems)
        }
        self.init(
            name: name, summary: summary, minimumTier: minimumTier, network: network, filesystem: filesystem,
            limits: limits, environment: environment, seccompProfile: seccomp, allowForeignABIs: allowForeignABIs,
            directory: directory, setupPolicy: setupPolicy)
        self.openToRemoteJobs = openToRemoteJobs
    }

    static func isCleanAbsolute(_ path: String) -> Bool {
        path.hasPrefix("/") && path != "/" && !path.split(separator: "/").contains("..")
            && !path.contains("\0")
    }

    /// POSIX-portable names only: a name with `=` or a newline could smuggle a second variable.
    public static func isValidVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy {
            $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)))
        }
    }
}
