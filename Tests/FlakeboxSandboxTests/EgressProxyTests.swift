import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `network: proxy` (the setup policy): a network namespace of its own whose only way out is the
/// helper's CONNECT proxy to public addresses. This machine reaches nothing public, so what is
/// shown is what is refused, and (with the test-only opening) that the proxy does connect.
@Suite(
    "setup's network: the egress proxy",
    .enabled(
        if: TestMachine.namespaced,
        "needs namespaces (the full or reduced tier); `flakebox doctor` says what is missing"))
struct EgressProxyTests {
    /// Asks the proxy for each target in turn and prints `target -> status line` (or the error).
    static let probe = """
        import os, socket, sys
        proxy = os.environ.get("HTTPS_PROXY", "")
        print("proxy", proxy)
        def ask(request):
            s = socket.create_connection(("127.0.0.1", 3128), timeout=20)
            s.sendall(request.encode())
            data = b""
            while b"\\r\\n" not in data:
                chunk = s.recv(4096)
                if not chunk: break
                data += chunk
            s.close()
            return data.split(b"\\r\\n")[0].decode()
        for target in sys.argv[1:]:
            try: print(target, "->", ask("CONNECT %s HTTP/1.1\\r\\nHost: %s\\r\\n\\r\\n" % (target, target)))
            except OSError as e: print(target, "-> error", e.errno)
        print("GET ->", ask("GET http://example.com/ HTTP/1.1\\r\\nHost: example.com\\r\\n\\r\\n"))
        """

    static func setupPolicy() throws -> Policy {
        var policy = try PolicyStore.standard().load("setup")
        policy.limits.timeoutSeconds = 60
        // Rootless, the reduced tier (no cgroups) runs it too: the proxy needs only namespaces.
        policy.minimumTier = .reduced
        return policy
    }

    @Test("setup reaches no host service, no private range and no metadata address, directly or through its proxy")
    func refusesWhatIsNotPublic() async throws {
        let sandbox = try Sandbox(policy: try Self.setupPolicy())
        let listener = try LoopbackListener()
        let abstract = try AbstractListener()
        let ws = try TestWorkspace(files: ["probe.py": Self.probe])
        let targets = [
            "127.0.0.1:\(listener.port)", "localhost:\(listener.port)", "169.254.169.254:80", "10.0.0.1:443",
            "192.168.1.1:443", "100.64.0.1:443", "[fd00::1]:443", "[::ffff:127.0.0.1]:\(listener.port)",
            "[::1]:443", "0.0.0.0:443",
        ]
        let result = try await sandbox.sh(
            """
            python3 probe.py \(targets.joined(separator: " "))
            python3 -c '
            import socket
            s = socket.socket(); s.settimeout(3)
            try: s.connect(("127.0.0.1", \(listener.port))); print("direct connected")
            except OSError as e: print("direct refused", e.errno)
            u = socket.socket(socket.AF_UNIX)
            try: u.connect("\\0\(abstract.name)"); print("abstract connected")
            except OSError as e: print("abstract refused", e.errno)
            ports = [int(l.split()[1].split(":")[1], 16) for l in open("/proc/net/tcp").readlines()[1:]]
            print("host port visible" if \(listener.port) in ports else "host port hidden")
            '
            """, in: ws)
        let out = result.out
        #expect(result.status == .passed, "\(result.summary)")
        #expect(out.contains("proxy http://127.0.0.1:3128"), "\(out)")
        for (target, range) in [
            ("127.0.0.1:\(listener.port)", "loopback"), ("localhost:\(listener.port)", "loopback"),
            ("169.254.169.254:80", "link-local"), ("10.0.0.1:443", "private"), ("192.168.1.1:443", "private"),
            ("100.64.0.1:443", "CGNAT"), ("[fd00::1]:443", "unique-local"),
            ("[::ffff:127.0.0.1]:\(listener.port)", "loopback"), ("[::1]:443", "loopback"),
            ("0.0.0.0:443", "this-network"),
        ] {
            let line = out.split(separator: "\n").first { $0.hasPrefix(target + " ->") } ?? "missing"
            #expect(line.contains("403") && line.contains(range), "\(target): \(line)")
        }
        #expect(out.contains("GET -> HTTP/1.1 405"), "\(out)")
        #expect(out.contains("direct refused 111"), "\(out)")
        #expect(out.contains("abstract refused"), "\(out)")
        #expect(out.contains("host port hidden"), "\(out)")
    }

