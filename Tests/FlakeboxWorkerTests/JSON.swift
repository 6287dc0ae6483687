import Foundation

/// The few JSON conversions the tests need, on Foundation's JSONSerialization.
enum JSON {
    static func encode(_ value: Any) -> [UInt8] {
        let data = try? JSONSerialization.data(
            withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
        return Array(data ?? Data("null".utf8))
    }

    /// A JSON string literal.
    static func quoted(_ text: String) -> String {
        String(decoding: encode(text), as: UTF8.self)
    }

    static func object(_ text: String) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
    }

    static func object(_ bytes: [UInt8]) -> [String: Any]? {
        try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any]
    }

    /// JSON objects found in a log: on each line, the text from its first `{` to its end, when
    /// that parses. Finds a result however the line around it is worded.
    static func objects(inLog log: String) -> [[String: Any]] {
        log.split(separator: "\n").compactMap { line in
            guard let brace = line.firstIndex(of: "{") else { return nil }
            return object(String(line[brace...]))
        }
    }

    /// The first object anywhere in the log, at any depth of nesting in a line's JSON (a JSON log
    /// line carries the result as text inside its `message`), that has `key`.
    static func firstObject(withKey key: String, inLog log: String) -> [String: Any]? {
        var pending: [Any] = objects(inLog: log)
        while !pending.isEmpty {
            let value = pending.removeFirst()
            if let object = value as? [String: Any] {
                if object[key] != nil { return object }
                pending.append(contentsOf: object.values)
            } else if let array = value as? [Any] {
                pending.append(contentsOf: array)
            } else if let text = value as? String, text.contains("{") {
                pending.append(contentsOf: objects(inLog: text))
            }
        }
        return nil
    }
}
