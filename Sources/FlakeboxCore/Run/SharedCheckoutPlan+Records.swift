import FlakeboxSandbox
import Foundation

extension SharedCheckoutPlan {
    /// One record per copy from the sandbox's result: its output and status from its own files, its
    /// reports renamed to the paths the summary reads them by.
    ///
    /// A copy with no status file ended with the sandbox (a timeout, an out-of-memory kill, a
    /// cancel, a harness failure: the sandbox's status is the copy's), or its status file was
    /// removed by a copy's test (a harness-side loss: `sandbox_error`, never a failure).
    /// - Parameter workspace: the workspace path inside the sandbox.
    func records(from result: AttemptResult, workspace: String) -> [AttemptRecord] {
        // By file name: below the full tier the launcher names the files by their host paths.
        var files: [String: Artifact] = [:]
        for artifact in result.artifacts {
            files[String(artifact.path.split(separator: "/", omittingEmptySubsequences: false).last ?? "")] = artifact
        }
        return copies.enumerated().map { position, plan in
            let prefix = "\(position)."
            func output(_ kind: String) -> CapturedOutput {
                let bytes = files[prefix + kind]?.bytes ?? []
                return CapturedOutput(head: bytes, tail: [], totalBytes: UInt64(bytes.count))
            }
            var copy = result
            copy.stdout = output("out")
            copy.stderr = output("err")
            copy.cpuSeconds = nil
            copy.artifacts = files.sorted { $0.key < $1.key }.compactMap { file, artifact in
                guard file.hasPrefix(prefix) else { return nil }
                let name = String(file.dropFirst(prefix.count))
                if ["out", "err", "status"].contains(name) { return nil }
                // The plugin's report is known by its usual name; anything else is JUnit XML.
                var renamed = artifact
                renamed.path = "\(workspace)/\(name)"
                return renamed
            }
            let statusText = files[prefix + "status"].map { String(decoding: $0.bytes, as: UTF8.self) }
            if let code = statusText.flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) {
                copy.setupFailure = nil
                copy.exitCode = code
                copy.signal = nil
                if code == 0 {
                    copy.status = .passed
                } else if (129...192).contains(code) {
                    copy.status = .signaled
                    copy.exitCode = nil
                    copy.signal = code - 128
                } else {
                    copy.status = .failed
                }
            } else if result.status == .passed || result.status == .failed {
                copy.status = .sandboxError
                copy.exitCode = nil
                copy.setupFailure = .init(stage: "shared-status-missing", errno: 0)
            }
            return AttemptRecord.collecting(attempt: plan.attempt, seed: plan.seed, result: copy)
        }
    }
}
