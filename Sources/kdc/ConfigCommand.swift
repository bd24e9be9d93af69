import ArgumentParser
import KDC

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Print the effective configuration (defaults filled in, overrides applied) as YAML.")

    @OptionGroup var options: ConfigOptions

    @OptionGroup var budget: BudgetOptions

    func run() throws {
        try runReportingErrors {
            var cfg = try options.load()
            budget.apply(to: &cfg)
            print(cfg.yaml(), terminator: "")
        }
    }
}
