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

    /// The server commands exist only in builds with their traits.
    static let subcommands: [any ParsableCommand.Type] = {
        var list: [any ParsableCommand.Type] = [Run.self, Replay.self, Merge.self]
        #if Worker
            list.append(Worker.self)
        #endif
        #if Service
            list.append(Serve.self)
        #endif
        return list + [Doctor.self, Exec.self, Bench.self, Confine.self]
    }()
}
