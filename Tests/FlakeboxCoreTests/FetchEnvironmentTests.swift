import Foundation
import Testing

@testable import FlakeboxCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#endif

/// git never sees the supervisor's environment. The hostile variables are planted in a child
/// process (an exit test), so no other test in this process ever sees them.
@Suite("Fetch: the sanitized environment")
struct FetchEnvironmentTests {
    @Test("the environment is exactly the fixed list, with a private HOME")
    func fixedList() {
        let remote = SanitizedGit.environment(home: "/tmp/h", allowLocal: false)
        let names = remote.map { String($0.prefix { $0 != "=" }) }
        #expect(
            names == [
                "PATH", "HOME", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_GLOBAL", "GIT_TERMINAL_PROMPT", "GIT_ASKPASS",
                "SSH_ASKPASS", "GIT_SSH_COMMAND", "GIT_PROTOCOL_FROM_USER", "GIT_LFS_SKIP_SMUDGE",
                "GIT_CEILING_DIRECTORIES", "LC_ALL",
            ])
        #expect(remote.contains("HOME=/tmp/h"))
        #expect(remote.contains("GIT_CEILING_DIRECTORIES=/tmp"))
        let ssh = remote.first { $0.hasPrefix("GIT_SSH_COMMAND=") } ?? ""
        #expect(
            ssh.contains("-F /dev/null") && ssh.contains("IdentityFile=none") && ssh.contains("'/tmp/h/known_hosts'"))
        let local = SanitizedGit.environment(home: "/tmp/h", allowLocal: true)
        #expect(!(local.first { $0.hasPrefix("GIT_SSH_COMMAND=") } ?? "").contains("-F /dev/null"))
        let config = SanitizedGit.configArguments(allowLocal: false)
        for setting in [
            "core.hooksPath=/dev/null", "core.fsmonitor=false", "protocol.allow=never", "protocol.file.allow=never",
        ] {
            #expect(config.contains(setting))
        }
        #expect(SanitizedGit.configArguments(allowLocal: true).contains("protocol.file.allow=always"))
    }

    @Test("planted secrets and git variables reach neither the runner nor git")
    func plantedVariables() async {
        // Exit status 2: the planted variables had no effect even on plain git (a broken test);
        // 3: the runner passed more than its list; 4: git saw them (the filter ran, or GIT_DIR
        // was used); 5: the fetch failed.
        await #expect(processExitsWith: .exitCode(0)) {
            let root = FetchFixtures.temporaryDirectory("env")
            let code: Int32
            do {
                code = try await FetchEnvironmentTests.plantAndFetch(in: root)
            } catch {
                print("error: \(error)")
                code = 5
            }
            FetchFixtures.remove(root)
            exit(code)
        }
    }

    /// Runs in the exit test's own process.
    static func plantAndFetch(in root: String) async throws -> Int32 {
        // A repository whose .gitattributes names a filter: harmless unless a configuration
        // defines it. The planted GIT_CONFIG_PARAMETERS does, to create a marker.
        let path = "\(root)/origin"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try FetchFixtures.git(["init", "-q"], in: path)
        try FetchFixtures.write("* filter=evil\n", to: "\(path)/.gitattributes")
        try FetchFixtures.write("content\n", to: "\(path)/file.txt")
        try FetchFixtures.git(["add", ".gitattributes", "file.txt"], in: path)
        try FetchFixtures.git(["commit", "-q", "-m", "filtered"], in: path)
        let marker = "\(root)/pwned"
        setenv("RUNPOD_AI_API_KEY", "rp_secret_value", 1)
        setenv("GIT_CONFIG_PARAMETERS", "'filter.evil.smudge'='touch \(marker); cat'", 1)
        setenv("GIT_DIR", "/nonexistent/git-dir", 1)
        setenv("GIT_CONFIG_GLOBAL", "/nonexistent/global", 1)

        // Negative control: git with the inherited environment runs the filter.
        var inherited = ProcessInfo.processInfo.environment
        inherited["HOME"] = root
        inherited["GIT_DIR"] = nil
        try FetchFixtures.git(
            ["clone", "-q", "--no-local", "--", path, "\(root)/control"], in: root, environment: inherited)
        guard FetchFixtures.exists(marker) else {
            print("negative control failed: the planted filter did not run")
            return 2
        }
        unlink(marker)

        // The runner passes exactly its list.
        let env = try GroupedProcess(
            argv: ["/usr/bin/env"], environment: SanitizedGit.environment(home: root, allowLocal: false),
            deadline: GroupedProcess.now() + 30
        ).run()
        let seen = String(decoding: env.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
        guard seen == SanitizedGit.environment(home: root, allowLocal: false),
            !seen.contains(where: { $0.contains("RUNPOD") || $0.hasPrefix("GIT_DIR=") })
        else {
            print("runner environment: \(seen)")
            return 3
        }

        // The fetch works despite GIT_DIR, and the filter never runs.
        let result = try await RepositoryFetcher.fetch(
            FetchRequest(repo: path, allowLocal: true), into: "\(root)/checkout")
        guard !FetchFixtures.exists(marker), FetchFixtures.read("\(root)/checkout/file.txt") == "content\n",
            result.commit.count == 40, !FetchFixtures.exists("/nonexistent/git-dir")
        else {
            print("fetch with planted variables: marker=\(FetchFixtures.exists(marker))")
            return 4
        }
        return 0
    }
}
