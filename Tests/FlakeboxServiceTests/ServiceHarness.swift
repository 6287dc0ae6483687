import AsyncHTTPClient
import Crypto
import FlakeboxSandbox
import FlakeboxService
import FlakeboxTestSupport
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#endif

/// What the machine allows, probed once (a skipped suite says why).
enum ServiceTestMachine {
    static let binary = HelperLocator.executableDirectory().appendingPathComponent("flakebox").path

    /// The built `flakebox` (with the Service trait) and the sandbox launcher beside it.
    static let hasBinaries: Bool = {
        guard FileManager.default.isExecutableFile(atPath: binary), HelperLocator.helperPath() != nil else {
            print("[flakebox service tests] flakebox or flakebox-sandbox not built: service tests are skipped")
            return false
        }
        return true
    }()

    /// Jobs run at the full isolation tier, as FlakeboxCoreTests' end-to-end tests require.
    static let fullTier: Bool = {
        guard hasBinaries, let helper = HelperLocator.helperPath() else { return false }
        let report = CapabilityProbe.shared(helperPath: helper, identity: .current())
        print("[flakebox service tests] jobs run at the \(report.tier) tier; missing: \(report.missingSummary)")
        return report.tier == .full
    }()
}

/// A reply: status, headers and the body (as JSON when it is).
struct ServiceReplyRecord: CustomStringConvertible {
    var status: Int
    var headers: HTTPHeaders
    var bytes: [UInt8]
    var text: String { String(decoding: bytes, as: UTF8.self) }
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] }
    var description: String { "\(status) \(text.prefix(2000))" }
}

/// One `flakebox serve` process on a database in a temporary directory (or a `postgres://` URL,
/// with a temporary directory to work in), and a client for it.
final class ServiceHarness: Sendable {
    let directory: String
    let database: String
    let process: FlakeboxProcess
    let port: Int

