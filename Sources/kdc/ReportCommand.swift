import ArgumentParser
import Foundation
import KDC

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render OUT_DIR/report.html again from OUT_DIR/report.json (of kdc build or kdc import).",
        discussion: """
            The page is self-contained (inline CSS and SVG, no script, no network): a summary, training curves, \
            the int8 confusion matrix, per-layer SQNR, the arena plan, flash/RAM/stack against the budget and the \
            distillation search, each when the report has its data. Exits 1 when report.json is missing or is not a \
            kdc report.
            """)

    @Argument(help: "The output folder of kdc build or kdc import (holding report.json).")
    var outDir: String

    func run() throws {
        try runReportingErrors {
            print("report: \(try ReportPage.rerender(outDir: outDir))")
        }
    }
}
