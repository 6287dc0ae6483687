import AsyncHTTPClient
import CFlakeboxSpawn
import FlakeboxSandbox
import FlakeboxTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The report page as a browser gets it: a real `flakebox serve` runs a job whose test names carry
/// markup, and headless Chromium opens the job's `report_url` (the capability link, no key). The
/// names must be text, no script may run, and the page may reach no other origin.
///
/// How each is seen: the DOM Chromium dumps after loading (`--dump-dom`); its console log
/// (`--enable-logging=stderr`, where a script's `console.log` and every CSP refusal appear); and
/// its net log (`--log-net-log`), where every request the page made carries the page's origin as
/// its initiator. The control test proves the console and net-log checks see a script and a
/// foreign request when a page has them.
@Suite(
    "serve: the report page in headless Chromium",
    .serialized,
    .enabled(
        if: HeadlessChromium.chromium != nil,
        "chromium not installed (Debian: apt-get install chromium)"))
struct ReportPageBrowserTests {
    /// One flaky test, and two whose parameter ids are markup that logs if it ever runs.
    static let files = [
        "tests/test_markup.py": """
        import os
        import pytest

        def test_flaky():
            assert int(os.environ["TEST_SEED"]) % 2 == 0, "odd seed"

        @pytest.mark.parametrize("value", [
            "<script>console.log('flakebox-xss-script')</script>",
            "<img src=x onerror=console.log('flakebox-xss-img')>",
        ])
        def test_named(value):
            assert int(os.environ["TEST_SEED"]) % 2 == 0, value
        """
    ]

    @Test("control: a page with a script and a foreign image is seen by the console and net-log checks")
    func control() async throws {
        let directory = try temporaryDirectory("control")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let page = "\(directory)/control.html"
        try Data(
            """
            <!doctype html><title>control</title><p>control</p>
            <img src="http://127.0.0.2:9/flakebox-control.png">
            <script>console.log('flakebox-xss-control')</script>
            """.utf8
        ).write(to: URL(fileURLWithPath: page))
        let load = try await HeadlessChromium.load("file://\(page)", in: directory, name: "control")
        #expect(load.consoleLog.contains("flakebox-xss-control"), "the script's console line: \(load.consoleLog)")
        let foreign = try load.foreignRequests(allowedOrigin: "file://")
        #expect(foreign.contains { $0.hasPrefix("http://127.0.0.2:9/") }, "the image request: \(foreign)")
    }

    @Test(
        "report_url of a final job: screenshot, markup shown as text, no script ran, no other origin reached",
        .enabled(
            if: ServeUnderTest.binary != nil, ServeUnderTest.missingReason),
        .enabled(if: HeadlessChromium.hasPytest, "needs python3-pytest for the job's test names"))
    func reportPage() async throws {
        let directory = try temporaryDirectory("report")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let repo = try TestRepository(files: Self.files)
        let serve = try await ServeUnderTest.start(
            database: "\(directory)/service.db", logs: directory,
            arguments: ["--allow-local-repos", "--allow-private-addresses"])
        defer { serve.kill() }
        let key = try await serve.createKey()

        let job = try await serve.runToEnd(
            input: ["repo": repo.path, "test_command": "python3 -m pytest -q tests", "runs": 4], key: key)
        #expect(job["status"] as? String == "COMPLETED", "\(job)")
        let reportURL = try #require(job["report_url"] as? String, "a final job's status has report_url: \(job)")
        #expect(reportURL.hasPrefix("\(serve.origin)/v2/flakebox/report/"), "\(reportURL)")

        // The headers the page is served with (no key: the link is the capability).
        let served = try await ServeUnderTest.get(reportURL, headers: [])
        #expect(served.status == 200, "\(served.body.prefix(300))")
        let policy = served.headers["Content-Security-Policy"].first ?? ""
        #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "\(policy)")
        #expect(served.headers["X-Content-Type-Options"].first == "nosniff")
        #expect(served.body.contains("&lt;script&gt;"), "the name is in the page, escaped")
        #expect(!served.body.contains("<script"), "no script element at all")

        let load = try await HeadlessChromium.load(reportURL, in: directory, name: "report")
        // Shown as text: the serialized DOM has the name escaped, and no element made of it.
        #expect(load.dom.contains("&lt;script&gt;console.log('flakebox-xss-script')&lt;/script&gt;"))
        #expect(load.dom.contains("&lt;img src=x onerror=console.log('flakebox-xss-img')&gt;"))
        #expect(!load.dom.contains("<script") && !load.dom.contains("<img src=\"x\""), "\(load.dom.prefix(2000))")
        // No script ran, and none was even refused (a refusal means markup became an element).
        #expect(!load.consoleLog.contains("flakebox-xss"), "\(load.consoleLog)")
        #expect(!load.consoleLog.contains("Content Security Policy"), "\(load.consoleLog)")
        // Only the service's origin was asked for anything.
        let foreign = try load.foreignRequests(allowedOrigin: serve.origin)
        #expect(foreign.isEmpty, "requests to another origin: \(foreign)")
        let page = String(reportURL.prefix { $0 != "?" })
        #expect(try load.requests().contains { $0.url.hasPrefix(page) }, "the net log saw the page load itself")

        let png = try await HeadlessChromium.screenshot(reportURL, in: directory)
        #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "\(png.count) bytes")

        #expect(await serve.terminate() == 0, "serve exits 0 on SIGTERM: \(serve.stderrTail())")
    }

