import FlakeboxSandbox

/// The part of a captured stream a summary shows: valid UTF-8 text (raw bytes decoded lossily),
/// never cut inside a UTF-8 sequence, with one marker where bytes were left out.
public struct OutputExcerpt: Sendable, Equatable {
    public var text: String
    /// Raw bytes of the stream shown in `text`.
    public var shownBytes: Int
    /// Bytes the stream wrote that `text` does not show (the capture's drops and the cut here).
    public var droppedBytes: UInt64
    /// The limit removed bytes the capture had kept.
    public var cut: Bool

    public init(text: String, shownBytes: Int, droppedBytes: UInt64, cut: Bool) {
        self.text = text
        self.shownBytes = shownBytes
        self.droppedBytes = droppedBytes
        self.cut = cut
    }

    /// What `CapturedOutput.text` puts where bytes were dropped.
    public static func marker(droppedBytes: UInt64) -> String {
        "\n[… \(droppedBytes) bytes dropped …]\n"
    }

    /// Keeps at most `limit` raw bytes of `output` (all of it for nil): a third from its start
    /// and the rest from its end, where a failure's message usually is. A limit of 0 shows
    /// nothing (and no marker; `droppedBytes` says how much there was).
    public static func make(_ output: CapturedOutput, limit: Int?) -> OutputExcerpt {
        let kept = output.head.count + output.tail.count
        // Not `output.truncated`: a hand-made value may claim fewer bytes than it holds.
        let total = max(output.totalBytes, UInt64(kept))
        let capped = limit.map { max($0, 0) < kept } ?? false
        let budget = capped ? max(limit ?? 0, 0) : kept
        guard budget > 0 else {
            return OutputExcerpt(text: "", shownBytes: 0, droppedBytes: total, cut: kept > 0)
        }
        let prefix: ArraySlice<UInt8>
        let suffix: ArraySlice<UInt8>
        if total == UInt64(kept) {
            // head and tail are one contiguous stream.
            let bytes = output.head + output.tail
            if !capped { return whole(bytes[...], total: total) }
            let headShare = budget / 3
            prefix = bytes[..<completePrefixEnd(bytes[...], headShare)]
            suffix = bytes[sequenceStart(bytes[...], bytes.count - (budget - headShare))...]
        } else {
            let tailShare = min(budget - min(budget / 3, output.head.count), output.tail.count)
            let headShare = min(budget - tailShare, output.head.count)
            prefix = output.head[..<completePrefixEnd(output.head[...], headShare)]
            let tail = output.tail[...]
            suffix = tail[sequenceStart(tail, tail.count - tailShare)...]
        }
        let shown = prefix.count + suffix.count
        let dropped = total - UInt64(shown)
        var text = LossyUTF8.string(prefix)
        if dropped > 0 { text += marker(droppedBytes: dropped) }
        text += LossyUTF8.string(suffix)
        return OutputExcerpt(text: text, shownBytes: shown, droppedBytes: dropped, cut: capped)
    }

    private static func whole(_ bytes: ArraySlice<UInt8>, total: UInt64) -> OutputExcerpt {
        OutputExcerpt(
            text: LossyUTF8.string(bytes), shownBytes: bytes.count,
            droppedBytes: total - UInt64(bytes.count), cut: false)
    }

    /// The largest offset `end ≤ limit` (from `bytes.startIndex`) such that `bytes[..<end]` does not end inside a UTF-8 sequence
    /// (a lead byte whose continuation bytes are missing). Invalid bytes are left alone: the
    /// lossy decoding replaces them.
    static func completePrefixEnd(_ bytes: ArraySlice<UInt8>, _ limit: Int) -> Int {
        let end = bytes.startIndex + min(max(limit, 0), bytes.count)
        var index = end
        // Look back at most 3 bytes for the lead byte of the last sequence.
        while index > bytes.startIndex, end - index < 4 {
            index -= 1
            let byte = bytes[index]
            if byte & 0xC0 == 0x80 { continue }  // a continuation byte: keep looking
            let length: Int
            switch byte {
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: length = 1
            }
            return (index + length > end ? index : end) - bytes.startIndex
        }
        return end - bytes.startIndex
    }

    /// The smallest `start ≥ from` (relative to `bytes.startIndex`) that is not a UTF-8
    /// continuation byte, looking at most 3 bytes ahead.
    static func sequenceStart(_ bytes: ArraySlice<UInt8>, _ from: Int) -> Int {
        var offset = min(max(from, 0), bytes.count)
        var steps = 0
        while offset < bytes.count, steps < 3, bytes[bytes.startIndex + offset] & 0xC0 == 0x80 {
            offset += 1
            steps += 1
        }
        return offset
    }
}
