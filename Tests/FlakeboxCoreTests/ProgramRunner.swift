import Foundation

/// Runs a program to its end and returns its exit code, stdout and stderr (both read before
/// waiting: a full pipe would otherwise block the child forever). Blocking: call it off the
/// cooperative pool (`flakebox(_:)`, `flakeboxProcess`).
func runProgram(
    _ path: String, _ arguments: [String], environment: [String: String]? = nil
) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}
