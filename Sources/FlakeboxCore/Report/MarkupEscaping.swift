/// Text from a repository (test names, messages, output) made safe inside XML and HTML: the five
/// special characters escaped, and characters XML 1.0 cannot carry (C0 controls but tab, newline
/// and carriage return; U+FFFE, U+FFFF; lone surrogates cannot occur in a Swift String) replaced.
public enum MarkupEscaping {
    public static func text(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF
                    || (0x7F...0x9F).contains(scalar.value)
                {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// The last `maxBytes` bytes of `text` at most, cut at a character boundary.
    public static func tail(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var index = text.utf8.index(text.utf8.endIndex, offsetBy: -maxBytes)
        while index < text.endIndex, !text.unicodeScalars.indices.contains(index) {
            index = text.utf8.index(after: index)
        }
        return "…" + String(text[index...])
    }
}
