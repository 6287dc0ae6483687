/// What to fetch: one repository at one ref, within limits.
public struct FetchRequest: Sendable, Equatable {
    /// An `https://` URL, `ssh://` URL or scp-like `user@host:path`; with `allowLocal`, also a
    /// local path or a `file://` URL. See `RepositoryURL`.
    public var repo: String
    /// A branch or tag name, or a commit id (7 to 40 or 64 hex digits); nil: the default branch.
    public var ref: String?
    /// True only for input typed on the command line by the person who runs flakebox: it admits
    /// local paths and `file://` (for the repository and its submodules) and lets ssh use that
    /// person's own ssh configuration and keys. Input that arrives over the network must leave
    /// it false.
    public var allowLocal: Bool
    /// Which addresses git may connect to. Defaults to `.publicOnly` for input from the network
    /// (`allowLocal` false) and `.any` for the command line.
    public var addressScope: AddressScope
    /// For a local path: also take the working tree's uncommitted and untracked (not ignored)
    /// changes (`WorkingTreeSnapshot`). Ignored for anything else.
    public var includeWorkingTree: Bool
    /// Also fetch the submodules (shallow). Off by default.
    public var submodules: Bool
    /// Wall-clock limit for the whole fetch, every git process included.
    public var timeoutSeconds: Double
    /// Size limit of the checkout (`.git` included), checked while git runs and after.
    public var maxBytes: UInt64
    /// The hosts the repository and its submodules may be on (empty: any, the address checks
    /// still apply).
    public var allowedHosts: HostAllowList

    public init(
        repo: String, ref: String? = nil, allowLocal: Bool = false, submodules: Bool = false,
        timeoutSeconds: Double = 300, maxBytes: UInt64 = 2 << 30, addressScope: AddressScope? = nil,
        includeWorkingTree: Bool = false, allowedHosts: HostAllowList = HostAllowList()
    ) {
        self.allowedHosts = allowedHosts
        self.includeWorkingTree = includeWorkingTree
        self.addressScope = addressScope ?? (allowLocal ? .any : .publicOnly)
        self.repo = repo
        self.ref = ref
        self.allowLocal = allowLocal
        self.submodules = submodules
        self.timeoutSeconds = timeoutSeconds
        self.maxBytes = maxBytes
    }
}

/// Where a fetch may connect.
public enum AddressScope: Sendable, Equatable {
    /// Public addresses only, checked after resolution and pinned (`RemoteHostGuard`).
    case publicOnly
    /// Whatever the host resolves to: input typed by the person who runs flakebox, or a test that
    /// serves a repository on loopback.
    case any
}
