import ArgumentParser
import Foundation
import KDC
import KDCTarget

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an int8 TensorFlow Lite model (.tflite): artifact, C arrays and report.json, after a host check.",
        discussion: """
            Ops: CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, ADD, RESHAPE, SQUEEZE, SOFTMAX, \
            and QUANTIZE/DEQUANTIZE at the input and output (float edges). The host check runs the C runtime against \
            kdc's Swift int8 interpreter on generated inputs (all -128, all 127, ramps, checkerboards, random); \
            outputs are written only when no byte differs. Exits 1 for a bad model file, 2 for a failed check.
            """)

    @Argument(help: "The model (.tflite, int8).")
    var model: String

    @Option(help: "Output folder.")
    var out: String

    @Flag(
        help:
            "Write the artifact stored (uncompressed, executes in place from flash); default: zlib-compressed plus its stored twin."
    )
    var stored = false

    @Option(
        help: ArgumentHelp(
            "Also run the model on an emulated device: \(Board.all.map(\.description).joined(separator: ", ")) or none."))
    var firmware: FirmwareArgument?

    @Option(help: "Artifact file name and C prefix (default: the model's file name, as a C identifier).")
    var name: String?

    @Option(help: "Random inputs in the host check, after the 8 structured ones.")
    var randomInputs = 16

    @Flag(help: "Print only the final summary.")
    var quiet = false

    func validate() throws {
        if randomInputs < 0 { throw ValidationError("--random-inputs must be ≥ 0, got \(randomInputs)") }
    }

    /// The file's base name as a C identifier: other characters become `_`, a leading digit gets `m_`.
    static func defaultName(_ path: String) -> String {
        let base = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        var s = String(base.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
        if s.isEmpty || s.first!.isNumber { s = "m_" + s }
        return s
    }

    func run() throws {
        try runReportingErrors {
            let stage = ImportStage(
                modelPath: model, outDir: out, name: name ?? ImportCommand.defaultName(model), compress: !stored,
                firmware: firmware?.board, randomInputs: randomInputs, observer: ConsoleProgress(quiet: quiet))
            let result = try stage.run()
            print(result.summary, terminator: "")
            print("report: \(out)/report.json")
        }
    }
}
