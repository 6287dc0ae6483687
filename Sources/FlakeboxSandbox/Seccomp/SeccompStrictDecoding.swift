import Foundation

/// Helpers that make `Decodable` as strict as flakebox wants profiles to be: unknown fields are
/// errors, and every error names the JSON field path.

/// A coding key for any field name, used to list the keys a JSON object actually has.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

/// Renders a coding path as `syscalls[12].args[0].op`.
func seccompJSONPath(_ codingPath: [any CodingKey]) -> String {
    var path = ""
    for key in codingPath {
        if let index = key.intValue {
            path += "[\(index)]"
        } else {
            path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
        }
    }
    return path
}

extension Decoder {
    /// Throws ``SeccompProfileError/Code/unknownField`` for the first key of the current JSON object
    /// that `Keys` does not list.
    func rejectUnknownKeys<Keys: CodingKey & CaseIterable>(_: Keys.Type) throws {
        let known = Set(Keys.allCases.map(\.stringValue))
        let container = try container(keyedBy: AnyCodingKey.self)
        let unknown = container.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
        if let first = unknown.first {
            let expected = Keys.allCases.map(\.stringValue).joined(separator: ", ")
            throw SeccompProfileError(
                code: .unknownField,
                path: seccompJSONPath(codingPath + [AnyCodingKey(stringValue: first)]),
                message: "unknown field \"\(first)\" (expected one of: \(expected))"
            )
        }
    }

    /// An error about the value at the current coding path, or at `key` below it.
    func profileError(
        _ code: SeccompProfileError.Code,
        at key: (any CodingKey)? = nil,
        _ message: String
    ) -> SeccompProfileError {
        let path = key.map { codingPath + [$0] } ?? codingPath
        return SeccompProfileError(code: code, path: seccompJSONPath(path), message: message)
    }
}

extension KeyedDecodingContainer {
    /// Decodes a field that must be present and not `null`.
    func decodeRequired<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard let value = try decodeIfPresent(type, forKey: key) else {
            throw SeccompProfileError(
                code: .missingField,
                path: seccompJSONPath(codingPath + [key]),
                message: "missing required field \"\(key.stringValue)\""
            )
        }
        return value
    }
}

extension KeyedDecodingContainer {
    /// Decodes a non-negative integer up to `UInt64.max` exactly.
    ///
    /// Goes through `Decimal` because swift-corelibs-foundation's `JSONDecoder` reports a number that
    /// does not fit `UInt64` (negative, fractional, too large) as "not valid JSON" with no field path.
    func decodeUInt64IfPresent(forKey key: Key) throws -> UInt64? {
        guard let decimal = try decodeIfPresent(Decimal.self, forKey: key) else { return nil }
        let text = decimal.description
        let path = seccompJSONPath(codingPath + [key])
        if let value = UInt64(text) {
            return value
        }
        let problem =
            if text.hasPrefix("-") {
                "must not be negative"
            } else if text.contains(".") {
                "must be an integer"
            } else {
                "does not fit in 64 bits"
            }
        throw SeccompProfileError(code: .outOfRange, path: path, message: "\(text) \(problem)")
    }

    /// ``decodeUInt64IfPresent(forKey:)`` for a field that must be present.
    func decodeRequiredUInt64(forKey key: Key) throws -> UInt64 {
        guard let value = try decodeUInt64IfPresent(forKey: key) else {
            throw SeccompProfileError(
                code: .missingField,
                path: seccompJSONPath(codingPath + [key]),
                message: "missing required field \"\(key.stringValue)\""
            )
        }
        return value
    }
}

extension SeccompProfileError {
    /// Converts whatever `JSONDecoder` threw into a profile error naming the field path.
    init(decoding error: any Error) {
        if let profileError = error as? SeccompProfileError {
            self = profileError
            return
        }
        guard let decodingError = error as? DecodingError else {
            self.init(code: .invalidJSON, path: "", message: "cannot decode profile: \(error)")
            return
        }
        switch decodingError {
        case .typeMismatch(let type, let context):
            self.init(
                code: .wrongType,
                path: seccompJSONPath(context.codingPath),
                message: "expected \(Self.jsonTypeName(type))"
            )
        case .valueNotFound(let type, let context):
            self.init(
                code: .wrongType,
                path: seccompJSONPath(context.codingPath),
                message: "expected \(Self.jsonTypeName(type)), found null"
            )
        case .keyNotFound(let key, let context):
            self.init(
                code: .missingField,
                path: seccompJSONPath(context.codingPath + [key]),
                message: "missing required field \"\(key.stringValue)\""
            )
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let detail = context.underlyingError.map { "\($0)" } ?? context.debugDescription
                self.init(code: .invalidJSON, path: "", message: "not valid JSON: \(detail)")
            } else {
                // JSONDecoder reports numbers that do not fit the field's integer type this way.
                self.init(
                    code: .outOfRange,
                    path: seccompJSONPath(context.codingPath),
                    message: context.debugDescription
                )
            }
        @unknown default:
            self.init(code: .invalidJSON, path: "", message: "cannot decode profile: \(decodingError)")
        }
    }

    private static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Decimal.Type, is UInt64.Type, is UInt32.Type, is UInt.Type, is Int.Type, is Int64.Type, is UInt8.Type:
            "a non-negative integer"
        case is Bool.Type: "a boolean"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        default:
            if "\(type)".hasPrefix("Array") { "an array" } else { "an object" }
        }
    }
}
