/// Keeps the first and last bytes of a stream within a fixed budget, however much is written.
///
/// A flaky test's useful output is usually at its start (what ran) and its end (how it failed);
/// the middle of a 2 GB flood is not worth the supervisor's memory.
public struct OutputCapture: Sendable {
    public let capacity: Int
    private var head: [UInt8] = []
    private var tail: [UInt8] = []
    /// Where the oldest byte of `tail` is, once the tail ring is full.
    private var tailStart = 0
    public private(set) var totalBytes: UInt64 = 0

    /// `capacity` bytes at most are kept: half for the head, half for the tail.
    public init(capacity: Int) {
        // No reserveCapacity: a finished capture is kept by the thousand in a job's records, and
        // reserved-but-unused room would stay with each of them.
        self.capacity = max(capacity, 2)
    }

    private var headLimit: Int { capacity / 2 }
    private var tailLimit: Int { capacity - headLimit }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        totalBytes += UInt64(bytes.count)
        var rest = bytes[...]
        if head.count < headLimit {
            let take = min(headLimit - head.count, rest.count)
            head.append(contentsOf: rest.prefix(take))
            rest = rest.dropFirst(take)
        }
        guard !rest.isEmpty else { return }
        if rest.count >= tailLimit {
            tail = Array(rest.suffix(tailLimit))
            tailStart = 0
            return
        }
        for byte in rest {
            if tail.count < tailLimit {
                tail.append(byte)
            } else {
                tail[tailStart] = byte
                tailStart = (tailStart + 1) % tailLimit
            }
        }
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Bytes written but not kept.
    public var droppedBytes: UInt64 { totalBytes - UInt64(head.count + tail.count) }

    /// The kept bytes: the head, then the tail in order (they are contiguous when nothing was dropped).
    public var headBytes: [UInt8] { head }
    public var tailBytes: [UInt8] { Array(tail[tailStart...] + tail[..<tailStart]) }

    public func finish() -> CapturedOutput {
        CapturedOutput(head: head, tail: tailBytes, totalBytes: totalBytes)
    }
}

/// What was kept of one output stream.
public struct CapturedOutput: Sendable, Equatable, Codable {
    public var head: [UInt8]
    public var tail: [UInt8]
    public var totalBytes: UInt64

    public init(head: [UInt8], tail: [UInt8], totalBytes: UInt64) {
        self.head = head
        self.tail = tail
        self.totalBytes = totalBytes
    }

    public var droppedBytes: UInt64 { totalBytes - UInt64(head.count + tail.count) }
    public var truncated: Bool { droppedBytes > 0 }

    /// The kept text, with a marker where bytes were dropped; invalid UTF-8 is replaced, never
    /// interpreted (the bytes stay in `head`/`tail`).
    public var text: String {
        if !truncated { return LossyUTF8.string(head + tail) }
        return LossyUTF8.string(head) + "\n[… \(droppedBytes) bytes dropped …]\n" + LossyUTF8.string(tail)
    }
}
