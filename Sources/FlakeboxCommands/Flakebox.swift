import ArgumentParser
import FlakeboxCore

/// The `flakebox` command line.
public struct Flakebox: AsyncParsableCommand {
    public static let version = FlakeboxVersion.current

    public static let configuration = CommandConfiguration(
        commandName: "flakebox",
        abstract: "Hunt flaky tests: run a test command many times, each attempt in its own Linux sandbox.",
        version: version,
        subcommands: subcommands
    )

    public init() {}

    #if Worker
        static let subcommands: [any ParsableCommand.Type] = [
            Run.self, Replay.self, Worker.self, Doctor.self, Exec.self, Bench.self, Confine.self,
        ]
    #else
        static let subcommands: [any ParsableCommand.Type] = [
            Run.self, Replay.self, Doctor.self, Exec.self, Bench.self, Confine.self,
        ]
    #endif
}
