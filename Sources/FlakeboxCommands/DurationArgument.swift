import ArgumentParser

/// A length of time as go's `stress` and `time.ParseDuration` users write it: `90s`, `10m`,
/// `1h30m`, `1.5h`; a bare number is seconds.
struct DurationArgument: ExpressibleByArgument, Sendable, Equatable {
    var seconds: Double

    init(seconds: Double) { self.seconds = seconds }

    init?(argument: String) {
        guard let seconds = Self.parse(argument) else { return nil }
        self.seconds = seconds
    }

    static func parse(_ text: String) -> Double? {
        if let plain = Double(text) { return plain.isFinite && plain > 0 ? plain : nil }
        var total = 0.0
        var number = ""
        var sawUnit = false
        for character in text {
            if character.isASCII && (character.isNumber || character == ".") {
                number.append(character)
                continue
            }
            let unit: Double
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            default: return nil
            }
            guard let value = Double(number) else { return nil }
            total += value * unit
            number = ""
            sawUnit = true
        }
        guard sawUnit, number.isEmpty, total.isFinite, total > 0 else { return nil }
        return total
    }

    static var defaultCompletionKind: CompletionKind { .default }
}
