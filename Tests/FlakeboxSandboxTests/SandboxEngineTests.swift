import Foundation
import Testing

@testable import FlakeboxSandbox

#if canImport(Glibc)
    import Glibc
#endif

@Suite(
    "Sandbox engine: tiers, lifetimes, supervisor death",
    .enabled(if: TestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
struct SandboxEngineTests {
    @Test("the probe measures every layer and reports the full tier here")
    func probeReport() throws {
        let report = try #require(TestMachine.report)
        #expect(report.tier == .full)
        for name in ["namespaces", "overlayfs", "seccomp", "no_new_privs", "cgroups"] {
            #expect(report.layers.first { $0.name == name }?.available == true, "\(name): \(report.missingSummary)")
        }
    }

    @Test(
        "the launcher reports the cgroup's CPU usage as the command starts (v1 and v2 formats), at both tiers",
        arguments: [false, true])
    func cpuBase(namespaced: Bool) async throws {
        let policy = try TestMachine.policy { $0.minimumTier = .minimal }
        let sandbox = try Sandbox(policy: policy, options: .init(tier: namespaced ? .full : .minimal))
        let ws = try TestWorkspace()
        // Stand-ins for the cgroup files, read the same way; what the launcher reads is the point.
        for (content, expected) in [
            ("123456789\n", "cpu-base 123456789"), ("usage_usec 4321\nuser_usec 1\n", "cpu-base 4321000"),
        ] {
            let file = ws.path + "/usage"
            try Data(content.utf8).write(to: URL(fileURLWithPath: file))
            let arguments = sandbox.helperArguments.arguments(
                for: AttemptRequest(command: ["/bin/true"], workspace: ws.path), workspaceSource: ws.path,
                cgroupProcs: [], cpuUsage: file, environment: ["PATH": "/usr/bin:/bin"])
            let spawned = AttemptExecution.spawn(
                helperPath: sandbox.helperPath, arguments: arguments, seccompFD: sandbox.program?.fd, hold: false)
            guard case .success(let helper) = spawned else {
                Issue.record("spawn failed: \(spawned)")
                return
            }
            let (_, status, lines) = helper.finish()
            #expect(status == 0, "\(lines)")
            // Before the command's exit, and once.
            #expect(lines.filter { $0.hasPrefix("cpu-base") } == [expected], "\(lines)")
            #expect(lines.firstIndex(of: expected) ?? .max < lines.firstIndex(of: "exit 0") ?? -1, "\(lines)")
        }
    }

    @Test("the curated /etc keeps the host's times (Python's cached bytecode of Debian's sitecustomize stays valid)")
    func curatedEtcTimes() async throws {
        let sandbox = try Sandbox(policy: TestMachine.policy())
        // A file, a directory and a symlink of the default policy's /etc entries.
        let paths = ["/etc/debian_version", "/etc/ssl", "/etc/ssl/certs", "/etc/python3"].filter {
            FileManager.default.fileExists(atPath: $0)
        }
        try #require(!paths.isEmpty, "none of \(paths) on this machine")
        let result = try await sandbox.sh(
            "stat -c '%n %Y' \(paths.joined(separator: " ")); stat -L -c '%n %Y' /etc/ssl/certs")
        #expect(result.status == .passed, "\(result.summary)")
        var host = ""
        for path in paths {
            var info = stat()
            lstat(path, &info)
            host += "\(path) \(info.st_mtim.tv_sec)\n"
        }
        var followed = stat()
        stat("/etc/ssl/certs", &followed)
        host += "/etc/ssl/certs \(followed.st_mtim.tv_sec)\n"
        #expect(result.out == host)

        let site = "/usr/lib/python3.11/sitecustomize.py"
        guard FileManager.default.fileExists(atPath: site), FileManager.default.fileExists(atPath: "/usr/bin/python3")
        else {
            print("[flakebox tests] no \(site): the bytecode half of the /etc times test is skipped")
            return
        }
        let python = try await sandbox.sh("python3 -v -c pass 2>&1 | grep sitecustomize")
        #expect(python.out.contains("matches \(site)"), "\(python.summary)")
        #expect(!python.out.contains("stale"), "\(python.summary)")
    }

    @Test("a policy's minimum tier is enforced: never silently weaker")
    func minimumTierEnforced() throws {
        let strict = try TestMachine.policy()
        #expect(strict.minimumTier == .full)
        #expect(throws: SandboxError.self) { try Sandbox(policy: strict, options: .init(tier: .minimal)) }
        #expect(throws: SandboxError.self) { try Sandbox(policy: strict, options: .init(tier: .reduced)) }
    }

    @Test("the minimal tier runs with seccomp, a private copy and private temp, and kills daemons")
    func minimalTier() async throws {
        let policy = try TestMachine.policy { $0.minimumTier = .minimal }
        let sandbox = try Sandbox(policy: policy, options: .init(tier: .minimal))
        #expect(sandbox.tier == .minimal)
        let ws = try TestWorkspace(files: ["state.txt": "original"])
        let before = ws.snapshot()
        let result = try await sandbox.sh(
            "echo changed > state.txt; cat state.txt; echo $HOME; touch \"$TMPDIR/x\";"
                + " grep '^Seccomp:' /proc/self/status; setsid sleep 4245 & exit 0", in: ws)
        #expect(result.status == .passed, "\(result.summary)")
        #expect(result.tier == .minimal)
        #expect(result.out.contains("changed") && result.out.contains("Seccomp:\t2"), "\(result.summary)")
        #expect(!result.out.contains("\n/tmp\n"), "HOME must be private in the minimal tier")
        #expect(ws.snapshot() == before)
        try await Task.sleep(for: .milliseconds(300))
        #expect(hostProcesses(containing: "sleep 4245").isEmpty)
    }

    @Test("minimal tier, a frozen workspace: the next attempt's copy is made ahead, and sees nothing of the last")
    func minimalTierPreparedAhead() async throws {
        let policy = try TestMachine.policy { $0.minimumTier = .minimal }
        var options = Sandbox.Options(tier: .minimal)
        options.frozenWorkspaces = true
        let ws = try TestWorkspace(files: ["state.txt": "original"])
        let before = ws.snapshot()
        let script =
            "pwd; cat state.txt; ls \"$TMPDIR\"; echo changed > state.txt; touch left-behind \"$TMPDIR/left-behind\""
        var outputs: [String] = []
        do {
            let sandbox = try Sandbox(policy: policy, options: options)
            for _ in 0..<4 {
                let result = try await sandbox.sh(script, in: ws)
                #expect(result.status == .passed, "\(result.summary)")
                outputs.append(result.out)
                // Time for the next copy to be made while nothing runs (as during a longer test).
                try await Task.sleep(for: .milliseconds(200))
            }
        }
        // Every attempt saw the workspace as it is, nothing another attempt wrote.
        for out in outputs {
            #expect(out.contains("original") && !out.contains("left-behind") && !out.contains("changed"), "\(out)")
        }
        // The first copy is made on the attempt's path; the ones after it were made ahead.
        let prepared = outputs.dropFirst().filter { $0.contains("/next-") }.count
        #expect(prepared == 3, "\(outputs)")
        #expect(ws.snapshot() == before)
    }

    @Test("full tier, a frozen workspace: the next sandbox is built ahead, and sees nothing of the last")
    func fullTierBuiltAhead() async throws {
        var options = Sandbox.Options()
        options.frozenWorkspaces = true
        let sandbox = try Sandbox(policy: TestMachine.policy(), options: options)
        try #require(sandbox.tier == .full && sandbox.cgroups != nil, "needs cgroups at the full tier")
        let ws = try TestWorkspace(files: ["state.txt": "original"])
        let before = ws.snapshot()
        // What the last attempt may have left, then leave some: the workspace, /tmp, /dev/shm.
        // The start times (clock ticks since boot) of PID 1 and of the command itself.
        let script = """
            cat state.txt; ls -A /tmp /dev/shm; test -e left-behind && echo SAW-WORKSPACE
            echo changed > state.txt; touch left-behind /tmp/left-behind /dev/shm/left-behind
            echo "ticks $(getconf CLK_TCK) pid1 $(cut -d' ' -f22 /proc/1/stat) self $(cut -d' ' -f22 /proc/self/stat)"
            """
        for round in 0..<4 {
            // Time for the next sandbox to be built while nothing runs (as during a longer test).
            try await Task.sleep(for: .milliseconds(400))
            let asked = try Self.secondsSinceBoot()
            let result = try await sandbox.sh(script, in: ws)
            #expect(result.status == .passed, "\(result.summary)")
            #expect(result.out.contains("original"), "\(result.out)")
            #expect(!result.out.contains("left-behind") && !result.out.contains("SAW-WORKSPACE"), "\(result.out)")
            let words = result.out.split(whereSeparator: { $0 == " " || $0 == "\n" })
            let value = { (name: String) -> Double? in
                words.firstIndex(of: Substring(name)).flatMap {
                    words.indices.contains($0 + 1) ? Double(words[$0 + 1]) : nil
                }
            }
            let ticks = try #require(value("ticks"), "\(result.out)")
            let pid1 = try #require(value("pid1"), "\(result.out)") / ticks
            let command = try #require(value("self"), "\(result.out)") / ticks
            if round == 0 {
                // Nothing was prepared before the first request.
                #expect(pid1 >= asked - 0.02, "PID 1 at \(pid1) s, asked at \(asked) s")
            } else {
                // Built while the previous attempt ran and before this one was asked for; the
                // command itself starts only once asked.
                #expect(pid1 < asked - 0.1, "PID 1 at \(pid1) s, asked at \(asked) s")
                #expect(command >= asked - 0.02, "command at \(command) s, asked at \(asked) s")
            }
        }
        #expect(ws.snapshot() == before)
    }

    /// The host's CLOCK_BOOTTIME, the clock of /proc/PID/stat's start time.
    static func secondsSinceBoot() throws -> Double {
        var ts = timespec()
        try #require(clock_gettime(CLOCK_BOOTTIME, &ts) == 0)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    @Test(
        "the minimal tier's path guard: two attempts at once write /tmp/x, /var/tmp/x, /dev/shm/x; the host's stay untouched"
    )
    func minimalTierPrivateDirectories() async throws {
        let policy = try TestMachine.policy { $0.minimumTier = .minimal }
        let sandbox = try Sandbox(policy: policy, options: .init(tier: .minimal))
        guard sandbox.isolation.has(IsolationReport.privateDirectories) else {
            let why = sandbox.isolation.layers.first { $0.name == IsolationReport.privateDirectories }?.detail
            print("[flakebox tests] the path guard skipped: \(why ?? "not probed")")
            return
        }
        let marker = "flakebox-engine-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let ws = try TestWorkspace(files: [:])
        let script = ["/tmp", "/var/tmp", "/dev/shm"].map { dir in
            "test ! -e \(dir)/\(marker) && echo $$ > \(dir)/\(marker) && sleep 0.3 && [ \"$(cat \(dir)/\(marker))\" = $$ ]"
        }.joined(separator: " && ")
        async let first = sandbox.sh(script + " && echo private-ok", in: ws)
        async let second = sandbox.sh(script + " && echo private-ok", in: ws)
        for result in try await [first, second] {
            #expect(result.status == .passed && result.out.contains("private-ok"), "\(result.summary)")
        }
        for dir in ["/tmp", "/var/tmp", "/dev/shm"] {
            #expect(!FileManager.default.fileExists(atPath: "\(dir)/\(marker)"), "\(dir) is the host's")
        }
    }

    @Test("the minimal tier still enforces the wall-clock limit on the whole tree")
    func minimalTierTimeout() async throws {
        let policy = try TestMachine.policy { $0.minimumTier = .minimal }
        let sandbox = try Sandbox(policy: policy, options: .init(tier: .minimal))
        let result = try await sandbox.sh("(setsid sleep 4246 &); sleep 4246", timeout: 1)
        #expect(result.status == .timeout, "\(result.summary)")
        try await Task.sleep(for: .milliseconds(500))
        #expect(hostProcesses(containing: "sleep 4246").isEmpty)
    }

    @Test("a writable workspace keeps what the attempt wrote (the setup step)")
    func writableWorkspace() async throws {
        let sandbox = try Sandbox(policy: TestMachine.policy())
        let ws = try TestWorkspace()
        let result = await sandbox.run(
            AttemptRequest(
                command: ["/bin/sh", "-c", "mkdir -p venv && echo installed > venv/marker"], workspace: ws.path,
                workspaceMode: .writable))
        #expect(result.status == .passed, "\(result.summary)")
        #expect(FileManager.default.contents(atPath: "\(ws.path)/venv/marker") == Data("installed\n".utf8))
    }

    @Test(
        "#26: artifacts come back as regular files only, beneath their directory, capped",
        arguments: [IsolationTier.full, .minimal])
    func artifacts(tier: IsolationTier) async throws {
        let policy = try TestMachine.policy { $0.minimumTier = .minimal }
        let sandbox = try Sandbox(policy: policy, options: .init(tier: tier))
        let ws = try TestWorkspace(files: ["reports/.keep": ""])
        let script = """
            echo '<testsuite/>' > reports/a.xml; printf 'b' > reports/b.xml; ln -s /etc/passwd reports/evil.xml
            mkfifo reports/fifo.xml; ln -s .. reports/up.xml; echo other > reports/c.txt
            head -c 5000000 /dev/zero > reports/big.xml; echo tmp > "$TMPDIR/t.xml"
            mkdir linked; ln -s /etc linked/etc
            """
        let result = await sandbox.run(
            AttemptRequest(
                command: ["/bin/sh", "-c", script], workspace: ws.path, timeoutSeconds: 20,
                artifacts: ["/workspace/reports/*.xml", "/tmp/t.xml", "/workspace/linked/etc/*"]))
        #expect(result.status == .passed, "\(result.summary)")
        let byName = Dictionary(
            uniqueKeysWithValues: result.artifacts.map { (($0.path as NSString).lastPathComponent, $0) })
        #expect(Set(byName.keys) == ["a.xml", "b.xml", "big.xml", "t.xml"], "\(byName.keys)")
        #expect(byName["a.xml"]?.bytes == Array("<testsuite/>\n".utf8))
        #expect(byName["big.xml"]?.truncated == true && byName["big.xml"]?.bytes.count == 4 << 20)
    }

    @Test("cancelling the task kills the attempt")
    func cancellation() async throws {
        let sandbox = try Sandbox(policy: TestMachine.policy())
        let ws = try TestWorkspace()
        let task = Task {
            await sandbox.run(AttemptRequest(command: ["/bin/sh", "-c", "sleep 4247"], workspace: ws.path))
        }
        try await Task.sleep(for: .milliseconds(300))
        task.cancel()
        let result = await task.value
        #expect(result.status == .cancelled, "\(result.summary)")
        #expect(result.wallSeconds < 5)
    }

    @Test("#30: a supervisor killed at any moment of a spawn leaves no sandboxed process behind")
    func supervisorKilledMidSpawn() async throws {
        let flakebox = HelperLocator.executableDirectory().appendingPathComponent("flakebox").path
        try #require(FileManager.default.isExecutableFile(atPath: flakebox), "flakebox is built beside the tests")
        let ws = try TestWorkspace()
        var generator = SystemRandomNumberGenerator()
        for round in 0..<24 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: flakebox)
            process.arguments = ["exec", "--workspace", ws.path, "--", "sleep 4248"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // 0-60 ms covers startup, policy compile, spawn, namespace setup and the running command.
            let delay = round == 0 ? 300 : Int.random(in: 0...60, using: &generator)
            try await Task.sleep(for: .milliseconds(delay))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        var left: [Int32] = []
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(100))
            left = hostProcesses(containing: "sleep 4248")
            if left.isEmpty { break }
        }
        #expect(left.isEmpty, "processes left: \(left)")
    }
}
