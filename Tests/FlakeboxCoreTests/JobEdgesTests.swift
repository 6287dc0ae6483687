import FlakeboxCore
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

/// The edges around the test command's sandbox: what remote input may name, and what the
/// supervisor looks at inside a checkout.
@Suite("Job edges: remote input and the checkout's links")
struct JobEdgesTests {
    @Test("a remote job may not name a policy that is not open to remote jobs; nothing is fetched")
    func remotePolicy() async throws {
        // The repository would fail to resolve: the refusal must come first.
        let input = JobInput(repo: "https://flakebox.invalid/x.git", testCommand: "true", policy: "setup")
        do {
            _ = try await JobRunner().run(input, origin: .remote)
            Issue.record("the setup policy was accepted from a remote job")
        } catch {
            #expect(error.code == .policy, "\(error)")
            #expect(error.message.contains("not open to jobs from the network"), "\(error)")
        }
    }

    @Test("the shipped policies: which are open to remote jobs")
    func shippedPolicies() throws {
        let store = PolicyStore.standard()
        #expect(try store.load("default").openToRemoteJobs)
        #expect(try store.load("runpod").openToRemoteJobs)
        #expect(try !store.load("setup").openToRemoteJobs)
        #expect(try !store.load("runpod-setup").openToRemoteJobs)
    }

    @Test("a policy with the host network cannot be opened to remote jobs")
    func hostNetworkNeverRemote() {
        #expect(throws: PolicyError.self) {
            _ = try Policy(json: ["name": "x", "network": "host", "remoteJobs": true], directory: nil)
        }
    }

    @Test("a remote job's repository on loopback is refused with the reason")
    func remoteLoopbackRepository() async throws {
        let input = JobInput(repo: "https://127.0.0.1:9/x.git", testCommand: "true")
        do {
            _ = try await JobRunner().run(input, origin: .remote)
            Issue.record("a loopback repository was accepted from a remote job")
        } catch {
            #expect(error.code == .fetchFailed)
            #expect(error.message.contains("loopback"), "\(error)")
        }
    }

    @Test(
        "a committed .venv whose python links to a host path tells nothing about the host",
        .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
    func linkedVirtualEnvironment() async throws {
        var seen: [String] = []
        for target in ["/etc/passwd", "/flakebox-no-such-path"] {
            let repo = try TestRepository(files: [
                "t.sh": "echo \"venv=${VIRTUAL_ENV:-none}\"\n", ".venv/pyvenv.cfg": "home = /usr/bin\n",
            ])
            try FileManager.default.createDirectory(
                atPath: "\(repo.path)/.venv/bin", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(
                atPath: "\(repo.path)/.venv/bin/python", withDestinationPath: target)
            try repo.commitAll(message: "links")
            let summary = try await runJob(JobInput(repo: repo.path, testCommand: "sh t.sh", runs: 1, parallelism: 1))
            seen.append(results(summary).first?["stdout"] as? String ?? "")
        }
        #expect(seen[0] == seen[1], "\(seen)")
        // The link itself is never followed: both are taken for a venv, whatever the host has.
        #expect(seen[0].contains("venv=/"), "\(seen)")
    }

    @Test(
        "a requirements line ./evilpkg whose in-tree build backend probes the host reaches none of it",
        .enabled(if: JobTestMachine.fullTier, "needs the full isolation tier; `flakebox doctor` says what is missing"))
    func hostileBuildBackend() async throws {
        let listener = try LoopbackListener()
        defer { listener.close() }
        let abstract = try AbstractListener()
        // pip runs the package's own backend (backend-path) to ask what it needs to build: code
        // of the repository's, in setup, before anything is installed.
        let backend = """
            import socket, sys
            def probe():
                out = []
                for name, addr in (("loopback", ("127.0.0.1", \(listener.port))), ("metadata", ("169.254.169.254", 80))):
                    s = socket.socket(); s.settimeout(3)
                    try: s.connect(addr); out.append(name + "=reached")
                    except OSError as e: out.append(name + "=refused")
                u = socket.socket(socket.AF_UNIX)
                try: u.connect("\\0\(abstract.name)"); out.append("abstract=reached")
                except OSError: out.append("abstract=refused")
                tcp = open("/proc/net/tcp").read()
                out.append("listing=" + ("seen" if ":%04X " % \(listener.port) in tcp else "hidden"))
                sys.stderr.write("PROBE " + " ".join(out) + "\\n")
                sys.exit(1)
            def get_requires_for_build_wheel(config_settings=None): probe()
            def build_wheel(wheel_directory, config_settings=None, metadata_directory=None): probe()
            """
        let repo = try TestRepository(files: [
            "requirements.txt": "./evilpkg\n",
            "evilpkg/pyproject.toml": """
            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]
            """,
            "evilpkg/backend.py": backend,
        ])
        do {
            _ = try await JobRunner().run(
                JobInput(repo: repo.path, testCommand: "true", runs: 1), origin: .commandLine)
            Issue.record("the hostile backend's setup passed")
        } catch {
            let log = error.logTail ?? ""
            #expect(error.code == .setupFailed, "\(error)")
            let line =
                log.split(separator: "\n").first { $0.contains("PROBE ") }.map(String.init) ?? "no probe line: \(log)"
            for expected in ["loopback=refused", "metadata=refused", "abstract=refused", "listing=hidden"] {
                #expect(line.contains(expected), "\(expected): \(line)")
            }
        }
        #expect(!listener.hasPendingConnection(within: 0.5), "the host's loopback listener was reached")
    }
}
