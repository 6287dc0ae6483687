import ArgumentParser
import FlakeboxCommands

/// The executable only hands over to the command library, where the commands can be tested.
@main
enum FlakeboxMain {
    static func main() async {
        await Flakebox.main()
    }
}
