import Foundation
import Testing

@testable import FlakeboxSandbox

#if canImport(Glibc)
    import Glibc
#endif

/// What this machine allows, probed once for the whole test run and printed, so a skipped
/// suite always says why.
enum TestMachine {
    static let helper = HelperLocator.helperPath()

    static let report: IsolationReport? = {
        guard let helper else {
            print("[flakebox tests] helper flakebox-sandbox not found: sandbox tests are skipped")
            return nil
        }
        let report = CapabilityProbe.shared(helperPath: helper, identity: .current())
        print("[flakebox tests] isolation tier \(report.tier) (uid \(geteuid())); missing: \(report.missingSummary)")
        return report
    }()

    static var fullTier: Bool { report?.tier == .full }
    static var anyTier: Bool { report != nil }
    /// Namespaces work (the full or reduced tier: root, or rootless with user namespaces).
    static var namespaced: Bool { report.map { $0.tier != .minimal } ?? false }

    static let store = PolicyStore.standard()

    /// The shipped default policy with overrides for a test.
    static func policy(_ edit: (inout Policy) -> Void = { _ in }) throws -> Policy {
        var policy = try store.load("default")
        policy.limits.timeoutSeconds = 30
        edit(&policy)
        return policy
    }
}

/// A checkout made for one test, owned by the sandbox user, removed at the end.
final class TestWorkspace: Sendable {
    let path: String

    init(files: [String: String] = [:]) throws {
        path = NSTemporaryDirectory() + "flakebox-test-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, content) in files {
            let url = URL(fileURLWithPath: path).appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
            if name.hasSuffix(".sh") { chmod(url.path, 0o755) }
        }
        try WorkspaceFiles.chownTree(path, uid: SandboxIdentity.current().uid, gid: SandboxIdentity.current().gid)
    }

    /// Every file below the workspace with its content, to prove attempts left it untouched.
    func snapshot() -> [String: Data] {
        var out: [String: Data] = [:]
        let walker = FileManager.default.enumerator(atPath: path)
        while let relative = walker?.nextObject() as? String {
            out[relative] = FileManager.default.contents(atPath: "\(path)/\(relative)") ?? Data()
        }
        return out
    }

    deinit { WorkspaceFiles.removeTree(path) }
}

extension Sandbox {
    /// Runs `script` under /bin/sh -c in a fresh workspace (or the given one).
    func sh(
        _ script: String, in workspace: TestWorkspace? = nil, env: [String: String] = [:], timeout: Double? = nil
    ) async throws -> AttemptResult {
        let ws = try workspace ?? TestWorkspace()
        return await run(
            AttemptRequest(
                command: ["/bin/sh", "-c", script], environment: env, workspace: ws.path, timeoutSeconds: timeout))
    }
}

extension AttemptResult {
    var out: String { stdout.text }
    var err: String { stderr.text }
    /// A one-line account for failed expectations.
    var summary: String {
        "status=\(status) exit=\(exitCode.map(String.init) ?? "-") signal=\(signal.map(String.init) ?? "-") "
            + "setup=\(setupFailure?.description ?? "-") stdout=\(out.prefix(400)) stderr=\(err.prefix(400))"
    }
}

/// Host processes whose command line contains `marker` (to prove nothing survived an attempt).
func hostProcesses(containing marker: String) -> [Int32] {
    let me = getpid()
    var found: [Int32] = []
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(entry), pid != me,
            let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
        else { continue }
        let cmdline = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
        if cmdline.contains(marker) && !cmdline.contains("pgrep") { found.append(pid) }
    }
    return found
}

extension SpawnedHelper {
    /// Waits for the launcher and reads its whole report; lets its pipes go. `waited` is the pid
    /// `waitpid` returned: the launcher's only if it is this process's child.
    func finish() -> (waited: pid_t, status: Int32, report: [String]) {
        var status: Int32 = 0
        var waited: pid_t = -1
        repeat { waited = waitpid(pid, &status, 0) } while waited < 0 && errno == EINTR
        _ = fcntl(reportFD, F_SETFL, fcntl(reportFD, F_GETFL) & ~O_NONBLOCK)
        var report: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(reportFD, &buffer, buffer.count)
            if n <= 0 { break }
            report += buffer[0..<n]
        }
        discard()
        return (waited, status, String(decoding: report, as: UTF8.self).split(separator: "\n").map(String.init))
    }
}
