import ArgumentParser
import Foundation
import KDC

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Run the whole pipeline: teacher → distilled student → int8 → artifact → host check.")

    @OptionGroup var options: ConfigOptions

    func run() throws {
        try runReportingErrors {
            let cfg = try options.load()
            let progress = ConsoleProgress(quiet: options.quiet)
            let pipeline = Pipeline(config: cfg, outDir: options.outDir(cfg), observer: progress)
            let result = try pipeline.runDistillation(baseline: cfg.distill.baseline)
            try writeFileAtomically(try result.report.json(), to: pipeline.outDir + "/report.json")
            print(result.summary)
            print("report: \(pipeline.outDir)/report.json")
        }
    }
}
