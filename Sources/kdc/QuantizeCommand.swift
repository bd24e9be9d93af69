import ArgumentParser
import Foundation
import KDC

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Quantize a float student checkpoint to int8 and compare it with the float model.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "The float checkpoint to quantize (default: OUT/student.safetensors, as written by `kdc distill`).")
    var checkpoint: String?

    func run() throws {
        try runReportingErrors {
            let cfg = try options.load()
            let pipeline = Pipeline(config: cfg, outDir: options.outDir(cfg), observer: ConsoleProgress(quiet: options.quiet))
            try pipeline.prepareOutput()
            let path = checkpoint ?? pipeline.outDir + "/student.safetensors"
            let (model, norm) = try Checkpoint.load(path)
            let data = try pipeline.loadData()
            guard norm == data.normalization else {
                throw KDCError.format(
                    file: path,
                    message:
                        "the checkpoint's input normalization differs from the data's; hint: quantize with the config it was trained with"
                )
            }
            let q = try pipeline.quantize(model, data: data)
            let enc = JSONEncoder()
            enc.keyEncodingStrategy = .convertToSnakeCase
            enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            try writeFileAtomically(try enc.encode(q.report), to: pipeline.outDir + "/quantize-report.json")
            print(q.report.summary, terminator: "")
        }
    }
}