    func temporaryDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "flakebox-browser-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Headless Chromium loading one page, with its DOM, console log and net log kept.
struct HeadlessChromium {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    static let hasPytest = LoggedChildProcess.status(["/usr/bin/python3", "-c", "import pytest"]) == 0

    var dom: String
    var consoleLog: String
    var netLogPath: String

    /// What a browser fetches on its own (no page asked); the background services are switched
    /// off as far as flags allow, and what remains is told apart by its initiator.
    static let browserInitiator = "not an origin"

    static func flags(profile: String) -> [String] {
        [
            "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile)", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", "--disable-extensions", "--enable-logging=stderr", "--v=0",
        ]
    }

    static func load(_ url: String, in directory: String, name: String) async throws -> HeadlessChromium {
        let netLog = "\(directory)/\(name)-netlog.json"
        let run = try await LoggedChildProcess.run(
            [chromium!] + flags(profile: "\(directory)/\(name)-profile") + [
                "--log-net-log=\(netLog)", "--dump-dom", url,
            ], logs: directory, name: name)
        #expect(run.status == 0, "chromium: \(run.stderr.suffix(2000))")
        return HeadlessChromium(dom: run.stdout, consoleLog: run.stderr, netLogPath: netLog)
    }

    static func screenshot(_ url: String, in directory: String) async throws -> Data {
        let path = "\(directory)/report.png"
        let run = try await LoggedChildProcess.run(
            [chromium!] + flags(profile: "\(directory)/shot-profile") + [
                "--window-size=1200,900", "--screenshot=\(path)", url,
            ], logs: directory, name: "screenshot")
        #expect(run.status == 0, "chromium: \(run.stderr.suffix(2000))")
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Every URL request in the net log: its URL, initiator and network isolation key.
    func requests() throws -> [(url: String, initiator: String, isolationKey: String)] {
        let data = try Data(contentsOf: URL(fileURLWithPath: netLogPath))
        let log = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "net log is JSON")
        let types = (log["constants"] as? [String: Any])?["logEventTypes"] as? [String: Int] ?? [:]
        let start = try #require(types["URL_REQUEST_START_JOB"], "the net log names URL_REQUEST_START_JOB")
        let events = log["events"] as? [[String: Any]] ?? []
        return events.compactMap { event in
            guard event["type"] as? Int == start, let params = event["params"] as? [String: Any],
                let url = params["url"] as? String
            else { return nil }
            return (url, params["initiator"] as? String ?? "", params["network_isolation_key"] as? String ?? "")
        }
    }

