import FlakeboxJobs
import FlakeboxService
import FlakeboxTestSupport
import Foundation
import Testing

/// The stores a conformance test runs over: the in-memory reference, SQLite on a temporary file,
/// and PostgreSQL in a schema of its own (skipped, saying why, without FLAKEBOX_TEST_POSTGRES_URL).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// A directory of its own under the system's temporary directory, removed by `remove()`.
struct TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("flakebox-db-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}

/// Runs `body` over a fresh job store of `kind`; a SQLite one is closed (and its file removed) after.
func withJobStore(_ kind: StoreKind, _ body: (any JobStore) async throws -> Void) async throws {
    switch kind {
    case .memory:
        try await body(MemoryJobStore(limits: .init(maxQueued: 1_000, maxRetained: 1_000)))
    case .sqlite:
        try await withDatabase { try await body($0.jobs) }
    case .postgres:
        try await withPostgresDatabase { try await body($0.jobs) }
    }
}

/// Runs `body` over a freshly opened SQLite database in a temporary directory, closed after.
func withDatabase(_ body: (ServiceDatabase) async throws -> Void) async throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let database = try await ServiceDatabase.open(path: directory.file("service.db"))
    do {
        try await body(database)
    } catch {
        try? await database.close()
        throw error
    }
    try await database.close()
}

/// A job created `seconds` after a fixed instant (exact times, so that orders are known).
func storedJob(
    _ id: String, owner: String = "a", at seconds: Double = 0, low: Bool = false, ttlMs: Int = JobPolicy.defaultTTLMs,
    attemptSeconds: Int = 0
) -> StoredJob {
    StoredJob(
        id: id, owner: owner, input: Data(#"{"repo": "r", "runs": 1}"#.utf8),
        policy: JobPolicy(ttlMs: ttlMs, lowPriority: low), createdAt: t0.addingTimeInterval(seconds),
        attemptSeconds: attemptSeconds)
}

let t0 = Date(timeIntervalSince1970: 1_800_000_000)

/// `/usr/bin/python3` with its sqlite3 module, to reach the file as another process does.
let python3Available: Bool = {
    FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
}()

/// Runs a Python script (with `arguments`); its exit status and output (stdout and stderr).
func runPython(_ script: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let result = try await runProgram("/usr/bin/python3", ["-c", script] + arguments)
    return (result.status, result.stdout + result.stderr)
}

/// Runs a program to its end, waiting on threads of their own; its exit status, stdout, stderr.
func runProgram(_ path: String, _ arguments: [String]) async throws -> (
    status: Int32, stdout: String, stderr: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Both pipes drained before waiting: a full pipe would otherwise block the child forever.
    async let stderr = onOwnThread { errors.fileHandleForReading.readDataToEndOfFile() }
    let stdout = await onOwnThread { output.fileHandleForReading.readDataToEndOfFile() }
    let errorData = await stderr
    let status = await onOwnThread {
        process.waitUntilExit()
        return process.terminationStatus
    }
    return (status, String(decoding: stdout, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
}
