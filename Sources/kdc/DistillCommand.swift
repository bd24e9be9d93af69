import ArgumentParser
import Foundation
import KDC

struct DistillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "distill",
        abstract: "Get the teacher (train, checkpoint or logits) and distill the student from its soft targets.")

    @OptionGroup var options: ConfigOptions

    @Flag(
        inversion: .prefixedNo,
        help: "Also train the student on hard labels alone, same recipe and seed (default: distill.baseline).")
    var baseline: Bool?

    @Option(help: "Compare distilled and baseline students over these seeds (comma-separated, e.g. 0,1,2); one teacher.")
    var seeds: SeedList?

    func run() throws {
        try runReportingErrors {
            let cfg = try options.load()
            let progress = ConsoleProgress(quiet: options.quiet)
            let pipeline = Pipeline(config: cfg, outDir: options.outDir(cfg), observer: progress)
            try pipeline.prepareOutput()
            let reportName = "distill-report.json"
            let outputs = { (extra: [String]) in (pipeline.transaction?.stagedFiles() ?? []) + extra + [reportName] }
            if let seeds = seeds?.seeds {
                let (study, result) = try pipeline.staged(report: reportName) {
                    var (study, result) = try pipeline.seedStudy(seeds: seeds)
                    let enc = JSONEncoder()
                    enc.keyEncodingStrategy = .convertToSnakeCase
                    enc.outputFormatting = [.sortedKeys, .prettyPrinted]
                    try writeFileAtomically(try enc.encode(study), to: pipeline.writeDir + "/seed-study.json")
                    result.report.outputs = outputs([])
                    try writeFileAtomically(try result.report.json(), to: pipeline.writeDir + "/" + reportName)
                    return (study, result)
                }
                print(emphasize(result.summary, ansi: isatty(1) != 0))
                print(study.table, terminator: "")
                return
            }
            let result = try pipeline.staged(report: reportName) {
                var result = try pipeline.runDistillation(baseline: baseline ?? cfg.distill.baseline)
                result.report.outputs = outputs([])
                try writeFileAtomically(try result.report.json(), to: pipeline.writeDir + "/" + reportName)
                return result
            }
            print(emphasize(result.summary, ansi: isatty(1) != 0))
        }
    }
}
