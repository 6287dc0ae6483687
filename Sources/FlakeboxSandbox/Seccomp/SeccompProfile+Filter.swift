#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

extension SeccompProfile {
    /// Docker's `includes` / `excludes` condition on a rule.
    ///
    /// - `excludes` drops the rule if the native architecture is in ``arches``, **or** any of ``caps``
    ///   is granted, **or** the kernel is at least ``minKernel``.
    /// - `includes` keeps the rule only if the native architecture is in ``arches`` (when given),
    ///   **and** all of ``caps`` are granted, **and** the kernel is at least ``minKernel``.
    public struct Filter: Sendable, Hashable, Decodable {
        /// Capability names such as `CAP_SYS_ADMIN`.
        public var caps: [String]
        /// Go-style architecture names (`amd64`, `arm64`, `x86`, …).
        public var arches: [String]
        public var minKernel: KernelVersion?

        public init(caps: [String] = [], arches: [String] = [], minKernel: KernelVersion? = nil) {
            self.caps = caps
            self.arches = arches
            self.minKernel = minKernel
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case caps, arches, minKernel
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            caps = try container.decodeIfPresent([String].self, forKey: .caps) ?? []
            for (index, cap) in caps.enumerated() where !Self.isCapabilityName(cap) {
                throw SeccompProfileError(
                    code: .invalidValue,
                    path: seccompJSONPath(decoder.codingPath + [CodingKeys.caps, AnyCodingKey(intValue: index)]),
                    message: "\"\(cap)\" is not a capability name (CAP_…)"
                )
            }
            arches = try container.decodeIfPresent([String].self, forKey: .arches) ?? []
            for (index, arch) in arches.enumerated() where !SeccompArchitecture.acceptedProfileNames.contains(arch) {
                throw SeccompProfileError(
                    code: .invalidValue,
                    path: seccompJSONPath(decoder.codingPath + [CodingKeys.arches, AnyCodingKey(intValue: index)]),
                    message: "unknown architecture \"\(arch)\" (expected a Go-style name such as amd64, arm64, x86)"
                )
            }
            // Docker treats an empty string as "no minimum".
            let kernelText = try container.decodeIfPresent(String.self, forKey: .minKernel) ?? ""
            if kernelText.isEmpty {
                minKernel = nil
            } else {
                do {
                    minKernel = try KernelVersion(profileText: kernelText)
                } catch {
                    throw decoder.profileError(.invalidValue, at: CodingKeys.minKernel, error.message)
                }
            }
        }

        private static func isCapabilityName(_ name: String) -> Bool {
            name.hasPrefix("CAP_") && name.count > 4
                && name.dropFirst(4).allSatisfy { ($0.isASCII && $0.isUppercase) || $0.isNumber || $0 == "_" }
        }
    }

    /// A kernel version as `minKernel` spells it: `"<kernel>.<major>"` (`"4.8"`). Minor revisions and
    /// distribution suffixes of the running kernel are ignored when comparing.
    public struct KernelVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var kernel: Int
        public var major: Int

        public init(kernel: Int, major: Int) {
            self.kernel = kernel
            self.major = major
        }

        /// Parses the leading `X.Y` of a `uname -r` release such as `6.18.44-fc-v782`.
        public init?(release: String) {
            let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
            guard numbers.count == 2, release.first?.isNumber == true else { return nil }
            self.init(kernel: numbers[0], major: numbers[1])
        }

        /// The running kernel's version, from `uname(2)`.
        public static var running: KernelVersion? {
            var name = utsname()
            guard uname(&name) == 0 else { return nil }
            let release = withUnsafeBytes(of: &name.release) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            return KernelVersion(release: release)
        }

        public static func < (lhs: KernelVersion, rhs: KernelVersion) -> Bool {
            (lhs.kernel, lhs.major) < (rhs.kernel, rhs.major)
        }

        public var description: String { "\(kernel).\(major)" }

        /// Parses `"<kernel>.<major>"` as Docker does: exactly two dot-separated numbers of 0...255,
        /// not both zero.
        public init(profileText text: String) throws(SeccompProfileError) {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2,
                parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
                let kernel = UInt8(parts[0]), let major = UInt8(parts[1])
            else {
                throw SeccompProfileError(
                    code: .invalidValue,
                    path: "",
                    message: "invalid kernel version \"\(text)\", expected \"<kernel>.<major>\" such as \"4.8\""
                )
            }
            guard kernel != 0 || major != 0 else {
                throw SeccompProfileError(
                    code: .invalidValue,
                    path: "",
                    message: "invalid kernel version \"\(text)\": cannot be 0.0"
                )
            }
            self.init(kernel: Int(kernel), major: Int(major))
        }
    }
}
