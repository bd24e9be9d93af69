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
    var seeds: String?

    func validate() throws {
        if let s = seeds, parsedSeeds == nil || parsedSeeds!.isEmpty {
            throw ValidationError("--seeds takes comma-separated integers, got '\(s)'")
        }
    }

    var parsedSeeds: [UInt64]? {
        seeds.map { $0.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) } }
    }

    func run() throws {
        try runReportingErrors {
            let cfg = try options.load()
            let progress = ConsoleProgress(quiet: options.quiet)
            let pipeline = Pipeline(config: cfg, outDir: options.outDir(cfg), observer: progress)
            try pipeline.prepareOutput()
            if let seeds = parsedSeeds {
                let study = try pipeline.seedStudy(seeds: seeds)
                let enc = JSONEncoder()
                enc.keyEncodingStrategy = .convertToSnakeCase
                enc.outputFormatting = [.sortedKeys, .prettyPrinted]
                try writeFileAtomically(try enc.encode(study), to: pipeline.outDir + "/seed-study.json")
                print(study.table, terminator: "")
                return
            }
            let result = try pipeline.runDistillation(baseline: baseline ?? cfg.distill.baseline)
            try writeFileAtomically(try result.report.json(), to: pipeline.outDir + "/distill-report.json")
            print(result.summary)
        }
    }
}
