import FlakeboxSandbox

/// Shares a number of JSON bytes among the attempts' outputs: failing attempts (a test failure
/// or a harness failure) first, up to three quarters of the bytes or all they need, then passing
/// and cancelled ones, which never keep more than a cut failing one.
///
/// Costs are estimated in JSON bytes: each stream's kept bytes times its measured ratio of
/// escaped JSON to raw bytes (binary junk and control characters cost several bytes each),
/// plus a marker where it is cut. The summarizer checks the real size and asks again with fewer
/// bytes when the estimate was short.
struct OutputBudgetAllocator {
    /// One attempt's captured output.
    struct Profile: Sendable {
        var failing: Bool
        var streams: [Stream]

        struct Stream: Sendable {
            /// Bytes the capture kept.
            var kept: Int
            /// Bytes the stream wrote.
            var total: UInt64
            /// JSON bytes per kept byte.
            var ratio: Double

            init(_ output: CapturedOutput) {
                kept = output.head.count + output.tail.count
                total = max(output.totalBytes, UInt64(kept))
                // Measured on up to 8 KiB of it (from both ends): enough to tell text from junk.
                let sample = OutputExcerpt.make(output, limit: 8 << 10)
                ratio = sample.shownBytes == 0 ? 1 : Double(Self.jsonLength(sample.text)) / Double(sample.shownBytes)
            }

            /// The length of `text` as a JSON string's contents.
            static func jsonLength(_ text: String) -> Int {
                var text = text
                return text.withUTF8 { bytes in
                    var length = bytes.count
                    for byte in bytes where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                        switch byte {
                        case 0x22, 0x5C, 0x08, 0x09, 0x0A, 0x0C, 0x0D: length += 1
                        default: length += 5
                        }
                    }
                    return length
                }
            }
        }

        var kept: Int { streams.reduce(0) { $0 + $1.kept } }
    }

    /// Per-attempt caps in raw bytes (stdout and stderr together); nil: no cap.
    struct Caps: Sendable, Equatable {
        var failing: Int?
        var passing: Int?

        static let none = Caps(failing: nil, passing: nil)
        static let zero = Caps(failing: 0, passing: 0)

        func cap(failing isFailing: Bool) -> Int? { isFailing ? failing : passing }
    }

    /// Bytes of the marker `OutputExcerpt` puts in a cut stream, in JSON.
    static let markerCost = 40

    let profiles: [Profile]

    /// Splits an attempt's cap between its streams: half each, and what one does not need to
    /// the other. The limits `OutputExcerpt.make` gets.
    static func streamLimits(kept: [Int], cap: Int?) -> [Int?] {
        guard let cap else { return kept.map { _ in nil } }
        guard kept.count == 2 else { return kept.map { _ in cap / max(kept.count, 1) } }
        let first = min(kept[0], cap / 2)
        let second = min(kept[1], cap - first)
        return [min(kept[0], cap - second), second]
    }

    static func cost(_ profile: Profile, cap: Int?) -> Double {
        let limits = streamLimits(kept: profile.streams.map(\.kept), cap: cap)
        var cost = 0.0
        for (stream, limit) in zip(profile.streams, limits) {
            let shown = min(stream.kept, limit ?? stream.kept)
            cost += Double(shown) * stream.ratio
            if shown > 0, UInt64(shown) < stream.total { cost += Double(markerCost) }
        }
        return cost
    }

    /// Caps whose estimated cost fits in `bytes`.
    func caps(fitting bytes: Int) -> Caps {
        let available = Double(max(bytes, 0))
        let failing = profiles.filter(\.failing)
        let passing = profiles.filter { !$0.failing }
        let failingNeed = failing.reduce(0) { $0 + Self.cost($1, cap: nil) }
        let passingNeed = passing.reduce(0) { $0 + Self.cost($1, cap: nil) }
        if failingNeed + passingNeed <= available { return .none }

        var caps = Caps.none
        var used = failingNeed
        if failingNeed > available * 0.75, failingNeed > available - passingNeed {
            let pool = max(available * 0.75, available - passingNeed)
            let cap = Self.largestCap(for: failing, within: pool)
            caps.failing = cap
            used = failing.reduce(0) { $0 + Self.cost($1, cap: cap) }
        }
        if passingNeed > available - used {
            var cap = Self.largestCap(for: passing, within: available - used)
            if let failingCap = caps.failing { cap = min(cap, failingCap) }
            caps.passing = cap
        }
        return caps
    }

    /// The largest cap (binary search) whose total cost over `profiles` is at most `pool`.
    private static func largestCap(for profiles: [Profile], within pool: Double) -> Int {
        var low = 0
        var high = profiles.map(\.kept).max() ?? 0
        while low < high {
            let middle = low + (high - low + 1) / 2
            let cost = profiles.reduce(0) { $0 + Self.cost($1, cap: middle) }
            if cost <= pool { low = middle } else { high = middle - 1 }
        }
        return low
    }
}
