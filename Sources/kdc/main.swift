import ArgumentParser
import KDC

struct KDCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kdc",
        abstract: "Knowledge-distillation compiler: data → teacher → student → int8 → device artifact.",
        subcommands: [])
}
KDCCommand.main()
