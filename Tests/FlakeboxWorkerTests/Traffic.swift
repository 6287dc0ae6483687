import Foundation

/// A snapshot of everything the stand-in RunPod has seen and answered, with the views tests ask for.
struct Traffic: Sendable, CustomStringConvertible {
    /// A job the stand-in handed out, and when.
    struct HandOut: Sendable {
        var id: String
        var at: ContinuousClock.Instant
    }

    /// Every request, in arrival order.
    var requests: [RecordedRequest]
    /// What each request was answered, by index into `requests` (absent while still held).
    var replies: [Int: StandInReply]
    var handedOut: [HandOut]
    /// When the stand-in started: arrival times are shown relative to it.
    var origin: ContinuousClock.Instant

    func of(_ kind: RecordedRequest.Kind) -> [RecordedRequest] { requests.filter { $0.kind == kind } }

    var jobTakes: [RecordedRequest] { of(.jobTake) }
    var jobStops: [RecordedRequest] { of(.jobStop) }
    var pings: [RecordedRequest] { of(.ping) }
    var jobDones: [RecordedRequest] { of(.jobDone) }

    /// job-done posts that carry a result, not progress.
    func results(for jobID: String) -> [RecordedRequest] {
        jobDones.filter { $0.jobID == jobID && !$0.isProgress }
    }

    func progress(for jobID: String) -> [RecordedRequest] {
        jobDones.filter { $0.jobID == jobID && $0.isProgress }
    }

    /// What the stand-in answered to `request` (nil while held).
    func reply(to request: RecordedRequest) -> StandInReply? { replies[request.index] }

    func handOut(of jobID: String) -> ContinuousClock.Instant? {
        handedOut.first { $0.id == jobID }?.at
    }

    /// Seconds from `start` to `end`.
    static func seconds(_ start: ContinuousClock.Instant, _ end: ContinuousClock.Instant) -> Double {
        let span = end - start
        return Double(span.components.seconds) + Double(span.components.attoseconds) / 1e18
    }

    var description: String {
        var lines: [String] = []
        for (index, request) in requests.enumerated() {
            let at = Traffic.seconds(origin, request.arrival)
            let reply = replies[index].map(\.description) ?? "(held)"
            lines.append(String(format: "  %7.3f s  ", at) + "\(request) -> \(reply)")
        }
        return "stand-in traffic (\(requests.count) requests):\n" + lines.joined(separator: "\n")
    }
}
