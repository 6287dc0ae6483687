import FlakeboxCore
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

/// Setup writes through an overlay whose upper is a tmpfs of the setup policy's size and inodes,
/// applied to the checkout only after setup passed: a setup that fills the disk fills that tmpfs.
@Suite(
    "Setup's writes: within the setup policy's limits, applied after it passed",
    .enabled(
        if: JobTestMachine.fullTier,
        "needs the full isolation tier (an overlay); `flakebox doctor` says what is missing"))
struct SetupWriteLimitTests {
    /// A policy family whose setup policy allows `size` and `inodes`.
    struct SmallFamily {
        let directory: String
        let runner: JobRunner

        init(size: String, inodes: Int) throws {
            directory = NSTemporaryDirectory() + "flakebox-setup-limit-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try #"{"extends": "default", "setupPolicy": "small-setup"}"#.write(
                toFile: "\(directory)/small.json", atomically: true, encoding: .utf8)
            try #"{"extends": "setup", "filesystem": {"workspaceSize": "\#(size)", "inodes": \#(inodes)}}"#.write(
                toFile: "\(directory)/small-setup.json", atomically: true, encoding: .utf8)
            let standard = PolicyStore.standard().directories
            runner = JobRunner(
                options: .init(policies: PolicyStore(directories: [URL(fileURLWithPath: directory)] + standard)))
        }

        func run(setup: String, test: String = "true") async throws(JobError) -> JobSummary {
            let repo = try? TestRepository(files: ["kept.txt": "from the repository\n"])
            guard let repo else { throw JobError(.sandbox, "no test repository") }
            return try await runner.run(
                JobInput(
                    repo: repo.path, testCommand: test, runs: 1, setupCommand: setup, policy: "small"),
                origin: .commandLine)
        }

        func remove() { try? FileManager.default.removeItem(atPath: directory) }
    }

    static func expectLimitError(_ family: SmallFamily, setup: String) async {
        do {
            _ = try await family.run(setup: setup)
            Issue.record("setup past its limit was accepted: \(setup)")
        } catch {
            #expect(error.code == .setupFailed, "\(error)")
            #expect(error.message.contains("wrote past its workspace limit"), "\(error)")
        }
    }

    @Test("a setup that writes past the workspace size is a setup error, even when it swallows ENOSPC")
    func sizeLimit() async throws {
        let family = try SmallFamily(size: "96MiB", inodes: 20_000)
        defer { family.remove() }
        await Self.expectLimitError(family, setup: "dd if=/dev/zero of=big bs=1M count=200 2>/dev/null; true")
    }

    @Test("a setup that makes more files than the inode limit is a setup error")
    func inodeLimit() async throws {
        let family = try SmallFamily(size: "96MiB", inodes: 4_000)
        defer { family.remove() }
        await Self.expectLimitError(
            family,
            setup: "mkdir many && cd many && i=0; while [ $i -lt 5000 ]; do : > f$i 2>/dev/null; i=$((i+1)); done; true"
        )
    }

    @Test("the control: the same 200 MiB within a larger limit reaches every attempt, byte for byte")
    func withinLimit() async throws {
        let family = try SmallFamily(size: "512MiB", inodes: 20_000)
        defer { family.remove() }
        let summary = try await family.run(
            setup: "dd if=/dev/zero of=big bs=1M count=200 2>/dev/null",
            test: "test \"$(stat -c %s big)\" = 209715200 && echo size-ok")
        #expect(summary.failures == 0, "\(summary.results)")
        #expect(summary.results.first?.stdout.contains("size-ok") == true, "\(summary.results)")
        #expect(
            summary.setup?.writeLimit?.hasPrefix("512 MiB, 20000 inodes") == true,
            "\(String(describing: summary.setup))")
    }

    @Test("removals, replaced directories, links, modes and times made by setup are what the attempts see")
    func appliedExactly() async throws {
        let family = try SmallFamily(size: "256MiB", inodes: 20_000)
        defer { family.remove() }
        let setup = """
            rm kept.txt
            mkdir -p tree/deep && echo old > tree/deep/a && echo old > tree/b
            rm -rf tree && mkdir -p tree && echo new > tree/b
            ln -s /etc/hostname link
            printf '#!/bin/sh\\necho ran\\n' > tool && chmod 0750 tool
            touch -d '2001-02-03 04:05:06' dated
            mkfifo pipe
            """
        let check = """
            test ! -e kept.txt && echo removed
            test ! -e tree/deep && test "$(cat tree/b)" = new && echo replaced
            test "$(readlink link)" = /etc/hostname && echo linked
            test "$(stat -c %a tool)" = 750 && ./tool
            test "$(stat -c %Y dated)" = "$(date -d '2001-02-03 04:05:06' +%s)" && echo dated
            test -p pipe && echo fifo
            """
        let summary = try await family.run(setup: setup, test: check)
        let stdout = summary.results.first?.stdout ?? ""
        for word in ["removed", "replaced", "linked", "ran", "dated", "fifo"] {
            #expect(stdout.contains(word), "\(word) missing from \(stdout)")
        }
    }
}
