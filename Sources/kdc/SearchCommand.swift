import ArgumentParser
import Foundation
import KDC
import KDCTarget

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract:
            "Choose the student within the budget: enumerate student.search's family, predict flash and RAM before training, rank the fitting ones by successive halving.",
        discussion:
            "Resumable: finished runs are kept in OUT/search/state.json and a rerun with the same config skips them. `kdc build` on the same config runs the search and then builds the chosen student."
    )

    @OptionGroup var options: ConfigOptions

    @OptionGroup var budget: BudgetOptions

    @Option(help: "Search time in minutes (replaces student.search.time_minutes).")
    var time: Double?

    @Option(
        help: ArgumentHelp(
            "The firmware target of the budget (\(Board.all.map(\.description).joined(separator: ", ")) or none; default: export.firmware)."
        ))
    var firmware: FirmwareArgument?

    func validate() throws {
        if let t = time, !(t > 0) { throw ValidationError("--time must be a positive number of minutes, got \(t)") }
    }

    func run() throws {
        try runReportingErrors {
            var cfg = try options.load()
            guard cfg.studentSearch != nil else {
                throw KDCError.config(
                    file: cfg.file, key: "student.search",
                    message: "the config has no student search; hint: write student: {search: {family: mlp}} (docs/SEARCH.md)")
            }
            if let t = time { cfg.studentSearch?.timeMinutes = t }
            budget.apply(to: &cfg)
            if let f = firmware { cfg.export.firmware = f.board }
            let progress = ConsoleProgress(quiet: options.quiet)
            let pipeline = Pipeline(config: cfg, outDir: options.outDir(cfg), observer: progress)
            try pipeline.prepareOutput()
            let result = try pipeline.searchStudent()
            print(result.report.table, terminator: "")
            print(
                "chosen: \(result.chosen.name); state: \(pipeline.searchDir)/state.json; build it with kdc build \(options.config)"
            )
        }
    }
}
