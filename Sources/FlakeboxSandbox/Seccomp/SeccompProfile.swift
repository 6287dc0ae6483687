import Foundation

/// A seccomp profile in the OCI runtime-spec / Docker JSON format (`policies/seccomp/*.json`).
///
/// Decoding is strict: unknown fields, wrong types, out-of-range numbers, unknown actions, operators,
/// architectures and flags, `names` together with `name`, and `archMap` together with `architectures`
/// are all ``SeccompProfileError``s naming the JSON field path. Whether the system call names exist is
/// checked when compiling (``SeccompCompiler``), against flakebox's own tables.
public struct SeccompProfile: Sendable, Hashable, Decodable {
    /// The action for calls no rule matches.
    public var defaultAction: SeccompAction
    /// The errno for a default action of ``SeccompAction/errno``; `nil` means `EPERM`.
    public var defaultErrnoRet: UInt32?
    /// Docker's per-native-architecture list of sub-architectures.
    public var archMap: [ArchitectureMapping]
    /// The OCI list of architectures (exclusive with ``archMap``).
    public var architectures: [SeccompArchitecture]
    /// `SECCOMP_FILTER_FLAG_*` flags requested for loading the filter.
    public var flags: [Flag]
    /// OCI: the unix socket of a `SCMP_ACT_NOTIFY` agent (unused: flakebox rejects NOTIFY).
    public var listenerPath: String?
    /// OCI: opaque data for the notify agent.
    public var listenerMetadata: String?
    /// The rules, in order.
    public var syscalls: [Syscall]

    /// One `archMap` entry: a native architecture and the ABIs that run on it.
    public struct ArchitectureMapping: Sendable, Hashable, Decodable {
        public var architecture: SeccompArchitecture
        public var subArchitectures: [SeccompArchitecture]

        public init(architecture: SeccompArchitecture, subArchitectures: [SeccompArchitecture]) {
            self.architecture = architecture
            self.subArchitectures = subArchitectures
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case architecture, subArchitectures
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            architecture = try container.decodeRequired(SeccompArchitecture.self, forKey: .architecture)
            subArchitectures =
                try container.decodeIfPresent([SeccompArchitecture].self, forKey: .subArchitectures) ?? []
        }
    }

    /// A `SECCOMP_FILTER_FLAG_*` name.
    public enum Flag: String, Sendable, Hashable, CaseIterable, Decodable {
        case tsync = "SECCOMP_FILTER_FLAG_TSYNC"
        case log = "SECCOMP_FILTER_FLAG_LOG"
        case specAllow = "SECCOMP_FILTER_FLAG_SPEC_ALLOW"
        case waitKillableRecv = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let flag = Flag(rawValue: text) else {
                let known = Flag.allCases.map(\.rawValue).joined(separator: ", ")
                throw decoder.profileError(.invalidValue, "unknown flag \"\(text)\" (expected one of: \(known))")
            }
            self = flag
        }
    }

    /// Creates a profile in code.
    public init(
        defaultAction: SeccompAction,
        defaultErrnoRet: UInt32? = nil,
        archMap: [ArchitectureMapping] = [],
        architectures: [SeccompArchitecture] = [],
        flags: [Flag] = [],
        syscalls: [Syscall]
    ) {
        self.defaultAction = defaultAction
        self.defaultErrnoRet = defaultErrnoRet
        self.archMap = archMap
        self.architectures = architectures
        self.flags = flags
        self.listenerPath = nil
        self.listenerMetadata = nil
        self.syscalls = syscalls
    }

    /// Decodes a profile from JSON bytes.
    public init(jsonData: Data) throws(SeccompProfileError) {
        do {
            self = try JSONDecoder().decode(SeccompProfile.self, from: jsonData)
        } catch {
            throw SeccompProfileError(decoding: error)
        }
    }

    /// Reads and decodes a profile file.
    public static func load(contentsOf url: URL) throws(SeccompProfileError) -> SeccompProfile {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SeccompProfileError(
                code: .unreadable,
                path: "",
                message: "cannot read seccomp profile \(url.path): \(error.localizedDescription)"
            )
        }
        return try SeccompProfile(jsonData: data)
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case defaultAction, defaultErrnoRet, archMap, architectures, flags, listenerPath, listenerMetadata
        case syscalls
    }

    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        defaultAction = try container.decodeRequired(SeccompAction.self, forKey: .defaultAction)
        defaultErrnoRet = try container.decodeUInt64IfPresent(forKey: .defaultErrnoRet).map {
            try Self.errno($0, decoder: decoder, key: CodingKeys.defaultErrnoRet)
        }
        archMap = try container.decodeIfPresent([ArchitectureMapping].self, forKey: .archMap) ?? []
        architectures = try container.decodeIfPresent([SeccompArchitecture].self, forKey: .architectures) ?? []
        if !archMap.isEmpty && !architectures.isEmpty {
            throw decoder.profileError(
                .conflictingFields,
                at: CodingKeys.architectures,
                "both \"archMap\" and \"architectures\" are given; use one of them"
            )
        }
        flags = try container.decodeIfPresent([Flag].self, forKey: .flags) ?? []
        listenerPath = try container.decodeIfPresent(String.self, forKey: .listenerPath)
        listenerMetadata = try container.decodeIfPresent(String.self, forKey: .listenerMetadata)
        syscalls = try container.decodeIfPresent([Syscall].self, forKey: .syscalls) ?? []
    }

    /// The largest errno the kernel passes through (`MAX_ERRNO`); larger values would be silently capped.
    static let maximumErrno: UInt64 = 4095

    static func errno(_ value: UInt64, decoder: any Decoder, key: any CodingKey) throws -> UInt32 {
        guard value <= maximumErrno else {
            throw decoder.profileError(.outOfRange, at: key, "errno \(value) is out of range (0...\(maximumErrno))")
        }
        return UInt32(value)
    }
}
