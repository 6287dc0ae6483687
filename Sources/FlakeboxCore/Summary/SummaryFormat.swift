import Foundation

/// Small formatting rules the summary uses everywhere, so numbers and sentences are stable (the
/// human report's percentages too: one number is never shown two ways).
public enum SummaryFormat {
    /// `value` rounded to `places` decimals; non-finite values become 0 (JSON has no NaN).
    static func rounded(_ value: Double, places: Int) -> Double {
        guard value.isFinite else { return 0 }
        let scale = pow(10, Double(places))
        return (value * scale).rounded() / scale
    }

    /// Seconds, to the millisecond.
    static func seconds(_ value: Double) -> Double { rounded(value, places: 3) }

    /// A rate or probability, to six decimals.
    static func rate(_ value: Double) -> Double { rounded(value, places: 6) }

    /// A fraction as a percentage with three significant digits and no trailing zeros:
    /// 0.015 → "1.5%", 0.03 → "3%", 3/7 → "42.9%".
    public static func percent(_ fraction: Double) -> String {
        let value = fraction * 100
        guard value.isFinite, value != 0 else { return "0%" }
        let magnitude = Int(floor(log10(abs(value))))
        let decimals = min(max(2 - magnitude, 0), 6)
        var text = String(format: "%.\(decimals)f", value)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text + "%"
    }

    /// `text` as one word for a POSIX shell: single-quoted, embedded single quotes as `'\''`.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// "1 run", "2 runs".
    static func count(_ value: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(value) " + (value == 1 ? singular : plural ?? singular + "s")
    }
}

extension SummaryFormat {
    /// `2 GiB`, `512 MiB`, `2.4 GiB`: a memory size as a person reads it.
    static func bytes(_ value: UInt64) -> String {
        let units: [(UInt64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, unit) in units where value >= size {
            let amount = Double(value) / Double(size)
            let text = amount == amount.rounded() ? String(Int(amount)) : String(format: "%.1f", amount)
            return "\(text) \(unit)"
        }
        return "\(value) bytes"
    }
}
