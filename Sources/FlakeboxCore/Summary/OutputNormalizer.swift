import FlakeboxSandbox

/// Turns test output into lines that are equal across runs of the same failure: numbers, hex
/// addresses, UUIDs, timestamps and times, temporary paths, durations, ports and pids are
/// masked, terminal escapes removed, whitespace collapsed.
///
/// One pass over the bytes, no regular expressions: it runs on every line of every failing
/// attempt's tail.
///
/// | in the output | becomes |
/// |---|---|
/// | `0x7f3a9c0012d0` | `0x<hex>` |
/// | `123e4567-e89b-12d3-a456-426614174000` | `<uuid>` |
/// | `2024-05-01T10:11:12.345Z`, `2024-05-01 10:11` | `<timestamp>` |
/// | `10:11:12`, `10:11:12.345` | `<time>` |
/// | `/tmp/…`, `/var/tmp/…`, `/dev/shm/…`, `/var/folders/…`, `/private/…`, `pytest-of-*/…` (to the next space, quote, `,`, `:`, `)`, `]`, `}`, `>`, `;`) | `<tmp>` |
/// | a word of 8+ hex digits with a digit and a letter (`a3f9c2e1b7`, object ids) | `<hex>` |
/// | a number not inside a word (`42`, `0.12` in `0.12s`, `127.0.0.1`, ports, pids) | `<n>` |
///
/// Digits inside identifiers stay (`test_case3`, `sha256`): they name things.
public enum OutputNormalizer {
    /// A normalized line is cut to this many bytes.
    public static let maximumLineBytes = 300

    private static let temporaryPrefixes: [[UInt8]] = [
        "/tmp/", "/var/tmp/", "/dev/shm/", "/var/folders/", "/private/var/folders/", "/private/tmp/",
    ].map { Array($0.utf8) }
    private static let pytestTemporaryPrefix = Array("pytest-of-".utf8)

