import ArgumentParser
import FlakeboxCommands

/// The executable only hands over to the command library, where the commands can be tested.
@main
struct FlakeboxMain: AsyncMainProtocol {
    typealias Command = Flakebox
}
