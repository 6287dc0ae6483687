/// pytest's progress line (`tests/test_x.py ..F.s   [ 40%]`, `....F..  [100%]`): one character
/// per test in the order run, so it differs between runs of the same failure whenever the order
/// or another test's outcome does. Signatures keep only its module (where a hang or a crash was),
/// as `tests/test_x.py <progress>`, and drop it when it names none.
enum PytestProgressLine {
    static let outcomes = Set(".FEsxXp".utf8)
    static let marker = Array(" <progress>".utf8)

    /// The line as a signature keeps it, when it is a progress line: its path and `marker`, or
    /// empty (drop it).
    static func replacement(_ line: UnsafeBufferPointer<UInt8>.SubSequence) -> [UInt8]? {
        guard let path = path(line) else { return nil }
        return path.isEmpty ? [] : path + marker
    }

    /// The path before the marks of a progress line (empty when there is none); nil when `line`
    /// is not a progress line.
    static func path(_ line: UnsafeBufferPointer<UInt8>.SubSequence) -> [UInt8]? {
        var bytes = Array(line)
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        // An optional `[ NN%]` at the end.
        if bytes.last == UInt8(ascii: "]"), let open = bytes.lastIndex(of: UInt8(ascii: "[")) {
            let inside = bytes[(open + 1)..<(bytes.count - 1)]
            guard inside.last == UInt8(ascii: "%"),
                inside.dropLast().allSatisfy({ $0 == 0x20 || (0x30...0x39).contains($0) })
            else { return nil }
            bytes.removeSubrange(open...)
            while let last = bytes.last, last == 0x20 { bytes.removeLast() }
        }
        // An optional leading path (`tests/test_x.py`, `tests/test_x.py::TestK`) then a space.
        var marks = bytes[...]
        var path: [UInt8] = []
        if let space = bytes.lastIndex(of: 0x20) {
            path = Array(bytes[..<space])
            while let last = path.last, last == 0x20 { path.removeLast() }
            guard path.contains(UInt8(ascii: ".")), !path.contains(0x20) else { return nil }
            marks = bytes[(space + 1)...]
        }
        guard !marks.isEmpty, marks.allSatisfy({ outcomes.contains($0) }), marks.count > 1 || !path.isEmpty
        else { return nil }
        return path
    }
}
