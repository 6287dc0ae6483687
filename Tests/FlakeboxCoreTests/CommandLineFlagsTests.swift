import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

/// The command line as people type it: help, typos, the repository they stand in, and the
/// changes they have not committed yet.
@Suite("flakebox run: flags and the working tree")
struct CommandLineFlagsTests {
    @Test("--help and -h work on every subcommand, before and after other flags")
    func help() async throws {
        for command in ["run", "replay", "exec", "doctor", "worker"] {
            for flag in ["--help", "-h"] {
                let run = try await flakebox([command, flag])
                #expect(run.status == 0, "\(command) \(flag): \(run.stderr)")
                #expect(run.stdout.contains("USAGE"), "\(command) \(flag): \(run.stdout)")
            }
        }
        let late = try await flakebox(["run", "--runs", "3", "--help"])
        #expect(late.status == 0 && late.stdout.contains("USAGE"), "\(late.stderr)")
    }

    @Test("an unknown flag before -- is an error that names the nearest one; words without -- are refused")
    func typo() async throws {
        let typo = try await flakebox(["run", "--rusn", "5", "--", "true"])
        #expect(typo.status == 64)
        #expect(typo.stderr.contains("Unknown option '--rusn'") && typo.stderr.contains("--runs"), "\(typo.stderr)")
        let bare = try await flakebox(["run", "--runs", "2", "pytest"])
        #expect(bare.status == 64, "\(bare.stderr)")
    }

    @Test("a directory that is not a git repository is bad input (64)")
    func notARepository() async throws {
        let directory = NSTemporaryDirectory() + "flakebox-notgit-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let run = try await flakebox(["run", "--repo", directory, "--runs", "1", "--", "true"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("not a git repository"), "\(run.stderr)")
        let repo = try TestRepository(files: ["sub/t.sh": "true\n"])
        let inside = try await flakebox(["run", "--repo", repo.path + "/sub", "--runs", "1", "--", "true"])
        #expect(inside.status == 64)
        #expect(inside.stderr.contains("is inside the repository at \(repo.path)"), "\(inside.stderr)")
    }

    @Test(
        "progress goes to stderr as plain lines when it is not a terminal, --json included; --quiet silences it",
        .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
    func plainProgress() async throws {
        let repo = try TestRepository(files: ["t.sh": "true\n"])
        let run = try await flakebox(["run", "--repo", repo.path, "--runs", "3", "--json", "--", "sh t.sh"])
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("[flakebox] fetching") }, "\(run.stderr)")
        #expect(lines.contains { $0.hasPrefix("[flakebox] 3/3 done") }, "\(run.stderr)")
        #expect(!run.stderr.contains("\u{1B}"), "no terminal escapes in a log")
        #expect(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) is [String: Any])
        let quiet = try await flakebox(["run", "--repo", repo.path, "--runs", "1", "--quiet", "--", "sh t.sh"])
        #expect(quiet.status == 0)
        #expect(!quiet.stderr.contains("[flakebox]"), "\(quiet.stderr)")
    }

    @Test(
        "uncommitted, untracked and deleted files are tested by default; --committed-only tests HEAD",
        .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
    func workingTree() async throws {
        let repo = try TestRepository(files: [
            "t.sh": "cat new.txt; [ ! -e gone.txt ] && grep -q changed old.txt\n", "old.txt": "committed\n",
            "gone.txt": "x\n", ".gitignore": "ignored.txt\n",
        ])
        try Data("changed\n".utf8).write(to: URL(fileURLWithPath: "\(repo.path)/old.txt"))
        try Data("untracked\n".utf8).write(to: URL(fileURLWithPath: "\(repo.path)/new.txt"))
        try Data("secret\n".utf8).write(to: URL(fileURLWithPath: "\(repo.path)/ignored.txt"))
        try FileManager.default.removeItem(atPath: "\(repo.path)/gone.txt")
        let head = try String(contentsOfFile: "\(repo.path)/.git/refs/heads/main", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)

        let run = try await flakebox(["run", "--repo", repo.path, "--runs", "1", "--json", "--", "sh t.sh"])
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let tree = try #require(summary["working_tree"] as? [String: Any], "\(run.stdout)")
        #expect(tree["base_commit"] as? String == head)
        #expect(tree["copied_files"] as? Int == 2, "\(tree)")
        #expect(tree["deleted_files"] as? Int == 1, "\(tree)")
        #expect(summary["commit"] as? String != head, "the snapshot is a commit of its own")
        // The user's repository is untouched: no new commit, the changes still uncommitted.
        let after = try String(contentsOfFile: "\(repo.path)/.git/refs/heads/main", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(after == head)
        #expect(FileManager.default.fileExists(atPath: "\(repo.path)/new.txt"))

        let committed = try await flakebox([
            "run", "--repo", repo.path, "--runs", "1", "--json", "--committed-only", "--", "sh t.sh",
        ])
        #expect(committed.status == 2, "HEAD alone has no new.txt: \(committed.stdout)")
        let headOnly = try #require(
            try JSONSerialization.jsonObject(with: Data(committed.stdout.utf8)) as? [String: Any])
        #expect(headOnly["commit"] as? String == head)
        #expect(headOnly["working_tree"] is NSNull)
    }
}

@Suite(
    "flakebox exec: the user's directory stays the user's",
    .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct ExecOwnershipTests {
    /// Owner, group, mode and size of every entry under `path`, by relative path.
    static func listing(_ path: String) throws -> [String: String] {
        var entries: [String: String] = [:]
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let relative = enumerator?.nextObject() as? String {
            let attributes = try FileManager.default.attributesOfItem(atPath: "\(path)/\(relative)")
            entries[relative] =
                "\(attributes[.ownerAccountID] ?? "?"):\(attributes[.groupOwnerAccountID] ?? "?") "
                + "\(attributes[.posixPermissions] ?? "?") \(attributes[.size] ?? "?")"
        }
        return entries
    }

    @Test("exec over a directory changes no owner, mode or content there")
    func ownership() async throws {
        let directory = NSTemporaryDirectory() + "flakebox-exec-own-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: "\(directory)/sub", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("a\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/a.txt"))
        try Data("b\n".utf8).write(to: URL(fileURLWithPath: "\(directory)/sub/b.txt"))
        chmod("\(directory)/a.txt", 0o640)
        let before = try Self.listing(directory)
        let run = try await flakebox([
            "exec", "--workspace", directory, "--", "cat a.txt && echo changed > a.txt && touch new && rm sub/b.txt",
        ])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("a"), "\(run.stdout)")
        #expect(try Self.listing(directory) == before)
        #expect(try String(contentsOfFile: "\(directory)/a.txt", encoding: .utf8) == "a\n")
    }
}
