import ArgumentParser
import CFlakeboxSpawn
import FlakeboxSandbox
import Foundation

extension Flakebox {
    /// The tests' stand-in for RunPod's container: runs a command under Docker's default seccomp
    /// profile and capability set, as `docker run` (no options) would, so the real binary can be
    /// tried where RunPod runs it. Hidden: it confines, it does not sandbox.
    struct Confine: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command as an unprivileged Docker container would (tests).", shouldDisplay: false)

        /// Docker's default capability set (moby's `oci/caps/defaults.go`), bit numbers from
        /// `linux/capability.h`: CapEff 00000000a80425fb.
        static let dockerCapabilities: [(name: String, bit: Int)] = [
            ("CAP_CHOWN", 0), ("CAP_DAC_OVERRIDE", 1), ("CAP_FOWNER", 3), ("CAP_FSETID", 4), ("CAP_KILL", 5),
            ("CAP_SETGID", 6), ("CAP_SETUID", 7), ("CAP_SETPCAP", 8), ("CAP_NET_BIND_SERVICE", 10),
            ("CAP_NET_RAW", 13), ("CAP_SYS_CHROOT", 18), ("CAP_MKNOD", 27), ("CAP_AUDIT_WRITE", 29),
            ("CAP_SETFCAP", 31),
        ]

        @Flag(help: "Docker's default seccomp profile and capabilities (the only mode).")
        var docker = false

        @Option(help: "The seccomp profile (default: policies/seccomp/docker-default.json).")
        var profile: String?

        @Argument(parsing: .captureForPassthrough, help: "The command (an absolute path or a name on PATH).")
        var command: [String] = []

        func run() throws {
            var words = command
            if words.first == "--" { words.removeFirst() }
            guard docker else { throw ValidationError("give --docker") }
            guard let first = words.first else { throw ValidationError("give the command after --") }
            let url = try profileURL()
            let capabilities = Set(Self.dockerCapabilities.map(\.name))
            let program = try SeccompCompiler.compile(
                SeccompProfile.load(contentsOf: url),
                options: SeccompCompileOptions(capabilities: capabilities, allowForeignABIs: true))
            let mask = Self.dockerCapabilities.reduce(UInt64(0)) { $0 | (UInt64(1) << UInt64($1.bit)) }
            words[0] = try Self.resolve(first)
            var argv = words.map { strdup($0) } + [nil]
            var envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            let err = program.bytes.withUnsafeBufferPointer {
                fb_confine_exec($0.baseAddress, $0.count, mask, &argv, &envp)
            }
            throw ValidationError("cannot confine \(words[0]): \(String(cString: strerror(err)))")
        }

        private func profileURL() throws -> URL {
            if let profile { return URL(fileURLWithPath: profile) }
            for dir in PolicyStore.standard().directories {
                let url = dir.appendingPathComponent("seccomp/docker-default.json")
                if FileManager.default.fileExists(atPath: url.path) { return url }
            }
            throw ValidationError("cannot find seccomp/docker-default.json in the policy directories; give --profile")
        }

        private static func resolve(_ name: String) throws -> String {
            if name.contains("/") { return name }
            let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
            for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
                return "\(dir)/\(name)"
            }
            throw ValidationError("\(name) is not on PATH")
        }
    }
}
