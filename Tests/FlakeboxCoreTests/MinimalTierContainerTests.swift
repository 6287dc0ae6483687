import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The minimal tier where RunPod runs it: the real `flakebox` started by `flakebox confine
/// --docker`, which loads Docker's default seccomp profile and keeps Docker's default capability
/// set (so no user namespace, no CAP_SYS_ADMIN, no CAP_SYS_PTRACE), as `docker run` does.
enum DockerHarness {
    /// Why the harness cannot run here, or nil. It needs root (to shed capabilities, as Docker's
    /// root-owned runtime does) and a working `confine`.
    static let unavailable: String? = {
        guard geteuid() == 0 else { return "the Docker harness needs root (it sheds capabilities as runc does)" }
        guard let check = try? runConfined(["/bin/sh", "-c", "grep -E '^(CapEff|Seccomp):' /proc/self/status"]),
            check.status == 0
        else { return "flakebox confine --docker did not run" }
        return nil
    }()

    static var flakeboxPath: String {
        HelperLocator.executableDirectory().appendingPathComponent("flakebox").path
    }

    /// Runs `command` under the harness; returns its exit code, stdout and stderr.
    static func runConfined(_ command: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProgram(flakeboxPath, ["confine", "--docker", "--"] + command)
    }

    /// Runs `command` as it is, without the harness.
    static func runPlain(_ command: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try runProgram(command[0], Array(command.dropFirst()))
    }

    /// `flakebox run --tier minimal --policy runpod --json` of `command` (a shell command line) under
    /// the harness.
    /// - Parameter confined: false runs the same job without the harness (the launcher may then take
    ///   the attempt's sockets with pidfd_getfd and perform its calls itself).
    static func job(
        _ repo: TestRepository, runs: Int, parallelism: Int, timeout: Double = 60, confined: Bool = true,
        _ command: String
    ) async throws -> [String: Any] {
        let result = try await withCheckedThrowingContinuation { continuation in
            DetachedThread.start {
                continuation.resume(
                    with: Result {
                        try (confined ? runConfined : runPlain)([
                            flakeboxPath, "run", "--repo", repo.path, "--runs", "\(runs)", "--parallelism",
                            "\(parallelism)", "--tier", "minimal", "--policy", "runpod", "--timeout", "\(timeout)",
                            "--json", "--", command,
                        ])
                    })
            }
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            Issue.record("no summary: exit \(result.status), stderr: \(result.stderr)")
            return [:]
        }
        return object
    }

    static let python = "/usr/bin/python3"
}

/// Prints why a suite is skipped (so a skip is never silent).
private func harnessReady() -> Bool {
    if let why = DockerHarness.unavailable {
        print("[flakebox tests] minimal tier under Docker's confinement skipped: \(why)")
        return false
    }
    if !FileManager.default.isExecutableFile(atPath: DockerHarness.python) {
        print("[flakebox tests] minimal tier under Docker's confinement skipped: no \(DockerHarness.python)")
        return false
    }
    return true
}

@Suite(
    "minimal tier under Docker's default confinement", .serialized,
    .enabled(
        if: harnessReady(),
        "needs `flakebox confine --docker` and /usr/bin/python3 (the line above says which is missing)"))
struct MinimalTierContainerTests {
    @Test("the harness is Docker's: CapEff a80425fb, seccomp in force, no user namespace")
    func harnessIsDocker() throws {
        let run = try DockerHarness.runConfined([
            "/bin/sh", "-c",
            "grep -E '^(CapEff|Seccomp):' /proc/self/status; unshare -U true 2>/dev/null && echo userns || echo no-userns",
        ])
        #expect(run.stdout.contains("CapEff:\t00000000a80425fb"), "\(run.stdout)")
        #expect(run.stdout.contains("Seccomp:\t2"), "\(run.stdout)")
        #expect(run.stdout.contains("no-userns"), "\(run.stdout)")
    }

