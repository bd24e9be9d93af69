import ArgumentParser
import KDC

struct KDCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kdc",
        abstract: "Knowledge-distillation compiler: data → teacher → student → int8 → device artifact.",
        version: kdcVersionString,
        subcommands: [
            BuildCommand.self, TrainCommand.self, DistillCommand.self, QuantizeCommand.self,
            InspectCommand.self, ImportCommand.self, RunCommand.self, ConfigCommand.self, DataCommand.self,
            BenchCommand.self, ReportCommand.self, SearchCommand.self,
        ])
}

// Ctrl-C during a build leaves the output folder's previous set (OutputTransaction).
InterruptGuard.install()
KDCCommand.main()
