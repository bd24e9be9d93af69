import ArgumentParser
import Foundation
import KDC

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model from the config and write a float checkpoint (safetensors) and a summary.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "Which model of the config to train: teacher or student (hard labels only).")
    var model: TrainableModel = .teacher

    func run() throws {
        try runReportingErrors {
            let cfg = try options.load()
            let progress = ConsoleProgress(quiet: options.quiet)
            let pipeline = Pipeline(config: cfg, outDir: options.outDir(cfg), observer: progress)
            try pipeline.prepareOutput()
            guard let mc = model == .teacher ? cfg.teacher.model : cfg.student else {
                throw KDCError.config(
                    file: cfg.file, key: model == .teacher ? "teacher.layers" : "student",
                    message: "the config defines no \(model.rawValue) to train"
                        + (model == .student && cfg.studentSearch != nil
                            ? "; the student is chosen by student.search: run kdc search or kdc build (docs/SEARCH.md)" : ""))
            }
            let data = try pipeline.loadData()
            let reportName = "train-report.json"
            let t = try pipeline.staged(report: reportName) {
                var t = try pipeline.train(mc, role: model.role, data: data, seed: cfg.seed)
                t.report.checkpoint = try pipeline.saveCheckpoint(
                    t.model, name: model.rawValue, normalization: data.normalization)
                var report = BuildReport(config: cfg.file, seed: cfg.seed)
                report.dataset = data.report
                if model == .teacher { report.teacher = t.report } else { report.student = t.report }
                report.outputs = [model.rawValue + ".safetensors", reportName]
                try writeFileAtomically(try report.json(), to: pipeline.writeDir + "/" + reportName)
                return t
            }
            print(modelSummaryTable([(model.rawValue, t.report)]))
            print("checkpoint: \(t.report.checkpoint!)")
        }
    }
}