    @Test("an inherited open-files limit below the policy's (a podman build step's 1024) is kept, not an error")
    func lowInheritedLimit() throws {
        let workspace = NSTemporaryDirectory() + "flakebox-nofile-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: workspace, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: workspace) }
        // Without CAP_SYS_RESOURCE (Docker's set has none) a hard limit cannot be raised again.
        let run = try DockerHarness.runPlain([
            "/usr/bin/prlimit", "--nofile=512:512", "--", DockerHarness.flakeboxPath, "confine", "--docker", "--",
            DockerHarness.flakeboxPath, "exec", "--tier", "minimal", "--policy", "runpod", "--workspace", workspace,
            "--", "ulimit -n; ulimit -Hn",
        ])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("512\n512"), "\(run.stdout)\(run.stderr)")
    }

    @Test("doctor under the harness: minimal tier, the loopback guard and per-attempt uids found")
    func doctor() throws {
        let run = try DockerHarness.runConfined([DockerHarness.flakeboxPath, "doctor", "--policy", "runpod"])
        #expect(run.stdout.contains("isolation tier: minimal"), "\(run.stdout)")
        #expect(run.stdout.contains("✓ loopback guard"), "\(run.stdout)")
        #expect(run.stdout.contains("✓ uid per attempt"), "\(run.stdout)")
        #expect(run.stdout.contains("✓ private /tmp"), "\(run.stdout)")
    }

    @Test(
        "the same port on 127.0.0.1, 0.0.0.0, localhost, ::1 and an abstract name in 4 attempts at once: 0 false failures"
    )
    func fixedPort() async throws {
        try await Self.fixedPortJob(confined: true)
    }

    @Test("the same without Docker's profile, where the launcher performs the calls on the attempt's socket")
    func fixedPortPerformed() async throws {
        try await Self.fixedPortJob(confined: false)
    }

    static func fixedPortJob(confined: Bool) async throws {
        let repo = try TestRepository(files: [
            "port.py": """
            import socket, time
            servers = []
            for family, host in [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]:
                s = socket.socket(family)
                s.bind((host, 48765)); s.listen(); servers.append(s)
            w = socket.socket(); w.bind(("0.0.0.0", 48766)); w.listen()
            l = socket.socket(); l.bind(("localhost", 48767)); l.listen()
            time.sleep(0.5)
            # A client in this attempt reaches this attempt's server.
            c = socket.create_connection(("127.0.0.1", 48765)); a, _ = servers[0].accept()
            c.sendall(b"ping"); assert a.recv(4) == b"ping"
            c6 = socket.create_connection(("::1", 48765)); servers[1].accept()
            socket.create_connection(("127.0.0.1", 48766)); w.accept()
            u = socket.socket(socket.AF_UNIX); u.bind("\\0flakebox-test-port-abstract"); u.listen()
            socket.socket(socket.AF_UNIX).connect("\\0flakebox-test-port-abstract"); u.accept()
            print("port-ok")

            """
        ])
        let summary = try await DockerHarness.job(
            repo, runs: 8, parallelism: 4, confined: confined, "\(DockerHarness.python) port.py")
        #expect(summary["failures"] as? Int == 0, "\(summary)")
        #expect(summary["total_runs"] as? Int == 8)
        #expect(Self.everyStdout(summary, contains: "port-ok"), "\(summary)")
    }

    @Test("./state.txt and an abstract unix socket in 4 attempts at once: 0 false failures")
    func stateAndAbstractSocket() async throws {
        let repo = try TestRepository(files: [
            "state.py": """
            import os, socket, time
            assert not os.path.exists("state.txt"); open("state.txt", "w").write("x")
            u = socket.socket(socket.AF_UNIX); u.bind("\\0flakebox-test-abstract"); u.listen()
            v = socket.socket(socket.AF_UNIX); v.connect("\\0flakebox-test-abstract")
            time.sleep(0.5)
            print("state-ok")

            """
        ])
        let summary = try await DockerHarness.job(repo, runs: 8, parallelism: 4, "\(DockerHarness.python) state.py")
        #expect(summary["failures"] as? Int == 0, "\(summary)")
        #expect(Self.everyStdout(summary, contains: "state-ok"), "\(summary)")
    }

    @Test(
        "/tmp/x, /var/tmp/x and /dev/shm/x in 4 attempts at once: 0 false failures, none on the host, none left"
    )
    func privateDirectories() async throws {
        let marker = "flakebox-private-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let repo = try TestRepository(files: [
            "tmp.py": """
            import os, random, socket, subprocess, time
            me = "%d-%d" % (os.getpid(), random.getrandbits(48))
            dirs = ["/tmp", "/var/tmp", "/dev/shm"]
            for d in dirs:
                for name in ["x", "\(marker)"]:
                    assert not os.path.exists(d + "/" + name), d + "/" + name
                    with open(d + "/" + name, "w") as f:
                        f.write(me)
            # POSIX shared memory, a unix socket by path and a child process, as tests use them.
            from multiprocessing import shared_memory
            m = shared_memory.SharedMemory(name="flakebox-test-shm", create=True, size=16)
            u = socket.socket(socket.AF_UNIX); u.bind("/tmp/s.sock"); u.listen()
            socket.socket(socket.AF_UNIX).connect("/tmp/s.sock"); u.accept()
            out = subprocess.run(["/bin/sh", "-c", "cat /tmp/x"], capture_output=True, text=True).stdout
            assert out == me, out
            time.sleep(0.5)
            for d in dirs:
                assert open(d + "/x").read() == me, d
            assert os.path.realpath("/tmp/x") == "/tmp/x"
            os.chdir("/tmp")  # relative paths from there are the attempt's own /tmp
            assert open("x").read() == me
            m.close(); m.unlink()
            print("private-ok", os.getcwd())

            """
        ])
        let summary = try await DockerHarness.job(repo, runs: 8, parallelism: 4, "\(DockerHarness.python) tmp.py")
        #expect(summary["failures"] as? Int == 0, "\(summary)")
        #expect(Self.everyStdout(summary, contains: "private-ok"), "\(summary)")
        for directory in ["/tmp", "/var/tmp", "/dev/shm"] {
            #expect(!FileManager.default.fileExists(atPath: "\(directory)/\(marker)"), "\(directory) is the host's")
        }
        // Each attempt's /tmp (the host path it printed) went with the attempt, and so did its aliases.
        let results = summary["results"] as? [[String: Any]] ?? []
        for result in results {
            let words = ((result["stdout"] as? String) ?? "").split(separator: " ")
            if words.count == 2 {
                #expect(
                    !FileManager.default.fileExists(
                        atPath: String(words[1].trimmingCharacters(in: .whitespacesAndNewlines))))
            }
        }
        #expect(Self.danglingAliases().isEmpty, "\(Self.danglingAliases())")
    }

    /// Alias-shaped symlinks at / whose directory is gone.
    private static func danglingAliases() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/")) ?? []
        return entries.filter { name in
            guard name.count == 3, name.hasPrefix("."),
                let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/\(name)"),
                target.contains("/flakebox-")
            else { return false }
            return !FileManager.default.fileExists(atPath: target)
        }
    }

    @Test(
        "escapes held: host loopback service, UDP/TCP out, host /var/tmp and /tmp, a host secret, devices, a daemon"
    )
    func escapes() async throws {
        // A service on the host's loopback that an attempt must not reach.
        let host = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(host) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(host, $0, length) }
        }
        listen(host, 8)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(host, $0, &length) }
        }
        let port = UInt16(bigEndian: address.sin_port)
        let marker = "flakebox-daemon-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        // A host file every uid may read (0644): only Landlock keeps it from the attempt.
        let secretDir = NSTemporaryDirectory() + "flakebox-secret-\(getpid())"
        try FileManager.default.createDirectory(atPath: secretDir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: secretDir) }
        chmod(secretDir, 0o755)
        try "s3cret".write(toFile: secretDir + "/key", atomically: false, encoding: .utf8)
        chmod(secretDir + "/key", 0o644)
        let hostFile = "/var/tmp/flakebox-escape-\(marker)"
        defer { unlink(hostFile) }
        let repo = try TestRepository(files: [
            "escape.py": """
            import socket, subprocess, sys
            out = []
            for target in [("127.0.0.1", \(port)), ("0.0.0.0", \(port)), ("localhost", \(port))]:
                try:
                    socket.create_connection(target, timeout=2); out.append("host loopback reached via %s" % (target,))
                except OSError:
                    pass
            try:
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("192.0.2.1", 9)); out.append("udp sent")
            except OSError:
                pass
            try:
                socket.create_connection(("192.0.2.1", 80), timeout=2); out.append("tcp connected")
            except OSError:
                pass
            # /tmp and /var/tmp are the attempt's own (checked on the host below); spelled so that the
            # path guard leaves them alone, they are the host's, and closed.
            for path in ["\(hostFile)", "/tmp/\(marker)"]:
                open(path, "w").close()
            for path, mode in [("/./var/tmp/\(marker)", "w"), ("/tmp/../tmp/\(marker)-2", "w"),
                               ("/./dev/shm/\(marker)", "w"), ("\(secretDir)/key", "r"),
                               ("/dev/kmsg", "r"), ("/dev/vda", "r"), ("/dev/tty", "r")]:
                try:
                    open(path, mode).close(); out.append("opened %s for %s" % (path, mode))
                except OSError:
                    pass
            subprocess.Popen(["/bin/sh", "-c", "exec -a \(marker) sleep 300"], start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            print("\\n".join(out) or "held"); sys.exit(1 if out else 0)

            """
        ])
        let summary = try await DockerHarness.job(
            repo, runs: 2, parallelism: 2, timeout: 120, "\(DockerHarness.python) escape.py")
        #expect(summary["failures"] as? Int == 0, "\(summary)")
        let results = summary["results"] as? [[String: Any]] ?? []
        #expect(results.allSatisfy { ($0["status"] as? String) == "passed" }, "\(results)")
        #expect(Self.everyStdout(summary, contains: "held"), "\(summary)")
        #expect(!Self.processRuns(named: marker), "the daemon outlived its attempt")
        #expect(!FileManager.default.fileExists(atPath: hostFile))
        for path in ["/tmp/\(marker)", "/tmp/\(marker)-2", "/dev/shm/\(marker)"] {
            #expect(!FileManager.default.fileExists(atPath: path), "\(path)")
        }
    }

    /// Every attempt ran to its last line (a test that did not run at all cannot pass here).
    private static func everyStdout(_ summary: [String: Any], contains text: String) -> Bool {
        let results = summary["results"] as? [[String: Any]] ?? []
        return !results.isEmpty && results.allSatisfy { ($0["stdout"] as? String)?.contains(text) == true }
    }

    private static func processRuns(named name: String) -> Bool {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.contains { entry in
            guard Int(entry) != nil, let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else {
                return false
            }
            return String(decoding: data, as: UTF8.self).contains(name)
        }
    }

    @Test(
        "a pytest job with a requirements.txt: setup runs under runpod-setup, the attempts under runpod",
        .enabled(if: JobTestMachine.hasPytest, "needs Debian's python3-pytest (scripts/bootstrap.sh installs it)"))
    func requirementsJob() async throws {
        let repo = try TestRepository(files: [
            "requirements.txt": "tabulate==0.9.0\n",
            "test_t.py": "import tabulate\ndef test_version():\n    assert tabulate.__version__ == '0.9.0'\n",
        ])
        let summary = try await DockerHarness.job(repo, runs: 4, parallelism: 2, "python3 -m pytest -q test_t.py")
        #expect(summary["failures"] as? Int == 0, "\(summary)")
        #expect(summary["total_runs"] as? Int == 4)
        let isolation = summary["isolation"] as? [String: Any]
        #expect(isolation?["tier"] as? String == "minimal", "\(isolation ?? [:])")
    }
}
