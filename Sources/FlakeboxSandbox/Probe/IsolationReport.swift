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

    public var missing: [Layer] { layers.filter { !$0.available } }

    public var missingSummary: String {
        let names = missing.map { "\($0.name) (\($0.detail))" }
        return names.isEmpty ? "nothing" : names.joined(separator: "; ")
    }
}
