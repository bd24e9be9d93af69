import ArgumentParser
import KDC

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective configuration (defaults filled in, overrides applied) as YAML.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        try runReportingErrors {
            print(try options.load().yaml(), terminator: "")
        }
    }
}
