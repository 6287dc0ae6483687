import FlakeboxCore
import Foundation

/// A git repository made for one test, with one commit of `files`; removed with the object.
public final class TestRepository: Sendable {
    public let path: String

    public init(files: [String: String]) throws {
        path = NSTemporaryDirectory() + "flakebox-repo-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        for (name, content) in files {
            let url = URL(fileURLWithPath: path).appendingPathComponent(name)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
        try git(["init", "-q", "-b", "main"])
        try commitAll(message: "test")
    }

    /// Commits everything in the work tree (files a test added after `init`, links included).
    public func commitAll(message: String) throws {
        try git(["add", "-A"])
        try git(["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", message])
    }

    /// The full id of the commit `HEAD` is on.
    public func head() throws -> String {
        String(decoding: try git(["rev-parse", "HEAD"]), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @discardableResult
    private func git(_ args: [String]) throws -> Data {
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        git.arguments = ["-C", path] + args
        git.environment = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory(), "GIT_CONFIG_NOSYSTEM": "1"]
        let output = Pipe()
        git.standardOutput = output
        try git.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        git.waitUntilExit()
        guard git.terminationStatus == 0 else { throw JobError(.fetchFailed, "git \(args) failed") }
        return data
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
