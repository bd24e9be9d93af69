import ArgumentParser
import Foundation
import KDC

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract:
            "Write the train, validation, test and transfer samples as kdc feeds them to the models (NPY), with their rows in the original files.",
        discussion:
            "Writes train_x/y/rows.npy, val_x/y/rows.npy, test_x/y/rows.npy, transfer_x/rows.npy, normalization.json and rows.json into --out. See docs/DATA.md."
    )

    @OptionGroup var options: ConfigOptions

    func run() throws {
        try runReportingErrors {
            let cfg = try options.load()
            let pipeline = Pipeline(config: cfg, outDir: options.outDir(cfg), observer: ConsoleProgress(quiet: options.quiet))
            // Everything is read and checked before the first file is written.
            let data = try pipeline.loadData()
            let files = try DataFiles(data: data, transfer: try pipeline.transferSet(data), config: cfg)
            // The files are one set, moved into --out together (rows.json last).
            _ = try pipeline.staged(report: "rows.json") { try files.write(to: pipeline.writeDir) }
            print(files.summary, terminator: "")
            print("written to \(pipeline.outDir) (rows.json says which file each row index refers to)")
        }
    }
}
