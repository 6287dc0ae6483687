import FlakeboxSandbox

extension CapturedOutput {
    /// The capture an excerpt in `results` was cut from, as far as the excerpt keeps it: the text
    /// before `OutputExcerpt`'s marker is the head, the text after it the tail. Cutting this again
    /// to a limit no larger than the excerpt's gives the bytes cutting the original would (both
    /// ends are kept from the same places).
    init(excerpt text: String, droppedBytes: UInt64) {
        let bytes = Array(text.utf8)
        guard droppedBytes > 0 else {
            self.init(head: bytes, tail: [], totalBytes: UInt64(bytes.count))
            return
        }
        let marker = Array(OutputExcerpt.marker(droppedBytes: droppedBytes).utf8)
        guard let start = Self.firstIndex(of: marker, in: bytes) else {
            self.init(head: bytes, tail: [], totalBytes: UInt64(bytes.count) + droppedBytes)
            return
        }
        let head = Array(bytes[..<start])
        let tail = Array(bytes[(start + marker.count)...])
        self.init(head: head, tail: tail, totalBytes: UInt64(head.count + tail.count) + droppedBytes)
    }

    private static func firstIndex(of needle: [UInt8], in bytes: [UInt8]) -> Int? {
        guard needle.count <= bytes.count else { return nil }
        for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
            if bytes[start..<(start + needle.count)].elementsEqual(needle) { return start }
        }
        return nil
    }
}