    /// Requests to anything but `allowedOrigin` that the page caused: initiated by it, or made in
    /// its site's network partition. The browser's own background requests (initiator "not an
    /// origin", another partition) are left out.
    func foreignRequests(allowedOrigin: String) throws -> [String] {
        // The site of an origin: without its port (http://127.0.0.1:8080 → http://127.0.0.1).
        var site = Substring(allowedOrigin)
        if let colon = site.lastIndex(of: ":"), site[site.index(after: colon)...].allSatisfy(\.isNumber),
            site[..<colon].contains("//")
        {
            site = site[..<colon]
        }
        return try requests().filter { request in
            let allowed = request.url == allowedOrigin || request.url.hasPrefix(allowedOrigin + "/")
            let byPage = request.initiator != Self.browserInitiator || request.isolationKey.contains(site)
            return !allowed && byPage
        }.map(\.url)
    }
}

/// `flakebox serve` on a temporary database, on 127.0.0.1 with a port of its own.
final class ServeUnderTest: Sendable {
    /// `$FLAKEBOX_SERVE_BINARY`, else the `flakebox` of this build, when it has `serve`.
    static let binary: String? = {
        let explicit = ProcessInfo.processInfo.environment["FLAKEBOX_SERVE_BINARY"] ?? ""
        let path =
            explicit.isEmpty
            ? HelperLocator.executableDirectory().appendingPathComponent("flakebox").path : explicit
        guard FileManager.default.isExecutableFile(atPath: path) else { return nil }
        // A flakebox without the command prints its root help for `serve --help`, also with exit 0.
        let help = LoggedChildProcess.probe([path, "serve", "start", "--help"])
        return help.status == 0 && help.stdout.contains("--database") ? path : nil
    }()

    static let missingReason: Comment =
        "this flakebox has no `serve` (the Service trait) and FLAKEBOX_SERVE_BINARY names none"

    let process: LoggedChildProcess
    let database: String
    let origin: String

    private init(process: LoggedChildProcess, database: String, origin: String) {
        self.process = process
        self.database = database
        self.origin = origin
    }

    static func start(database: String, logs: String, arguments: [String]) async throws -> ServeUnderTest {
        let process = try LoggedChildProcess(
            [binary!, "serve", "--database", database, "--host", "127.0.0.1", "--port", "0"] + arguments,
            logs: logs, name: "serve")
        // The first stdout line names the port; bounded generously (a loaded machine, a new database).
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let first = process.stdout().split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
            let prefix = "flakebox serve: listening on "
            if process.stdout().contains("\n"), first.hasPrefix(prefix) {
                return ServeUnderTest(
                    process: process, database: database, origin: String(first.dropFirst(prefix.count)))
            }
            if let status = process.exitStatus() {
                throw LoggedChildProcess.Failure(
                    message: "serve exited \(status) before listening: \(process.stderr())")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.kill()
        throw LoggedChildProcess.Failure(message: "serve printed no 'listening on' line in 120 s: \(process.stderr())")
    }

    func createKey() async throws -> String {
        let run = try await LoggedChildProcess.run(
            [Self.binary!, "serve", "keys", "create", "--database", database, "--name", "browser-test"],
            logs: NSTemporaryDirectory(), name: "keys-\(UUID().uuidString.prefix(8))")
        let key = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard run.status == 0, key.hasPrefix("fbk_") else {
            throw LoggedChildProcess.Failure(message: "keys create: \(run.status) \(run.stdout) \(run.stderr)")
        }
        return key
    }

    /// Submits with `runsync`, then polls `status` until the job is final (bounded at 10 minutes).
    func runToEnd(input: [String: Any], key: String) async throws -> [String: Any] {
        let body = try JSONSerialization.data(withJSONObject: ["input": input])
        let headers = [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")]
        let submitted = try await Self.send(
            "\(origin)/v2/flakebox/runsync?wait=120000", method: .POST, headers: headers, body: body)
        #expect(submitted.status == 200, "\(submitted.body)")
        var reply = try Self.object(submitted.body)
        let id = try #require(reply["id"] as? String, "\(submitted.body)")
        let deadline = ContinuousClock.now + .seconds(600)
        let final: Set<String> = ["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"]
        while !final.contains(reply["status"] as? String ?? ""), ContinuousClock.now < deadline {
            try await Task.sleep(for: .seconds(1))
            let status = try await Self.get("\(origin)/v2/flakebox/status/\(id)", headers: headers)
            reply = try Self.object(status.body)
        }
        return reply
    }

    struct Reply {
        var status: UInt
        var headers: HTTPHeaders
        var body: String
    }

    static func get(_ url: String, headers: [(String, String)]) async throws -> Reply {
        try await send(url, method: .GET, headers: headers, body: nil)
    }

    static func send(_ url: String, method: HTTPMethod, headers: [(String, String)], body: Data?) async throws
        -> Reply
    {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(180))
        let bytes = try await response.body.collect(upTo: 32 << 20)
        return Reply(status: response.status.code, headers: response.headers, body: String(buffer: bytes))
    }

    static func object(_ text: String) throws -> [String: Any] {
        try #require(
            try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text.prefix(500))")
    }