    @Test("the proxy connects where it is allowed (here: loopback, opened for the test), and dies with the attempt")
    func connectsWhenAllowed() async throws {
        let sandbox = try Sandbox(
            policy: try Self.setupPolicy(), options: .init(egressAllowsPrivateAddresses: true))
        // The kernel completes a connection to a listening socket before accept: enough for a 200.
        let listener = try LoopbackListener()
        let ws = try TestWorkspace(files: ["probe.py": Self.probe])
        let before = Set(Self.orphanedProxies())
        let result = try await sandbox.sh("python3 probe.py 127.0.0.1:\(listener.port) 127.0.0.1:1", in: ws)
        #expect(result.out.contains("127.0.0.1:\(listener.port) -> HTTP/1.1 200"), "\(result.summary)")
        #expect(result.out.contains("127.0.0.1:1 -> HTTP/1.1 502"), "\(result.summary)")
        // No proxy, nor one of its connection children, outlives its attempt (an orphan: other
        // tests' live attempts have their helper as parent).
        let left = Set(Self.orphanedProxies()).subtracting(before)
        #expect(left.isEmpty, "egress proxy processes that outlived their attempt: \(left)")
    }

    @Test(
        "at the minimal tier (no namespace for a proxy) the net guard lets setup reach public addresses only, and DNS")
    func minimalTierPublicOnly() async throws {
        var policy = try Self.setupPolicy()
        policy.minimumTier = .minimal
        let sandbox = try Sandbox(policy: policy, options: .init(tier: .minimal))
        guard sandbox.isolation.has(IsolationReport.loopbackGuard) else {
            let why = sandbox.isolation.layers.first { $0.name == IsolationReport.loopbackGuard }?.detail
            print("[flakebox tests] the minimal tier's egress rule skipped: no net guard (\(why ?? "not probed"))")
            return
        }
        let result = try await sandbox.sh(
            """
            python3 -c '
            import socket
            for host, port in (("10.0.0.1", 443), ("169.254.169.254", 80), ("100.64.0.1", 443), ("192.168.0.1", 80)):
                s = socket.socket(); s.settimeout(2)
                try: s.connect((host, port)); print(host, "connected")
                except OSError as e: print(host, "errno", e.errno)
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try: u.sendto(b"x", ("10.0.0.1", 53)); print("dns sent")
            except OSError as e: print("dns errno", e.errno)
            try: u.sendto(b"x", ("10.0.0.1", 9)); print("udp sent")
            except OSError as e: print("udp errno", e.errno)
            '
            """)
        for host in ["10.0.0.1", "169.254.169.254", "100.64.0.1", "192.168.0.1"] {
            #expect(result.out.contains("\(host) errno 101"), "\(host): \(result.summary)")
        }
        #expect(result.out.contains("dns sent"), "\(result.summary)")
        #expect(result.out.contains("udp errno 101"), "\(result.summary)")
    }

    /// `flakebox-egress` processes (zombies too) whose parent is neither a helper nor a proxy.
    static func orphanedProxies() -> [String] {
        func comm(_ pid: Substring) -> String {
            ((try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        func parent(_ pid: Substring) -> Substring {
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            return stat.split(separator: ")").last?.split(separator: " ").dropFirst().first ?? "0"
        }
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int($0) != nil }
        return pids.filter { pid in
            comm(Substring(pid)) == "flakebox-egress"
                && !["flakebox-sandbo", "flakebox-egress"].contains(comm(parent(Substring(pid))))
        }
    }
}
