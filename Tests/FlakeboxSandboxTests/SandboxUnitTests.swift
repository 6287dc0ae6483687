import Foundation
import Testing

@testable import FlakeboxSandbox

@Suite("Policies")
struct PolicyTests {
    @Test("the shipped policies load: default is strict, setup extends it with the network")
    func shippedPolicies() throws {
        let store = PolicyStore.standard()
        let strict = try store.load("default")
        let setup = try store.load("setup")
        #expect(strict.network == .none && strict.minimumTier == .full)
        #expect(setup.network == .proxy)
        #expect(setup.filesystem.readOnlyPaths == strict.filesystem.readOnlyPaths)
        #expect(setup.filesystem.etc.contains("resolv.conf") && !strict.filesystem.etc.contains("resolv.conf"))
        #expect(setup.limits.timeoutSeconds == 1800 && setup.limits.pids == strict.limits.pids)
        #expect(setup.seccompProfile.hasSuffix("seccomp/docker-default.json"))
        #expect(strict.limits.memory == 2 << 30)
    }

    @Test("a user's policy file extends a shipped one by path")
    func userPolicy() throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("fb-policy-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("mine.json")
        try Data(#"{"extends": "default", "limits": {"memory": "512MiB", "timeoutSeconds": 5}}"#.utf8).write(to: file)
        var store = PolicyStore.standard()
        store.directories.insert(dir, at: 0)
        for reference in [file.path, "mine"] {
            let policy = try store.load(reference)
            #expect(policy.name == "mine")
            #expect(policy.limits.memory == 512 << 20 && policy.limits.timeoutSeconds == 5)
            #expect(policy.limits.pids == 512)
            _ = try Sandbox.compileSeccomp(policy)
        }
    }

    @Test(
        "bad policies name every bad field",
        arguments: [
            (#"{"limits": {"memroy": "1GiB"}}"#, "limits.memroy: unknown field (did you mean \"memory\"?)"),
            (#"{"limits": {"pids": "many"}}"#, "limits.pids: expected an integer"),
            (#"{"limits": {"pids": 3}}"#, "limits.pids: 3 is out of range"),
            (#"{"limits": {"memory": "lots"}}"#, "limits.memory: expected a size"),
            (#"{"network": "wide"}"#, "network: must be"),
            (#"{"filesystem": {"readOnlyPaths": ["usr"]}}"#, "filesystem.readOnlyPaths[0]: must be an absolute path"),
            (#"{"filesystem": {"etc": ["../shadow"]}}"#, "filesystem.etc[0]"),
            (#"{"environment": {"set": {"BAD=NAME": "x"}}}"#, "invalid variable name"),
            (#"{"minimumTier": 3}"#, "minimumTier: expected a string"),
            (#"[1, 2]"#, "expected a JSON object"),
            (#"{"limits": "#, "not valid JSON"),
        ])
    func badPolicies(json: String, expected: String) throws {
        let dir = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("fb-bad-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("bad.json")
        try Data(json.utf8).write(to: file)
        let error = #expect(throws: PolicyError.self) { try PolicyStore(directories: [dir]).load("bad") }
        #expect(error?.description.contains(expected) == true, "\(error.map { "\($0)" } ?? "no error")")
    }

    @Test("a missing policy suggests the nearest name; names cannot climb out of the directory")
    func missingPolicy() {
        let store = PolicyStore.standard()
        let error = #expect(throws: PolicyError.self) { try store.load("defualt") }
        #expect(error?.description.contains("did you mean \"default\"") == true)
        #expect(throws: PolicyError.self) { try store.load("..") }
    }
}

@Suite("Output capture")
struct OutputCaptureTests {
    @Test("keeps everything under the cap, head and tail over it, in any chunking")
    func headAndTail() {
        let data = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 251) }
        for chunk in [1, 7, 4096, 100_000] {
            var capture = OutputCapture(capacity: 1000)
            var offset = 0
            while offset < data.count {
                capture.append(Array(data[offset..<min(offset + chunk, data.count)]))
                offset += chunk
            }
            let out = capture.finish()
            #expect(out.head == Array(data.prefix(500)))
            #expect(out.tail == Array(data.suffix(500)))
            #expect(out.totalBytes == 100_000 && out.droppedBytes == 99_000 && out.truncated)
        }
        var small = OutputCapture(capacity: 1000)
        small.append(Array("hello".utf8))
        #expect(small.finish().text == "hello" && !small.finish().truncated)
    }

    @Test("text marks the cut and never fails on invalid UTF-8")
    func text() {
        var capture = OutputCapture(capacity: 4)
        capture.append([0x61, 0x62, 0xff, 0xfe, 0x63, 0x64])
        let text = capture.finish().text
        #expect(text.hasPrefix("ab") && text.hasSuffix("cd") && text.contains("2 bytes dropped"))
    }
}

@Suite("Attempt status")
struct AttemptOutcomeTests {
    @Test("reports parse, and the first setup failure wins")
    func reportParsing() {
        let report = HelperReport(
            parsing: "init 42\ncpu-base 18446744073709551615\nerror overlay 22\nerror execve 2\nexit 256\n")
        #expect(report.initPID == 42)
        #expect(report.cpuBaseNanoseconds == UInt64.max)
        #expect(report.setupFailure == .init(stage: "overlay", errno: 22))
        #expect(report.exitStatus == 256)
    }

    @Test(
        "one status per attempt, harness failures first",
        arguments: [
            ("exit 0\n", nil, 0, AttemptStatus.passed),
            ("exit 256\n", nil, 0, .failed),
            ("exit 9\n", nil, 0, .signaled),
            ("exit 9\n", nil, 1, .oom),
            ("exit 9\n", KillReason.timeout, 0, .timeout),
            ("", KillReason.outputLimit, 0, .outputLimit),
            ("", KillReason.cancelled, 0, .cancelled),
            ("error execve 2\nexit 32512\n", nil, 0, .sandboxError),
            ("error uid_map 1\n", KillReason.timeout, 0, .sandboxError),
            ("reaper 9\n", nil, 0, .sandboxError),
            ("", nil, 0, .sandboxError),
        ] as [(String, KillReason?, Int, AttemptStatus)])
    func classify(report: String, kill: KillReason?, oomKills: Int, expected: AttemptStatus) {
        let outcome = AttemptOutcome.classify(
            report: HelperReport(parsing: report), killReason: kill, oomKills: oomKills)
        #expect(outcome.status == expected)
        if expected == .failed { #expect(outcome.exitCode == 1) }
        if expected == .signaled { #expect(outcome.signal == 9 && outcome.exitCode == nil) }
    }

    @Test("secrets never pass, whatever a policy lists")
    func secretNames() {
        for name in ["RUNPOD_AI_API_KEY", "RUNPOD_WEBHOOK_GET_JOB", "FLAKEBOX_API_KEY", "GITHUB_TOKEN", "DB_PASSWORD"] {
            #expect(Sandbox.isSecretName(name))
        }
        for name in ["LANG", "PATH", "TEST_SEED", "PIP_INDEX_URL"] { #expect(!Sandbox.isSecretName(name)) }
    }
}

@Suite("Launcher binary")
struct LauncherBinaryTests {
    @Test("flakebox-sandbox carries no Swift runtime (nothing of Swift in the sandbox's PID 1)")
    func noSwiftRuntime() throws {
        let path = try #require(HelperLocator.helperPath(), "the helper is built beside the tests")
        let binary = try #require(FileManager.default.contents(atPath: path))
        for marker in ["libswiftCore.so", "swift_retain", "swift_allocObject", "libstdc++.so"] {
            #expect(binary.range(of: Data(marker.utf8)) == nil, "\(path) references \(marker)")
        }
    }
}

@Suite("Scratch sweeping")
struct ScratchSweeperTests {
    @Test("only flakebox-<pid> and flakebox-probe-<pid>-… names carry an owner")
    func names() {
        #expect(ScratchSweeper.ownerPID("flakebox-123") == 123)
        #expect(ScratchSweeper.ownerPID("flakebox-probe-77-full") == 77)
        for other in [
            "flakebox-jobs", "flakebox-test-AB12", "flakebox-repo-1a", "flakebox-12x", "other-12", "flakebox-",
        ] {
            #expect(ScratchSweeper.ownerPID(other) == nil, "\(other)")
        }
    }

    @Test("a dead supervisor's directory goes, a live one's and a foreign one stay")
    func sweep() throws {
        let root = NSTemporaryDirectory() + "flakebox-sweep-\(UUID().uuidString.prefix(8))"
        defer { WorkspaceFiles.removeTree(root) }
        // pid_max is at most 4194304: this pid cannot exist.
        for name in ["flakebox-4194304/etc-x", "flakebox-\(getpid())/etc-y", "flakebox-jobs/job-z"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(name)", withIntermediateDirectories: true)
        }
        ScratchSweeper.removeStale(in: [root])
        let left = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        #expect(left == ["flakebox-\(getpid())", "flakebox-jobs"].sorted())
    }
}

@Suite("Scratch trees, copied and removed in-process")
struct WorkspaceFilesTests {
    @Test("a copy keeps contents, modes, times and symlinks (never followed), owned as asked")
    func copy() throws {
        let root = NSTemporaryDirectory() + "flakebox-tree-\(UUID().uuidString.prefix(8))"
        defer { WorkspaceFiles.removeTree(root) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(root)/src/d/e", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(root)/outside", withIntermediateDirectories: true)
        #expect(WorkspaceFiles.writeFile("\(root)/src/run.sh", Array("#!/bin/sh\n".utf8), mode: 0o755))
        #expect(WorkspaceFiles.writeFile("\(root)/src/d/e/data", Array(repeating: 7, count: 200_000)))
        #expect(WorkspaceFiles.writeFile("\(root)/outside/secret", Array("s".utf8)))
        try fm.createSymbolicLink(atPath: "\(root)/src/link", withDestinationPath: "\(root)/outside")
        #expect(chmod("\(root)/src/d", 0o750) == 0)
        var times = [timespec(tv_sec: 1_000_000, tv_nsec: 0), timespec(tv_sec: 1_000_000, tv_nsec: 0)]
        #expect(utimensat(AT_FDCWD, "\(root)/src/run.sh", &times, 0) == 0)

        try WorkspaceFiles.copyTree("\(root)/src", to: "\(root)/copy", uid: 4242, gid: 4343)
        #expect(fm.contents(atPath: "\(root)/copy/d/e/data") == Data(repeating: 7, count: 200_000))
        var info = stat()
        #expect(stat("\(root)/copy/run.sh", &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o755 && info.st_mtim.tv_sec == 1_000_000)
        #expect(stat("\(root)/copy/d", &info) == 0 && info.st_mode & 0o7777 == 0o750)
        #expect(try fm.destinationOfSymbolicLink(atPath: "\(root)/copy/link") == "\(root)/outside")
        #expect(try fm.contentsOfDirectory(atPath: "\(root)/outside") == ["secret"])
        if geteuid() == 0 {
            for path in ["copy", "copy/d/e/data", "copy/run.sh"] {
                #expect(stat("\(root)/\(path)", &info) == 0 && info.st_uid == 4242 && info.st_gid == 4343, "\(path)")
            }
            #expect(lstat("\(root)/copy/link", &info) == 0 && info.st_uid == 4242)
        }
        // The source is untouched.
        #expect(stat("\(root)/src/run.sh", &info) == 0 && info.st_uid == geteuid())
    }

    @Test("removal empties directories left without permissions and leaves symlink targets alone")
    func remove() throws {
        let root = NSTemporaryDirectory() + "flakebox-tree-\(UUID().uuidString.prefix(8))"
        defer { WorkspaceFiles.removeTree(root) }
        let fm = FileManager.default
        try fm.createDirectory(atPath: "\(root)/tree/locked/inner", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: "\(root)/kept", withIntermediateDirectories: true)
        #expect(WorkspaceFiles.writeFile("\(root)/tree/locked/inner/f", Array("x".utf8)))
        #expect(WorkspaceFiles.writeFile("\(root)/kept/f", Array("x".utf8)))
        try fm.createSymbolicLink(atPath: "\(root)/tree/link", withDestinationPath: "\(root)/kept")
        #expect(chmod("\(root)/tree/locked/inner", 0o500) == 0 && chmod("\(root)/tree/locked", 0) == 0)
        WorkspaceFiles.removeTree("\(root)/tree")
        #expect(!fm.fileExists(atPath: "\(root)/tree"))
        #expect(fm.fileExists(atPath: "\(root)/kept/f"))
    }
}

@Suite("Minimal-tier paths and reports")
struct MinimalTierUnitTests {
    @Test("workspace paths in the environment point at the copy, whole paths only")
    func remapPath() {
        let copy = "/tmp/fb/attempt-1/workspace"
        #expect(Sandbox.remapPath(in: "/workspace", from: "/workspace", to: copy) == copy)
        #expect(
            Sandbox.remapPath(in: "--junitxml=/workspace/.flakebox-junit.xml -x", from: "/workspace", to: copy)
                == "--junitxml=\(copy)/.flakebox-junit.xml -x")
        #expect(
            Sandbox.remapPath(in: "/workspace/.venv/bin:/usr/bin", from: "/workspace", to: copy)
                == "\(copy)/.venv/bin:/usr/bin")
        #expect(
            Sandbox.remapPath(in: "/workspaces/x:/a/workspace", from: "/workspace", to: copy)
                == "/workspaces/x:/a/workspace")
        #expect(Sandbox.remapPath(in: "a:/workspace b=/workspace", from: "/workspace", to: "/c") == "a:/c b=/c")
    }

    @Test("a tier asked below the machine's reports the layers it leaves out")
    func reportAtTier() {
        let full = IsolationReport(
            tier: .full,
            layers: [
                .init(name: "namespaces", available: true, detail: "all"),
                .init(name: "overlayfs", available: true, detail: "yes"),
                .init(name: "seccomp", available: true, detail: "yes"),
                .init(name: "cgroups", available: true, detail: "v1"),
            ], kernel: "6", rootless: false, cgroupsUsable: true)
        #expect(full.at(.full) == full)
        let minimal = full.at(.minimal)
        #expect(minimal.tier == .minimal)
        #expect(
            minimal.missing.map(\.name) == [
                "namespaces", "overlayfs", "network isolation", "pid isolation", "filesystem isolation",
            ])
        #expect(minimal.layers.first { $0.name == "seccomp" }?.available == true)
        #expect(full.at(.reduced).missing.map(\.name) == ["overlayfs"])
    }

    @Test("the RunPod policies are the default ones at any tier")
    func runpodPolicies() throws {
        let store = PolicyStore.standard()
        let runpod = try store.load("runpod")
        let setup = try store.load("runpod-setup")
        let strict = try store.load("default")
        #expect(runpod.minimumTier == .minimal && setup.minimumTier == .minimal)
        #expect(runpod.network == strict.network && runpod.limits == strict.limits)
        #expect(setup.network == .proxy)
    }

    @Test("a policy names its family's setup policy; a path or an empty name is refused")
    func setupPolicyField() throws {
        let store = PolicyStore.standard()
        #expect(try store.load("runpod").setupPolicy == "runpod-setup")
        #expect(try store.load("default").setupPolicy == "setup")
        for bad in ["", "../x"] {
            #expect(throws: PolicyError.self) {
                _ = try Policy(json: ["name": "p", "setupPolicy": bad], directory: nil)
            }
        }
    }
}

@Suite("The path guard's aliases at /", .enabled(if: geteuid() == 0, "needs root to write /"))
struct PrivateDirectoriesTests {
    @Test("made beside the attempt's directories, removed with it; a dead supervisor's are swept, a live one's kept")
    func aliases() throws {
        let scratch = NSTemporaryDirectory() + "flakebox-\(getpid())-aliases-\(UInt32.random(in: 0...UInt32.max))"
        defer { WorkspaceFiles.removeTree(scratch) }
        let made = try PrivateDirectories.make(in: scratch, uid: 65534, gid: 65534)
        #expect(made.entries.map(\.shared) == ["/tmp", "/var/tmp", "/dev/shm"])
        for entry in made.entries {
            #expect(
                entry.alias.count <= entry.shared.count
                    && PrivateDirectories.isAliasName(String(entry.alias.dropFirst())))
            #expect(PrivateDirectories.target(of: entry.alias) == entry.directory)
        }
        #expect(made.helperArguments.prefix(3) == ["--private-path", "/tmp", made.entries[0].alias])
        // A stale alias: its directory is gone (its supervisor died before removing it).
        let gone = try PrivateDirectories.makeAlias(to: "\(scratch)-gone/tmp")
        PrivateDirectories.removeStale()
        #expect(PrivateDirectories.target(of: gone) == nil)
        #expect(made.entries.allSatisfy { PrivateDirectories.target(of: $0.alias) == $0.directory })
        made.remove()
        #expect(made.entries.allSatisfy { PrivateDirectories.target(of: $0.alias) == nil })
    }

    @Test("the launcher's Landlock view grants the shared /dev/shm only without the path guard")
    func landlockView() throws {
        let policy = try TestMachine.policy { $0.minimumTier = .minimal }
        #expect(HelperArguments.landlockView(policy).contains("/dev/shm"))
        #expect(!HelperArguments.landlockView(policy, sharedShm: false).contains("/dev/shm"))
    }
}
