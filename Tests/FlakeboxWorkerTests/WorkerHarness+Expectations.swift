import Foundation
import Testing

/// The exact request shapes of the worker's contract (docs/RUNPOD_PROTOCOL.md §3–10), for this
/// harness's pod id and key.
extension WorkerHarness {
    /// `GET /v2/EP/job-take/<pod>?gpu=EMULATED&job_in_progress=0`, the key raw in Authorization.
    func expectJobTake(_ request: RecordedRequest, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(request.method == "GET", "\(request)", sourceLocation: sourceLocation)
        #expect(request.path == "/v2/EP/job-take/\(podID)", "\(request)", sourceLocation: sourceLocation)
        #expect(request.query == "gpu=EMULATED&job_in_progress=0", "\(request)", sourceLocation: sourceLocation)
        #expect(request.values("Authorization") == [apiKey], sourceLocation: sourceLocation)
        // aiohttp's session headers, as the SDK sends them.
        #expect(request.values("Content-Type") == ["application/json"], sourceLocation: sourceLocation)
        #expect(request.values("Accept") == ["*/*"], sourceLocation: sourceLocation)
        #expect(request.values("Accept-Encoding") == ["gzip, deflate"], sourceLocation: sourceLocation)
    }

    /// `GET /v2/EP/job-stop/<pod>?gpu=EMULATED`: the job-take URL's query, nothing appended.
    func expectJobStop(_ request: RecordedRequest, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(request.method == "GET", "\(request)", sourceLocation: sourceLocation)
        #expect(request.path == "/v2/EP/job-stop/\(podID)", "\(request)", sourceLocation: sourceLocation)
        #expect(request.query == "gpu=EMULATED", "\(request)", sourceLocation: sourceLocation)
        #expect(request.values("Authorization") == [apiKey], sourceLocation: sourceLocation)
    }

    /// A job-done POST (result or progress) for `jobID`, with the SDK's headers: a form
    /// Content-Type over a JSON body, a header named `charset`, the job id in X-Request-ID.
    func expectJobDone(_ request: RecordedRequest, jobID: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(request.method == "POST", "\(request)", sourceLocation: sourceLocation)
        #expect(request.path == "/v2/EP/job-done/\(podID)/\(jobID)", "\(request)", sourceLocation: sourceLocation)
        #expect(request.query == "gpu=EMULATED&isStream=false", "\(request)", sourceLocation: sourceLocation)
        #expect(request.values("Authorization") == [apiKey], sourceLocation: sourceLocation)
        #expect(
            request.values("Content-Type") == ["application/x-www-form-urlencoded"], "\(request.headers)",
            sourceLocation: sourceLocation)
        #expect(request.values("charset") == ["utf-8"], "\(request.headers)", sourceLocation: sourceLocation)
        #expect(request.values("X-Request-ID") == [jobID], "\(request.headers)", sourceLocation: sourceLocation)
        #expect(request.jsonObject != nil, "the body is not a JSON object: \(request)", sourceLocation: sourceLocation)
    }

    /// `GET /v2/EP/ping/<pod>?gpu=EMULATED[&job_id=<ids>]&runpod_version=1.12.0`.
    func expectPing(
        _ request: RecordedRequest, jobIDs: [String], sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let jobs = jobIDs.isEmpty ? "" : "&job_id=" + jobIDs.joined(separator: ",")
        #expect(request.method == "GET", "\(request)", sourceLocation: sourceLocation)
        #expect(request.path == "/v2/EP/ping/\(podID)", "\(request)", sourceLocation: sourceLocation)
        #expect(
            request.query == "gpu=EMULATED\(jobs)&runpod_version=1.12.0", "\(request)", sourceLocation: sourceLocation)
        #expect(request.values("Authorization") == [apiKey], sourceLocation: sourceLocation)
    }

    /// The `output` of a result post, checked for the summary's required fields.
    @discardableResult
    func expectSummary(
        _ request: RecordedRequest, runs: Int, parallelism: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> [String: Any] {
        let body = try #require(request.jsonObject, "\(request)", sourceLocation: sourceLocation)
        #expect(Array(body.keys) == ["output"], "\(request)", sourceLocation: sourceLocation)
        let summary = try #require(body["output"] as? [String: Any], "\(request)", sourceLocation: sourceLocation)
        #expect(summary["total_runs"] as? Int == runs, "\(request)", sourceLocation: sourceLocation)
        #expect(summary["parallelism"] as? Int == parallelism, "\(request)", sourceLocation: sourceLocation)
        #expect(summary["failures"] is Int, "\(request)", sourceLocation: sourceLocation)
        #expect(summary["repro_rate"] is Double, "\(request)", sourceLocation: sourceLocation)
        #expect(summary["complete"] is Bool, "\(request)", sourceLocation: sourceLocation)
        #expect(summary["isolation"] != nil, "\(request)", sourceLocation: sourceLocation)
        let results = summary["results"] as? [[String: Any]] ?? []
        #expect(results.count == runs, "\(request)", sourceLocation: sourceLocation)
        #expect(results.allSatisfy { $0.keys.contains("exit_code") }, sourceLocation: sourceLocation)
        return summary
    }

    /// Seconds between two instants.
    func seconds(from start: ContinuousClock.Instant, to end: ContinuousClock.Instant) -> Double {
        Traffic.seconds(start, end)
    }
}
