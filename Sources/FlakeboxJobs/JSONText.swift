import Foundation

/// Builds a JSON object from keys in order and values that are JSON text already, so that a
/// summary (megabytes, encoded once by the Core) is spliced in rather than decoded and encoded again.
public struct JSONText: Sendable {
    public init() {}

    private var fields: [String] = []

    public mutating func add(_ key: String, json: some Sequence<UInt8>) {
        fields.append(JSONText.quoted(key) + ": " + String(decoding: Array(json), as: UTF8.self))
    }

    public mutating func add(_ key: String, string: String) {
        fields.append(JSONText.quoted(key) + ": " + JSONText.quoted(string))
    }

    public mutating func add(_ key: String, number: Int) {
        fields.append(JSONText.quoted(key) + ": \(number)")
    }

    /// Any value JSONSerialization takes (objects of counts, arrays of strings…).
    public mutating func add(_ key: String, value: Any) {
        let data =
            (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]))
            ?? Data("null".utf8)
        add(key, json: data)
    }

    public var bytes: [UInt8] { Array(("{" + fields.joined(separator: ", ") + "}").utf8) }

    /// A JSON string literal, non-ASCII kept as UTF-8 (`ensure_ascii=False`, as the SDK posts).
    public static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data()
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }
}
