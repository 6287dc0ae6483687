extension SeccompProfile {
    /// One rule of a profile: an action for a list of system calls, optionally restricted by argument
    /// comparisons and by Docker's `includes` / `excludes` conditions.
    public struct Syscall: Sendable, Hashable, Decodable {
        /// The system call names (the legacy single `name` field is folded in here).
        public var names: [String]
        public var action: SeccompAction
        /// The errno for ``SeccompAction/errno`` (or the message for ``SeccompAction/trace``).
        public var errnoRet: UInt32?
        /// Argument comparisons, ANDed (see ``SeccompCompiler`` for repeated indexes).
        public var args: [Argument]
        public var comment: String?
        /// The rule applies only if all of these hold.
        public var includes: Filter?
        /// The rule is dropped if any of these holds.
        public var excludes: Filter?

        public init(
            names: [String],
            action: SeccompAction,
            errnoRet: UInt32? = nil,
            args: [Argument] = [],
            comment: String? = nil,
            includes: Filter? = nil,
            excludes: Filter? = nil
        ) {
            self.names = names
            self.action = action
            self.errnoRet = errnoRet
            self.args = args
            self.comment = comment
            self.includes = includes
            self.excludes = excludes
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case names, name, action, errnoRet, args, comment, includes, excludes
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let list = try container.decodeIfPresent([String].self, forKey: .names)
            let single = try container.decodeIfPresent(String.self, forKey: .name)
            switch (list, single) {
            case (.some, .some):
                throw decoder.profileError(
                    .conflictingFields,
                    at: CodingKeys.name,
                    "both \"names\" and \"name\" are given; use \"names\""
                )
            case (.some(let list), nil):
                names = list
            case (nil, .some(let single)):
                names = [single]
            case (nil, nil):
                throw decoder.profileError(
                    .missingField,
                    at: CodingKeys.names,
                    "missing required field \"names\" (or the legacy \"name\")"
                )
            }
            for (index, name) in names.enumerated() where name.isEmpty {
                let key: any CodingKey = single != nil ? CodingKeys.name : CodingKeys.names
                throw SeccompProfileError(
                    code: .invalidValue,
                    path: seccompJSONPath(
                        decoder.codingPath + [key] + (single != nil ? [] : [AnyCodingKey(intValue: index)])),
                    message: "empty system call name"
                )
            }
            action = try container.decodeRequired(SeccompAction.self, forKey: .action)
            errnoRet = try container.decodeUInt64IfPresent(forKey: .errnoRet).map {
                try SeccompProfile.errno($0, decoder: decoder, key: CodingKeys.errnoRet)
            }
            args = try container.decodeIfPresent([Argument].self, forKey: .args) ?? []
            comment = try container.decodeIfPresent(String.self, forKey: .comment)
            includes = try container.decodeIfPresent(Filter.self, forKey: .includes)
            excludes = try container.decodeIfPresent(Filter.self, forKey: .excludes)
        }
    }

    /// One argument comparison: `args[index] op value` (for ``Operator/maskedEqual``:
    /// `args[index] & value == valueTwo`).
    public struct Argument: Sendable, Hashable, Decodable {
        /// The argument number, 0...5.
        public var index: Int
        /// The operand; for ``Operator/maskedEqual`` the mask.
        public var value: UInt64
        /// For ``Operator/maskedEqual`` the expected masked value; unused otherwise.
        public var valueTwo: UInt64
        public var op: Operator

        public init(index: Int, value: UInt64, valueTwo: UInt64 = 0, op: Operator) {
            self.index = index
            self.value = value
            self.valueTwo = valueTwo
            self.op = op
        }

        /// The highest argument index a system call has.
        public static let maximumIndex = 5

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case index, value, valueTwo, op
        }

        public init(from decoder: any Decoder) throws {
            try decoder.rejectUnknownKeys(CodingKeys.self)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            let rawIndex = try container.decodeRequiredUInt64(forKey: .index)
            guard rawIndex <= UInt64(Self.maximumIndex) else {
                throw decoder.profileError(
                    .outOfRange,
                    at: CodingKeys.index,
                    "argument index \(rawIndex) is out of range (0...\(Self.maximumIndex))"
                )
            }
            index = Int(rawIndex)
            value = try container.decodeRequiredUInt64(forKey: .value)
            valueTwo = try container.decodeUInt64IfPresent(forKey: .valueTwo) ?? 0
            op = try container.decodeRequired(Operator.self, forKey: .op)
        }
    }

    /// An argument comparison operator.
    public enum Operator: String, Sendable, Hashable, CaseIterable, Decodable {
        case notEqual = "SCMP_CMP_NE"
        case lessThan = "SCMP_CMP_LT"
        case lessThanOrEqual = "SCMP_CMP_LE"
        case equalTo = "SCMP_CMP_EQ"
        case greaterThanOrEqual = "SCMP_CMP_GE"
        case greaterThan = "SCMP_CMP_GT"
        case maskedEqual = "SCMP_CMP_MASKED_EQ"

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let op = Operator(rawValue: text) else {
                let known = Operator.allCases.map(\.rawValue).joined(separator: ", ")
                throw decoder.profileError(.invalidValue, "unknown operator \"\(text)\" (expected one of: \(known))")
            }
            self = op
        }
    }
}
