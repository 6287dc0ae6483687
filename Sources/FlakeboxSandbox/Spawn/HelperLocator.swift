import Foundation

/// Finds the `flakebox-sandbox` helper executable and the installation it belongs to.
public enum HelperLocator {
    public static let helperName = "flakebox-sandbox"

    /// `$FLAKEBOX_SANDBOX_HELPER`, else the helper beside the running executable (SwiftPM puts
    /// every product of a build, and the test bundle, in one directory), else on `PATH`.
    public static func helperPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let explicit = environment["FLAKEBOX_SANDBOX_HELPER"], !explicit.isEmpty {
            return FileManager.default.isExecutableFile(atPath: explicit) ? explicit : nil
        }
        var candidates = [executableDirectory().appendingPathComponent(helperName).path]
        for dir in (environment["PATH"] ?? "/usr/local/bin:/usr/bin").split(separator: ":") {
            candidates.append("\(dir)/\(helperName)")
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The directory of the running executable (for tests: the directory of the test bundle).
    public static func executableDirectory() -> URL {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments.first ?? "."
        var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // swift-corelibs-xctest runs `<name>.xctest` as an executable; the bundle sits in the build dir.
        if url.pathExtension == "xctest" { url = url.deletingLastPathComponent() }
        return url
    }

    /// Directories that may hold `policies/`: the executable's own and its ancestors (a source
    /// checkout: `.build/debug/flakebox` → the package root), and `/usr/local`.
    public static func installationRoots() -> [URL] {
        var roots: [URL] = []
        var dir = executableDirectory()
        for _ in 0..<5 {
            roots.append(dir)
            let parent = dir.deletingLastPathComponent()
            if parent.path == dir.path { break }
            dir = parent
        }
        roots.append(URL(fileURLWithPath: "/usr/local"))
        roots.append(URL(fileURLWithPath: "/usr"))
        return roots
    }
}
