#if Service
    import ArgumentParser

    extension Flakebox {
        /// `flakebox serve`. A minimal group holding `keys` only: the server command itself (its
        /// options and `run()`) is written on another branch, which adds `Keys.self` to its
        /// subcommands; the integrator keeps that one.
        struct Serve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "The self-hosted service: RunPod's endpoint API over a job queue in SQLite.",
                subcommands: [Keys.self])
        }
    }
#endif
