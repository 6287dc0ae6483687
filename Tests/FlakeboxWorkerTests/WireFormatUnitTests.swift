import FlakeboxJobs
import Foundation
import Testing

@testable import FlakeboxWorker

/// The pure parts of the wire format, against docs/RUNPOD_PROTOCOL.md §3, §6, §13 and §15.
@Suite("wire format (unit)")
struct WireFormatUnitTests {
    let urls = RunPodURLs(
        jobTake: "http://h/v2/EP/job-take/$ID?gpu=X", jobDone: "http://h/v2/EP/job-done/$RUNPOD_POD_ID/$ID?gpu=X",
        stream: "http://h/v2/EP/job-stream/$RUNPOD_POD_ID/$ID?gpu=X", ping: "http://h/v2/EP/ping/$RUNPOD_POD_ID?gpu=X",
        workerID: "w-1")

    @Test("URLs are templated and their parameters appended as the SDK does")
    func templating() {
        #expect(urls.jobTake(jobInProgress: false) == "http://h/v2/EP/job-take/w-1?gpu=X&job_in_progress=0")
        #expect(urls.jobTake(jobInProgress: true) == "http://h/v2/EP/job-take/w-1?gpu=X&job_in_progress=1")
        #expect(urls.jobStop == "http://h/v2/EP/job-stop/w-1?gpu=X")
        #expect(urls.jobDone(jobID: "j 1") == "http://h/v2/EP/job-done/w-1/j 1?gpu=X&isStream=false")
        #expect(urls.ping(jobIDs: []) == "http://h/v2/EP/ping/w-1?gpu=X&runpod_version=1.12.0")
        #expect(urls.ping(jobIDs: ["a", "b"]) == "http://h/v2/EP/ping/w-1?gpu=X&job_id=a%2Cb&runpod_version=1.12.0")
    }

    @Test("the job-take URL replaces only $ID; a URL without /job-take/ has no stop channel")
    func jobTakeOnlyID() {
        let other = RunPodURLs(
            jobTake: "http://h/take/$RUNPOD_POD_ID/$ID?", jobDone: "JOB_DONE_URL", stream: "JOB_STREAM_URL", ping: nil,
            workerID: "w")
        #expect(other.jobTake(jobInProgress: false) == "http://h/take/$RUNPOD_POD_ID/w?&job_in_progress=0")
        #expect(other.jobStop == nil)
        #expect(other.ping(jobIDs: ["a"]) == nil)
    }

    @Test("a ping URL without a query gets one")
    func pingQuery() {
        let bare = RunPodURLs(
            jobTake: "x", jobDone: "y", stream: "z", ping: "http://h/ping/$RUNPOD_POD_ID", workerID: "w")
        #expect(bare.ping(jobIDs: ["j"]) == "http://h/ping/w?job_id=j&runpod_version=1.12.0")
    }

    @Test("job-take replies: a job, a batch, a job without id or input, not JSON")
    func jobParsing() throws {
        let job = try RunPodJob.parse(Array(#"{"id": "j1", "input": {"runs": 2}, "s3Config": {}}"#.utf8))
        #expect(job.count == 1 && job[0].id == "j1")
        #expect(String(decoding: job[0].input, as: UTF8.self) == #"{"runs":2}"#)
        #expect(try RunPodJob.parse(Array(#"{"id": 7, "input": null}"#.utf8)).first?.id == "7")
        #expect(try RunPodJob.parse(Array(#"[{"id": "a", "input": 1}, 5, {"id": "b"}]"#.utf8)).map(\.id) == ["a"])
        #expect(throws: RunPodJob.Rejection.self) { try RunPodJob.parse(Array(#"{"input": {}}"#.utf8)) }
        do {
            _ = try RunPodJob.parse(Array("<html>".utf8))
            Issue.record("garbage parsed")
        } catch {
            #expect(!error.isDroppedJob)
        }
    }

    @Test("results: output spliced, refusals plain, failures as the SDK's double-encoded error_info")
    func resultBodies() throws {
        let output = HandlerResult.output(Data(#"{"total_runs":2}"#.utf8))
        #expect(
            String(decoding: output.body(hostname: "h", workerID: "w"), as: UTF8.self)
                == #"{"output": {"total_runs":2}}"#)
        let refused = HandlerResult.failure("invalid job input: runs: 0 is out of range")
        let refusedBody = try JSONSerialization.jsonObject(with: Data(refused.body(hostname: "h", workerID: "w")))
        #expect((refusedBody as? [String: String]) == ["error": "invalid job input: runs: 0 is out of range"])

        let failed = HandlerResult.exception(type: "<class 'flakebox.fetch_failed'>", message: "gone ü", traceback: "t")
        let body = try #require(
            try JSONSerialization.jsonObject(with: Data(failed.body(hostname: "pod", workerID: "w-1")))
                as? [String: Any])
        let text = try #require(body["error"] as? String)
        #expect(text.hasPrefix(#"{"error_type": "<class 'flakebox.fetch_failed'>", "error_message": "gone ü""#))
        let info = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(
            info == [
                "error_type": "<class 'flakebox.fetch_failed'>", "error_message": "gone ü", "error_traceback": "t",
                "hostname": "pod", "worker_id": "w-1", "runpod_version": "1.12.0",
            ])
    }

    @Test("logs: JSON lines on RunPod, the SDK's columns elsewhere, long messages cut in the middle")
    func logFormat() throws {
        let json = WorkerLog(json: true)
        let line = json.format(.info, "Started.", "j1")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["requestId"] as? String == "j1" && object["message"] as? String == "Started.")
        #expect(object["level"] as? String == "INFO")
        let idle = try #require(
            try JSONSerialization.jsonObject(with: Data(json.format(.warn, "x", nil).utf8)) as? [String: Any])
        #expect(idle["requestId"] is NSNull)

        let plain = WorkerLog(json: false)
        #expect(plain.format(.info, "Started.", "local_test") == "INFO   | local_test | Started.")
        #expect(plain.format(.error, "boom", nil) == "ERROR  | boom")
        let long = String(repeating: "a", count: 5000) + "END"
        let cut = WorkerLog.truncated(long)
        #expect(cut.contains("...TRUNCATED 907 CHARACTERS...") && cut.hasSuffix("END"))
    }

    @Test("the environment: ping interval in whole seconds, at least one; heartbeats need key, pod id and URL")
    func environment() {
        var env = RunPodEnvironment([
            "RUNPOD_WEBHOOK_GET_JOB": "http://h/job-take/$ID?", "RUNPOD_PING_INTERVAL": "2500",
            "RUNPOD_WEBHOOK_PING": "http://h/ping", "RUNPOD_AI_API_KEY": "k",
        ])
        #expect(env.pingIntervalSeconds == 2)
        #expect(!env.sendsHeartbeats)
        env = RunPodEnvironment(["RUNPOD_PING_INTERVAL": "200", "RUNPOD_POD_ID": "p"])
        #expect(env.pingIntervalSeconds == 1 && env.urls == nil && env.workerID == "p")
        #expect(RunPodEnvironment(["RUNPOD_WEBHOOK_GET_JOB": ""]).urls != nil)
    }
}