    /// SIGTERM, then the exit status (SIGKILL after 60 s).
    /// Off the cooperative pool: the wait polls with usleep.
    func terminate() async -> Int32? {
        let process = self.process
        return await onOwnThread { process.terminate(grace: 60) }
    }

    func kill() { process.kill() }

    func stderrTail() -> String { String(process.stderr().suffix(2000)) }
}

/// A child process with stdout and stderr in files, spawned with an empty signal mask and default
/// dispositions (`fb_spawn`): a child of a Swift concurrency thread would otherwise inherit SIGTERM
/// blocked.
final class LoggedChildProcess: Sendable {
    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    let pid: pid_t
    let stdoutPath: String
    let stderrPath: String

    init(_ arguments: [String], logs: String, name: String) throws {
        stdoutPath = "\(logs)/\(name).stdout"
        stderrPath = "\(logs)/\(name).stderr"
        // The project's one spawn (fb_spawn): a clean signal state and exactly these descriptors.
        let input = open("/dev/null", O_RDONLY | O_CLOEXEC)
        let output = open(stdoutPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        let errors = open(stderrPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        defer { for fd in [input, output, errors] where fd >= 0 { close(fd) } }
        guard input >= 0, output >= 0, errors >= 0 else {
            throw Failure(message: "open \(stdoutPath): \(String(cString: strerror(errno)))")
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer {
            for pointer in argv { free(pointer) }
        }
        var pid: pid_t = 0
        let result = [input, output, errors].withUnsafeBufferPointer {
            fb_spawn(&pid, arguments[0], &argv, environ, $0.baseAddress, 3)
        }
        guard result == 0 else {
            throw Failure(message: "spawn \(arguments[0]): \(String(cString: strerror(result)))")
        }
        self.pid = pid
    }

    func stdout() -> String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    func stderr() -> String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// The exit status once the child has ended (reaped then); a signal's death as 128 + signal.
    func exitStatus() -> Int32? {
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return nil }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Waits for the end (polling, so no thread blocks), at most `seconds`.
    func wait(seconds: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let status = exitStatus() { return status }
            usleep(50_000)
        }
        return nil
    }

    func terminate(grace: Double) -> Int32? {
        Glibc.kill(pid, SIGTERM)
        if let status = wait(seconds: grace) { return status }
        kill()
        return nil
    }

    /// SIGKILL and reap; harmless once the child has been reaped (the pid is then not signalled).
    func kill() {
        guard exitStatus() == nil else { return }
        Glibc.kill(pid, SIGKILL)
        _ = wait(seconds: 10)
    }

    /// Runs to the end on a thread of its own (bounded at 5 minutes, then killed).
    static func run(_ arguments: [String], logs: String, name: String) async throws -> (
        status: Int32, stdout: String, stderr: String
    ) {
        let child = try LoggedChildProcess(arguments, logs: logs, name: name)
        let status: Int32? = await withCheckedContinuation { continuation in
            DetachedThread.start { continuation.resume(returning: child.wait(seconds: 300)) }
        }
        guard let status else {
            child.kill()
            throw Failure(message: "\(arguments[0]) still running after 300 s: \(child.stderr().suffix(1000))")
        }
        return (status, child.stdout(), child.stderr())
    }

    /// The exit status of a short command (a probe).
    static func status(_ arguments: [String]) -> Int32? { probe(arguments).status }

    /// The exit status and stdout of a short command (a probe).
    static func probe(_ arguments: [String]) -> (status: Int32?, stdout: String) {
        guard
            let child = try? LoggedChildProcess(
                arguments, logs: NSTemporaryDirectory(), name: "probe-\(getpid())-\(UUID())")
        else { return (nil, "") }
        defer {
            try? FileManager.default.removeItem(atPath: child.stdoutPath)
            try? FileManager.default.removeItem(atPath: child.stderrPath)
        }
        let status = child.wait(seconds: 60)
        return (status, child.stdout())
    }
}
