/// What the capability probe found: each isolation layer with whether it works here and why
/// not, and the tier that follows. Every job summary carries it.
public struct IsolationReport: Sendable, Codable, Equatable {
    public struct Layer: Sendable, Codable, Equatable {
        public var name: String
        public var available: Bool
        public var detail: String

        public init(name: String, available: Bool, detail: String) {
            self.name = name
            self.available = available
            self.detail = detail
        }
    }

    public var tier: IsolationTier
    public var layers: [Layer]
    public var kernel: String
    /// The supervisor is not root (user namespaces are unprivileged ones).
    public var rootless: Bool
    public var cgroupsUsable: Bool

    public init(tier: IsolationTier, layers: [Layer], kernel: String, rootless: Bool, cgroupsUsable: Bool) {
        self.tier = tier
        self.layers = layers
        self.kernel = kernel
        self.rootless = rootless
        self.cgroupsUsable = cgroupsUsable
    }

    /// Layers that are not available and matter at this tier (the minimal tier's stand-ins for
    /// namespaces do not, above it).
    public var missing: [Layer] {
        layers.filter { !$0.available && !(tier > .minimal && Self.minimalOnly.contains($0.name)) }
    }

    /// Whether the layer called `name` was found working.
    public func has(_ name: String) -> Bool { layers.contains { $0.name == name && $0.available } }

    /// Layers of the minimal tier that stand in for namespaces (measured on every machine, shown
    /// only when attempts run at that tier).
    public static let minimalOnly: Set<String> = [loopbackGuard, slotUIDs, landlock, privateDirectories]
    public static let landlock = "landlock"
    /// A private /tmp, /var/tmp and /dev/shm by path (the path guard, see `PrivateDirectories`).
    public static let privateDirectories = "private /tmp"
    public static let loopbackGuard = "loopback guard"
    public static let slotUIDs = "uid per attempt"

    public var missingSummary: String {
        let names = missing.map { "\($0.name) (\($0.detail))" }
        return names.isEmpty ? "nothing" : names.joined(separator: "; ")
    }

    /// What attempts get when they run at `tier`, below what the machine allows (`--tier`): the
    /// layers that tier leaves out are reported missing, with that reason.
    public func at(_ tier: IsolationTier) -> IsolationReport {
        guard tier < self.tier else { return self }
        var report = self
        report.tier = tier
        let reason = "not used: the \(tier) tier was asked for"
        let unused: Set<String> = tier == .minimal ? ["namespaces", "overlayfs"] : ["overlayfs"]
        report.layers = layers.map { layer in
            unused.contains(layer.name) && layer.available
                ? Layer(name: layer.name, available: false, detail: reason) : layer
        }
        if tier == .minimal && !layers.contains(where: { $0.name == "network isolation" }) {
            report.layers += Self.minimalGaps(
                guarded: has(Self.loopbackGuard), landlocked: has(Self.landlock),
                privateTemp: has(Self.privateDirectories))
        }
        if tier > .minimal { report.layers.removeAll { Self.minimalOnly.contains($0.name) } }
        return report
    }

    /// What the minimal tier still shares with the host, in words.
    static func minimalGaps(guarded: Bool, landlocked: Bool, privateTemp: Bool) -> [Layer] {
        [
            Layer(
                name: "network isolation", available: false,
                detail: guarded
                    ? "no network namespace: interfaces, /proc/net and UDP/TCP ports of other addresses are shared;"
                        + " loopback and egress go through the loopback guard"
                    : "no network namespace: the host network is reachable"),
            Layer(name: "pid isolation", available: false, detail: "no pid namespace: host processes are visible"),
            Layer(
                name: "filesystem isolation", available: false,
                detail: landlocked && privateTemp
                    ? "no mount namespace: host files are readable as Landlock allows; /tmp, /var/tmp and /dev/shm"
                        + " are private by path (the path guard), not by mount"
                    : landlocked
                        ? "no mount namespace: /tmp and /var/tmp are the host's (not writable; TMPDIR and HOME are"
                            + " private), /dev/shm is shared"
                        : "no mount namespace: /tmp, /var/tmp, /dev/shm and host files are shared (TMPDIR and HOME"
                            + " point at a private directory)"),
        ]
    }
}
