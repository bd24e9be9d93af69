import ArgumentParser
import Foundation
import KDC
import KDCTarget

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Run the whole pipeline: teacher → distilled student → int8 → artifact → host check.")

    @OptionGroup var options: ConfigOptions

    @Option(
        help: ArgumentHelp(
            "Also run the model on an emulated device: \(Board.all.map(\.description).joined(separator: ", ")) or none (default: export.firmware)."
        ))
    var firmware: FirmwareArgument?

    @OptionGroup var budget: BudgetOptions

    @Option(help: "With student.search: search time in minutes (replaces student.search.time_minutes).")
    var time: Double?

    func run() throws {
        try runReportingErrors {
            var cfg = try options.load()
            if let f = firmware { cfg.export.firmware = f.board }
            budget.apply(to: &cfg)
            if let t = time {
                guard cfg.studentSearch != nil, t > 0 else {
                    throw KDCError.config(
                        file: cfg.file, key: "--time", message: "needs a student.search section and a positive number of minutes")
                }
                cfg.studentSearch?.timeMinutes = t
            }
            let progress = ConsoleProgress(quiet: options.quiet)
            let pipeline = Pipeline(config: cfg, outDir: options.outDir(cfg), observer: progress)
            try pipeline.prepareOutput()
            let result = try pipeline.build()
            print(emphasize(result.summary, ansi: isatty(1) != 0), terminator: "")
            print("report: \(pipeline.outDir)/report.json")
        }
    }
}