    /// Replaces the contents of a `[...]` or `{...}` that holds a comma-separated collection with
    /// `…`: a printed list or set (`['cache', 'auth', …]`) differs from run to run of the same
    /// failure whenever its order or values do, which is exactly what a flaky test varies.
    static func maskCollections(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let open = bytes[i]
            guard open == UInt8(ascii: "[") || open == UInt8(ascii: "{") else {
                out.append(open)
                i += 1
                continue
            }
            let close = open == UInt8(ascii: "[") ? UInt8(ascii: "]") : UInt8(ascii: "}")
            var depth = 0
            var end: Int?
            var sawComma = false
            for j in i..<bytes.count {
                if bytes[j] == open { depth += 1 }
                if bytes[j] == close {
                    depth -= 1
                    if depth == 0 {
                        end = j
                        break
                    }
                }
                if bytes[j] == UInt8(ascii: ","), depth == 1 { sawComma = true }
            }
            if let end, sawComma {
                out.append(open)
                out.append(contentsOf: Array("…".utf8))
                out.append(close)
                i = end + 1
            } else {
                out.append(open)
                i += 1
            }
        }
        return out
    }

    /// The normalized line, or nil when nothing meaningful is left (blank, only punctuation or
    /// masked values, e.g. `=====`, `^^^^`, `[ 50%]`).
    public static func normalize(line: some StringProtocol) -> String? {
        normalize(bytes: Array(line.utf8))
    }

    /// Where flakebox itself tells pytest to write JUnit XML; pytest prints the path, which says
    /// nothing about the failure.
    static let ownReportMarker = Array(".flakebox-junit.xml".utf8)

    static func normalize(bytes b: [UInt8]) -> String? {
        if b.count >= ownReportMarker.count,
            (0...(b.count - ownReportMarker.count)).contains(where: { hasPrefix(b, $0, ownReportMarker) })
        {
            return nil
        }
        var out: [UInt8] = []
        out.reserveCapacity(min(b.count, maximumLineBytes) + 16)
        var hasLetter = false
        var hasOtherText = false
        var i = 0
        func emit(_ token: String) { out.append(contentsOf: token.utf8) }
        while i < b.count, out.count < maximumLineBytes {
            let byte = b[i]
            let atWordStart = i == 0 || !isWord(b[i - 1])
            if byte == 0x1B {
                i = skipEscape(b, i)
                continue
            }
            if isSpace(byte) || byte < 0x20 || byte == 0x7F {
                if let last = out.last, last != 0x20 { out.append(0x20) }
                i += 1
                continue
            }
            if atWordStart, byte == UInt8(ascii: "/") || byte == UInt8(ascii: "p"),
                let end = matchTemporaryPath(b, i)
            {
                emit("<tmp>")
                i = end
                continue
            }
            if atWordStart, byte == UInt8(ascii: "0"), i + 2 < b.count, b[i + 1] | 0x20 == UInt8(ascii: "x"),
                isHex(b[i + 2])
            {
                var end = i + 2
                while end < b.count, isHex(b[end]) { end += 1 }
                emit("0x<hex>")
                i = end
                continue
            }
            if atWordStart, isWord(byte) {
                if let end = matchUUID(b, i) {
                    emit("<uuid>")
                    i = end
                    continue
                }
                if isDigit(byte), let end = matchTimestamp(b, i) {
                    emit("<timestamp>")
                    i = end
                    continue
                }
                if isDigit(byte), let end = matchTime(b, i, requireSeconds: true) {
                    emit("<time>")
                    i = end
                    continue
                }
                var end = i
                while end < b.count, isWord(b[end]) { end += 1 }
                if isLongHex(b[i..<end]) {
                    emit("<hex>")
                    i = end
                    continue
                }
                if isDigit(byte) {
                    var numberEnd = i
                    while numberEnd < b.count, isDigit(b[numberEnd]) { numberEnd += 1 }
                    // `0.12`, `3.11.2`, `127.0.0.1`: one number.
                    while numberEnd + 1 < b.count, b[numberEnd] == UInt8(ascii: "."), isDigit(b[numberEnd + 1]) {
                        numberEnd += 1
                        while numberEnd < b.count, isDigit(b[numberEnd]) { numberEnd += 1 }
                    }
                    emit("<n>")
                    // What follows a number in the same word (a unit: `s`, `ms`, `KiB`) stays.
                    var unitEnd = numberEnd
                    while unitEnd < b.count, isWord(b[unitEnd]) { unitEnd += 1 }
                    if numberEnd < unitEnd {
                        out.append(contentsOf: b[numberEnd..<unitEnd])
                        if b[numberEnd..<unitEnd].contains(where: isLetter) { hasLetter = true }
                    }
                    i = unitEnd
                    continue
                }
                out.append(contentsOf: b[i..<end])
                if b[i..<end].contains(where: isLetter) { hasLetter = true }
                i = end
                continue
            }
            if byte >= 0x80 { hasOtherText = true }
            if isLetter(byte) { hasLetter = true }  // a word's rest after a match, e.g. `0x1fz`
            out.append(byte)
            i += 1
        }
        while out.last == 0x20 { out.removeLast() }
        out = maskCollections(out)
        let cut = OutputExcerpt.completePrefixEnd(out[...], maximumLineBytes)
        let text = LossyUTF8.string(out[..<cut])
        if !hasLetter {
            guard hasOtherText, text.unicodeScalars.contains(where: { $0.value >= 0x80 && $0.properties.isAlphabetic })
            else { return nil }
        }
        return text
    }

    /// The meaningful normalized lines at the end of a stream: its last `windowBytes`, split
    /// into lines (a line rewritten with `\r` counts as what a terminal shows last), normalized,
    /// duplicates removed (the first kept), and the last `maxLines` of them.
    static func meaningfulLines(of output: CapturedOutput, maxLines: Int, windowBytes: Int = 16 << 10) -> [String] {
        guard maxLines > 0 else { return [] }
        let kept = output.head.count + output.tail.count
        let contiguous = output.totalBytes <= UInt64(kept)
        let stream = contiguous ? output.head + output.tail : output.tail
        let windowStart = max(0, stream.count - windowBytes)
        // A window that starts inside the stream starts inside a line: skip that line.
        let partialFirstLine = !contiguous || windowStart > 0
        var seen: Set<String> = []
        var lines: [String] = []
        stream.withUnsafeBufferPointer { buffer in
            var index = windowStart
            if partialFirstLine {
                while index < buffer.count, buffer[index] != 0x0A { index += 1 }
                if index == buffer.count { index = windowStart }  // one long line: keep it
            }
            while index < buffer.count {
                var end = index
                while end < buffer.count, buffer[end] != 0x0A { end += 1 }
                var lineEnd = end
                while lineEnd > index, buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                var lineStart = index
                // A line rewritten with `\r` shows its last version.
                var scan = lineEnd
                while scan > index {
                    if buffer[scan - 1] == 0x0D {
                        lineStart = scan
                        break
                    }
                    scan -= 1
                }
                let line =
                    PytestProgressLine.replacement(buffer[lineStart..<lineEnd]) ?? Array(buffer[lineStart..<lineEnd])
                if lineStart < lineEnd, let normalized = normalize(bytes: line),
                    seen.insert(normalized).inserted
                {
                    lines.append(normalized)
                }
                index = end + 1
            }
        }
        return Array(lines.suffix(maxLines))
    }

    // MARK: - Matchers (each returns the index after the match)

    private static func matchTemporaryPath(_ b: [UInt8], _ i: Int) -> Int? {
        let candidates = b[i] == UInt8(ascii: "p") ? [pytestTemporaryPrefix] : temporaryPrefixes
        guard candidates.contains(where: { hasPrefix(b, i, $0) }) else { return nil }
        var end = i
        while end < b.count, !isPathDelimiter(b[end]) { end += 1 }
        return end
    }

    private static func matchUUID(_ b: [UInt8], _ i: Int) -> Int? {
        var index = i
        for (groupIndex, length) in [8, 4, 4, 4, 12].enumerated() {
            if groupIndex > 0 {
                guard index < b.count, b[index] == UInt8(ascii: "-") else { return nil }
                index += 1
            }
            for _ in 0..<length {
                guard index < b.count, isHex(b[index]) else { return nil }
                index += 1
            }
        }
        return index < b.count && isWord(b[index]) ? nil : index
    }

    /// `YYYY-MM-DD`, optionally `[T ]HH:MM[:SS[.fff]]` and a zone (`Z`, `+HH[:MM]`).
    private static func matchTimestamp(_ b: [UInt8], _ i: Int) -> Int? {
        guard digits(b, i, 4), at(b, i + 4, "-"), digits(b, i + 5, 2), at(b, i + 7, "-"), digits(b, i + 8, 2)
        else { return nil }
        var index = i + 10
        if index + 1 < b.count, b[index] == UInt8(ascii: "T") || b[index] == 0x20,
            let end = matchTime(b, index + 1, requireSeconds: false)
        {
            index = end
            if at(b, index, "Z") {
                index += 1
            } else if at(b, index, "+") || at(b, index, "-"), digits(b, index + 1, 2) {
                index += 3
                if at(b, index, ":") { index += 1 }
                if digits(b, index, 2) { index += 2 }
            }
        }
        return index
    }

    /// `H:MM` or `HH:MM`, then `:SS` (required when `requireSeconds`) and a fraction.
    private static func matchTime(_ b: [UInt8], _ i: Int, requireSeconds: Bool) -> Int? {
        var index = i
        guard index < b.count, isDigit(b[index]) else { return nil }
        index += 1
        if index < b.count, isDigit(b[index]) { index += 1 }
        guard at(b, index, ":"), digits(b, index + 1, 2) else { return nil }
        index += 3
        if at(b, index, ":"), digits(b, index + 1, 2) {
            index += 3
            if at(b, index, ".") || at(b, index, ","), index + 1 < b.count, isDigit(b[index + 1]) {
                index += 1
                while index < b.count, isDigit(b[index]) { index += 1 }
            }
        } else if requireSeconds {
            return nil
        }
        return index < b.count && isDigit(b[index]) ? nil : index
    }

    private static func isLongHex(_ word: ArraySlice<UInt8>) -> Bool {
        word.count >= 8 && word.allSatisfy(isHex) && word.contains(where: isDigit) && word.contains(where: isLetter)
    }

    // MARK: - Bytes

    private static func skipEscape(_ b: [UInt8], _ i: Int) -> Int {
        var index = i + 1
        guard index < b.count else { return index }
        if b[index] != UInt8(ascii: "[") { return index + 1 }
        index += 1
        while index < b.count, (0x20...0x3F).contains(b[index]) { index += 1 }
        return min(index + 1, b.count)
    }

    private static func hasPrefix(_ b: [UInt8], _ i: Int, _ prefix: [UInt8]) -> Bool {
        guard i + prefix.count <= b.count else { return false }
        return b[i..<(i + prefix.count)].elementsEqual(prefix)
    }

    private static func digits(_ b: [UInt8], _ i: Int, _ count: Int) -> Bool {
        guard i >= 0, i + count <= b.count else { return false }
        return b[i..<(i + count)].allSatisfy(isDigit)
    }

    private static func at(_ b: [UInt8], _ i: Int, _ character: Unicode.Scalar) -> Bool {
        i < b.count && b[i] == UInt8(ascii: character)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    private static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    private static func isHex(_ byte: UInt8) -> Bool { isDigit(byte) || (0x61...0x66).contains(byte | 0x20) }
    private static func isWord(_ byte: UInt8) -> Bool { isDigit(byte) || isLetter(byte) || byte == UInt8(ascii: "_") }
    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
    private static func isPathDelimiter(_ byte: UInt8) -> Bool {
        isSpace(byte) || byte < 0x20 || "\"'`,:;)]}>".utf8.contains(byte)
    }
}
