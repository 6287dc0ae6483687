import Foundation

/// Reads a JSON object field by field, remembering which keys were used, so that a caller can
/// reject unknown fields and report every problem with its path (`limits.memory: …`).
///
/// Problems are collected, not thrown one at a time: a user fixing a policy or a job sees them all.
public struct JSONFieldReader {
    public let path: String
    private let object: [String: Any]
    private var used: Set<String> = []
    public private(set) var problems: [FieldProblem] = []

    public init(_ object: [String: Any], path: String = "") {
        self.object = object
        self.path = path
    }

    /// Parses `data` as one JSON object.
    public static func parseObject(_ data: Data) throws(FieldProblem) -> [String: Any] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw FieldProblem(field: "", message: "not valid JSON (\(Self.describe(error)))")
        }
        guard let object = value as? [String: Any] else {
            throw FieldProblem(field: "", message: "expected a JSON object, found \(Self.typeName(value))")
        }
        return object
    }

    public func fieldPath(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    public mutating func fail(_ key: String, _ message: String) {
        problems.append(FieldProblem(field: fieldPath(key), message: message))
    }

    public mutating func absorb(_ other: JSONFieldReader) {
        problems += other.problems
    }

    public func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    private mutating func raw(_ key: String) -> Any? {
        used.insert(key)
        guard let value = object[key], !(value is NSNull) else { return nil }
        return value
    }

    /// The value as it is, for a field of more than one shape (`stress`: a boolean or an object);
    /// nil when absent or null.
    public mutating func value(_ key: String) -> Any? { raw(key) }

    public mutating func string(_ key: String) -> String? {
        guard let value = raw(key) else { return nil }
        guard let string = value as? String else {
            fail(key, "expected a string, found \(Self.typeName(value))")
            return nil
        }
        return string
    }

    public mutating func bool(_ key: String) -> Bool? {
        guard let value = raw(key) else { return nil }
        guard let number = value as? NSNumber, Self.isBool(number) else {
            fail(key, "expected true or false, found \(Self.typeName(value))")
            return nil
        }
        return number.boolValue
    }

    /// An integer within `range`; fractions, strings and out-of-range values are problems.
    public mutating func integer(_ key: String, in range: ClosedRange<Int64>) -> Int64? {
        guard let value = raw(key) else { return nil }
        guard let number = value as? NSNumber, !Self.isBool(number) else {
            fail(key, "expected an integer, found \(Self.typeName(value))")
            return nil
        }
        let double = number.doubleValue
        guard double.rounded() == double else {
            fail(key, "expected an integer, found \(number)")
            return nil
        }
        let int = abs(double) < 9.2e18 ? number.int64Value : (double < 0 ? Int64.min : Int64.max)
        guard range.contains(int), abs(double) < 9.2e18 else {
            fail(key, "\(int) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return int
    }

    public mutating func double(_ key: String, in range: ClosedRange<Double>) -> Double? {
        guard let value = raw(key) else { return nil }
        guard let number = value as? NSNumber, !Self.isBool(number), number.doubleValue.isFinite else {
            fail(key, "expected a number, found \(Self.typeName(value))")
            return nil
        }
        guard range.contains(number.doubleValue) else {
            fail(key, "\(number) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return number.doubleValue
    }

    /// A byte size: an integer number of bytes, or a string such as "512MiB", "2G", "64k".
    public mutating func byteSize(_ key: String, in range: ClosedRange<UInt64>) -> UInt64? {
        guard let value = raw(key) else { return nil }
        let bytes: UInt64?
        if let number = value as? NSNumber, !Self.isBool(number) {
            let double = number.doubleValue
            bytes = double >= 0 && double.rounded() == double && double < 1.8e19 ? number.uint64Value : nil
        } else if let string = value as? String {
            bytes = Self.parseByteSize(string)
        } else {
            bytes = nil
        }
        guard let bytes else {
            fail(key, "expected a size in bytes or a string like \"512MiB\", found \(Self.describeValue(value))")
            return nil
        }
        guard range.contains(bytes) else {
            fail(key, "\(bytes) bytes is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return bytes
    }

    public mutating func stringArray(_ key: String) -> [String]? {
        guard let value = raw(key) else { return nil }
        guard let array = value as? [Any] else {
            fail(key, "expected an array of strings, found \(Self.typeName(value))")
            return nil
        }
        var out: [String] = []
        for (index, element) in array.enumerated() {
            guard let string = element as? String else {
                fail("\(key)[\(index)]", "expected a string, found \(Self.typeName(element))")
                continue
            }
            out.append(string)
        }
        return out
    }

    public mutating func stringMap(_ key: String) -> [String: String]? {
        guard let value = raw(key) else { return nil }
        guard let map = value as? [String: Any] else {
            fail(key, "expected an object of strings, found \(Self.typeName(value))")
            return nil
        }
        var out: [String: String] = [:]
        for (name, element) in map {
            guard let string = element as? String else {
                fail("\(key).\(name)", "expected a string, found \(Self.typeName(element))")
                continue
            }
            out[name] = string
        }
        return out
    }

    /// A nested object, read with its own reader; its problems are merged by `absorb`.
    public mutating func object(_ key: String) -> JSONFieldReader? {
        guard let value = raw(key) else { return nil }
        guard let nested = value as? [String: Any] else {
            fail(key, "expected an object, found \(Self.typeName(value))")
            return nil
        }
        return JSONFieldReader(nested, path: fieldPath(key))
    }

    /// Reports every key that was never read, with the nearest known name as a hint.
    public mutating func rejectUnknownKeys(known: [String]) {
        for key in object.keys.sorted() where !used.contains(key) {
            var message = "unknown field"
            if let near = Self.nearest(to: key, in: known) { message += " (did you mean \"\(near)\"?)" }
            fail(key, message)
        }
    }

    // MARK: - Helpers

    /// JSONSerialization gives booleans as NSNumber too; only they have the `char` type code.
    public static func isBool(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    public static func typeName(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let n as NSNumber: return isBool(n) ? "a boolean" : "a number"
        case is String: return "a string"
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "\(type(of: value))"
        }
    }

    static func describeValue(_ value: Any) -> String {
        if let s = value as? String { return "\"\(s.prefix(40))\"" }
        return typeName(value)
    }

    static func describe(_ error: any Error) -> String {
        let text = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
        return text ?? "\(error)"
    }

    public static func parseByteSize(_ text: String) -> UInt64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let digits = trimmed.prefix { $0.isNumber }
        guard !digits.isEmpty, let base = UInt64(digits) else { return nil }
        let unit = trimmed.dropFirst(digits.count).trimmingCharacters(in: .whitespaces).lowercased()
        let multiplier: UInt64
        switch unit {
        case "", "b": multiplier = 1
        case "k", "kb", "kib": multiplier = 1 << 10
        case "m", "mb", "mib": multiplier = 1 << 20
        case "g", "gb", "gib": multiplier = 1 << 30
        case "t", "tb", "tib": multiplier = 1 << 40
        default: return nil
        }
        let (product, overflow) = base.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    /// The known name closest to `key` by edit distance, if it is close enough to be a typo.
    public static func nearest(to key: String, in known: [String]) -> String? {
        let scored = known.map { ($0, editDistance(key.lowercased(), $0.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        return best.1 <= max(2, key.count / 3) ? best.0 : nil
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a)
        let b = Array(b)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where j <= b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

/// One problem with one field of a JSON document.
public struct FieldProblem: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path of the field, e.g. `limits.memory` or `syscalls[3].names[0]`; empty for the document.
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { field.isEmpty ? message : "\(field): \(message)" }
}
