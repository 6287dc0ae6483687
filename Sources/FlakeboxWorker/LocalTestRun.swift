import FlakeboxJobs
import FlakeboxSandbox
import Foundation

/// The SDK's local test mode (docs/RUNPOD_PROTOCOL.md §16.1–16.2): one job from `test_input.json` in
/// the working directory, or from `--test_input`, run once; the result goes to the log.
/// Exit codes as the SDK's: 0 when the job produced a result, 1 for no input or an error result.
public struct LocalTestRun: Sendable {
    let handler: FlakeboxJobHandler
    let environment: RunPodEnvironment
    let log: WorkerLog

    public init(handler: FlakeboxJobHandler, environment: RunPodEnvironment, log: WorkerLog) {
        self.handler = handler
        self.environment = environment
        self.log = log
    }

    /// `text` is the `--test_input` JSON; nil reads `./test_input.json`.
    public func run(testInput text: String?) async -> Int32 {
        let data: Data
        if let text {
            data = Data(text.utf8)
        } else {
            guard let file = FileManager.default.contents(atPath: "test_input.json") else {
                log.warn("test_input.json not found, exiting.")
                return 1
            }
            data = file
        }
        let object: [String: Any]
        do {
            object = try JSONFieldReader.parseObject(data)
        } catch {
            log.error("Test input is not usable: \(error.message)")
            return 1
        }
        guard let input = object["input"], !(input is NSNull) else {
            log.error("Job has no input parameter. Unable to run.")
            return 1
        }
        let id = (object["id"] as? String) ?? "local_test"
        let inputData = (try? JSONSerialization.data(withJSONObject: input, options: [.fragmentsAllowed])) ?? Data()
        log.info("Started.", job: id)
        let result = await handler.handle(RunPodJob(id: id, input: inputData))
        let workerID = environment.workerIDIsSet ? environment.workerID : "unknown"
        if let error = result.errorValue(hostname: environment.hostname, workerID: workerID) {
            log.error("Job \(id) failed with error: \(error)", job: id)
            return 1
        }
        log.info("Job \(id) completed successfully.", job: id)
        let body = String(decoding: result.body(hostname: "", workerID: ""), as: UTF8.self)
        log.log(.info, "Job result: \(body)", id, whole: true)
        log.info("Local testing complete, exiting.", job: id)
        return 0
    }
}
