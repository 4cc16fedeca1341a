import ArgumentParser
import TLNN

/// The `tl` command. Until the language lands it reports its version.
@main
struct TL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tl",
        abstract: "A shell for transfer-learning experiments.",
        version: TLVersion.string)

    func run() throws {
        print("tl \(TLVersion.string): the engine is built; the language arrives next.")
    }
}
