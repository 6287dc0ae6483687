import FlakeboxCore
import FlakeboxJobs
import FlakeboxSandbox
import Foundation

/// A parser of the supervisor's that reads bytes an attacker controls: a repository's JUnit XML,
/// a job from the network, a policy and a seccomp profile (files a user may be handed), and what
/// the worker and the service read from the network before a job exists. Each
/// must return a value or an error for any input; a crash, a hang or unbounded memory is a bug.
enum FuzzTarget: String, CaseIterable {
    case junit
    case job
    case policy
    case seccomp
    case request

    func run(_ bytes: [UInt8]) {
        switch self {
        case .junit:
            _ = JUnitReport.parse(bytes)
        case .job:
            _ = try? JobInput.parse(json: Data(bytes), origin: .remote)
        case .policy:
            guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return }
            _ = try? Policy(json: object, directory: nil)
        case .seccomp:
            // Decoding, then what the supervisor does next with a profile: compile it.
            guard let profile = try? SeccompProfile(jsonData: Data(bytes)) else { return }
            _ = try? SeccompCompiler.compile(profile)
        case .request:
            // A job-take reply as the worker reads it, then each job's input as its handler does;
            // the same bytes as a `/run` body (the local API's and the service's first reads).
            if let jobs = try? RunPodJob.parse(bytes) {
                for job in jobs { _ = try? JobInput.parse(json: job.input, origin: .remote) }
            }
            if let object = try? JSONFieldReader.parseObject(Data(bytes)) {
                _ = try? JobPolicy.parse(object["policy"])
            }
        }
    }

    /// `FLAKEBOX_FUZZ_TARGET` names the target: libFuzzer runs one per process.
    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["FLAKEBOX_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
            FileHandle.standardError.write(Data("flakebox-fuzz: set FLAKEBOX_FUZZ_TARGET to one of \(names)\n".utf8))
            exit(64)
        }
        return target
    }()
}