    /// Starts `flakebox serve` on `database` (a new one in a new directory when nil) and waits
    /// for its `listening` line.
    init(
        arguments: [String] = [], database: String? = nil, privateAddresses: Bool = true, concurrency: Int = 1
    ) async throws {
        if let database, PostgresURL.isPostgres(database) {
            self.database = database
            directory = NSTemporaryDirectory() + "flakebox-serve-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } else if let database {
            self.database = database
            directory = URL(fileURLWithPath: database).deletingLastPathComponent().path
        } else {
            directory = NSTemporaryDirectory() + "flakebox-serve-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            self.database = directory + "/service.db"
        }
        var all = [
            "serve", "--database", self.database, "--port", "0", "--allow-local-repos", "--concurrency",
            String(concurrency), "--policy", "default", "--setup-policy", "setup",
        ]
        if privateAddresses { all.append("--allow-private-addresses") }
        process = try FlakeboxProcess(
            arguments: all + arguments, environment: ServiceHarness.environment, directory: directory)
        let deadline = ContinuousClock.now + .seconds(120)
        var found: Int?
        while ContinuousClock.now < deadline, process.termination == nil {
            if let line = process.stdout.split(separator: "\n").first(where: { $0.contains("listening on http://") }),
                let colon = line.lastIndex(of: ":"), let port = Int(line[line.index(after: colon)...])
            {
                found = port
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard let found else {
            process.kill()
            throw ProcessError(message: "flakebox serve did not listen: \(process.logTail)")
        }
        port = found
    }

    /// The node, of `nodes`, whose node id (a job's `lease_owner`: host-pid-random) is `owner`.
    static func node(named owner: String, among nodes: [ServiceHarness]) -> ServiceHarness? {
        nodes.first { owner.contains("-\($0.process.pid)-") }
    }

    static let environment: [String: String] = [
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": NSTemporaryDirectory(),
    ]

    deinit { process.kill() }

    /// Removes the temporary directory (the database with it).
    func removeFiles() { try? FileManager.default.removeItem(atPath: directory) }

    func send(
        _ method: HTTPMethod, _ path: String, json: String? = nil, key: String? = nil, headers: [String: String] = [:],
        timeout: Int64 = 120
    ) async throws -> ServiceReplyRecord {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        let body = try await response.body.collect(upTo: 64 << 20)
        return ServiceReplyRecord(
            status: Int(response.status.code), headers: response.headers, bytes: Array(buffer: body))
    }

    /// `POST /v2/flakebox/run` of `input`; the job id.
    func submit(_ input: [String: Any], key: String, extra: [String: Any] = [:]) async throws -> String {
        var body = extra
        body["input"] = input
        let reply = try await send(.POST, "/v2/flakebox/run", json: Self.text(body), key: key)
        guard reply.status == 200, let id = reply.json?["id"] as? String else {
            throw ProcessError(message: "submit failed: \(reply)")
        }
        return id
    }

    func status(_ id: String, key: String) async throws -> ServiceReplyRecord {
        try await send(.GET, "/v2/flakebox/status/\(id)", key: key)
    }

    /// Polls `/status` until `done` holds of its JSON; the last reply. Throws after `timeout` s.
    func waitForStatus(
        _ id: String, key: String, timeout: Double = 300, until done: ([String: Any]) -> Bool
    ) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        var last: ServiceReplyRecord?
        while ContinuousClock.now < deadline {
            let reply = try await status(id, key: key)
            last = reply
            if let json = reply.json, done(json) { return json }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw ProcessError(
            message: "job \(id) never reached the state awaited; last: \(last?.description ?? "-")\n\(process.logTail)")
    }

    func waitForFinal(_ id: String, key: String, timeout: Double = 300) async throws -> [String: Any] {
        try await waitForStatus(id, key: key, timeout: timeout) { json in
            ["COMPLETED", "FAILED", "CANCELLED", "TIMED_OUT"].contains(json["status"] as? String ?? "")
        }
    }

    /// `flakebox serve keys create --json` on this database. The running service
    /// reads it from there.
    func createKey(_ name: String, scopes: [String] = [], quotas: [String: Int] = [:]) async throws -> (
        id: String, secret: String, webhookSecret: String
    ) {
        var options = scopes.flatMap { ["--scope", $0] }
        for (flag, value) in quotas.sorted(by: { $0.key < $1.key }) { options += ["--\(flag)", String(value)] }
        let run = try await Self.flakebox(
            ["serve", "keys", "create", "--database", database, "--name", name, "--json"] + options, in: directory)
        guard run.status == .exited(0), let object = try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)),
            let json = object as? [String: Any], let id = json["id"] as? String, let secret = json["secret"] as? String,
            let webhookSecret = json["webhook_secret"] as? String
        else { throw ProcessError(message: "keys create failed: \(run)") }
        return (id, secret, webhookSecret)
    }

    func revokeKey(_ id: String) async throws {
        let run = try await Self.flakebox(["serve", "keys", "revoke", "--database", database, id], in: directory)
        guard run.status == .exited(0) else { throw ProcessError(message: "keys revoke failed: \(run)") }
    }

    /// Runs the built binary to its end.
    static func flakebox(_ arguments: [String], in directory: String, timeout: Double = 600) async throws -> (
        status: FlakeboxProcess.Termination?, stdout: String, stderr: String
    ) {
        let child = try FlakeboxProcess(arguments: arguments, environment: environment, directory: directory)
        let status = await child.waitForExit(timeout: timeout)
        if status == nil { child.kill() }
        return (status, child.stdout, child.stderr)
    }

    static func text(_ object: Any) -> String {
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data ?? Data(), as: UTF8.self)
    }

    /// Pids of processes whose command line contains `marker` (a sandboxed test, seen from here).
    static func processes(containing marker: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), pid != getpid(),
                let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline")
            else { return nil }
            let line = String(decoding: raw.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
            return line.contains(marker) ? pid : nil
        }
    }
}
