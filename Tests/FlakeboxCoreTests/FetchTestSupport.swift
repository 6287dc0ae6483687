import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

struct FetchFixtureError: Error, CustomStringConvertible {
    var description: String
}

/// Repositories made with the host's git in temporary directories, for the fetcher to fetch by
/// path or `file://` (the tests have no network).
enum FetchFixtures {
    /// A test repository: `main` has two commits; `feature` branches off the first with one of
    /// its own; the annotated tag `v1` points at the first commit.
    struct Repository {
        var path: String
        var first: String
        var second: String
        var feature: String
    }

    /// The environment fixture git runs with: nothing of the host's configuration, a fixed identity.
    static func environment(home: String) -> [String: String] {
        [
            "PATH": "/usr/bin:/bin", "HOME": home, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com", "LC_ALL": "C",
        ]
    }

    /// Runs `git ARGS` in `directory` and returns its trimmed standard output.
    @discardableResult
    static func git(_ arguments: [String], in directory: String, environment: [String: String]? = nil) throws -> String
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-c", "init.defaultBranch=main", "-c", "protocol.file.allow=always"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = environment ?? Self.environment(home: directory)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FetchFixtureError(
                description: "git \(arguments.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A fresh directory under /tmp.
    static func temporaryDirectory(_ label: String = "fetch") -> String {
        var template = Array("/tmp/flakebox-test-\(label).XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed")
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }

    static func write(_ text: String, to path: String) throws {
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Makes the test repository in `parent/name`.
    static func makeRepository(in parent: String, name: String = "origin") throws -> Repository {
        let path = "\(parent)/\(name)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try git(["init", "-q"], in: path)
        try write("one\n", to: "\(path)/a.txt")
        try git(["add", "a.txt"], in: path)
        try git(["commit", "-q", "-m", "first"], in: path)
        let first = try git(["rev-parse", "HEAD"], in: path)
        try git(["tag", "-a", "v1", "-m", "version 1"], in: path)
        try write("two\n", to: "\(path)/a.txt")
        try write("bee\n", to: "\(path)/b.txt")
        try git(["add", "a.txt", "b.txt"], in: path)
        try git(["commit", "-q", "-m", "second"], in: path)
        let second = try git(["rev-parse", "HEAD"], in: path)
        try git(["checkout", "-q", "-b", "feature", first], in: path)
        try write("feature\n", to: "\(path)/f.txt")
        try git(["add", "f.txt"], in: path)
        try git(["commit", "-q", "-m", "feature"], in: path)
        let feature = try git(["rev-parse", "HEAD"], in: path)
        try git(["checkout", "-q", "main"], in: path)
        return Repository(path: path, first: first, second: second, feature: feature)
    }

    static func read(_ path: String) -> String? {
        try? String(contentsOfFile: path, encoding: .utf8)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Live (not zombie) processes whose process group is `group`, from /proc.
    static func liveProcesses(inGroup group: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        var found: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry), let stat = read("/proc/\(pid)/stat"),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the command: state, ppid, pgrp.
            guard fields.count > 3, fields[0] != "Z", fields[0] != "X", pid_t(fields[2]) == group else { continue }
            found.append(pid)
        }
        return found
    }
}
