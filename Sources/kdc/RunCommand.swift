import ArgumentParser
import Foundation
import KDC
import KDCTarget

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an artifact with the C runtime on the inputs of an NPY file and write the outputs as an NPY file.",
        discussion: """
            IN.npy holds N inputs stacked on axis 0: shape [N, <input shape>] or [N, <input size>], dtype int8 (the \
            input tensor's own values) or float32 (quantized with the input's scale and zero point, by the runtime's \
            kdc_input_from_float). OUT.npy gets [N, <output shape>], int8, or float32 (dequantized by \
            kdc_output_to_float) when the model has a float output. The runtime is compiled with the host C compiler \
            once and cached (KDC_CACHE_DIR, else ~/.cache/kdc). OUT.npy is written through a temporary file: on an \
            error it is left as it was.
            """)

    @Argument(help: "The artifact (.kdc, stored or compressed).")
    var artifact: String

    @Option(help: "The inputs (.npy).")
    var input: String

    @Option(help: "Where to write the outputs (.npy).")
    var output: String

    @Option(
        help: ArgumentHelp(
            "Compute the outputs on an emulated device instead: \(Board.all.map(\.description).joined(separator: ", ")) (or none)."
        ))
    var firmware: FirmwareArgument?

    func run() throws {
        try runReportingErrors {
            let r = try ArtifactRun.run(artifactPath: artifact, inputPath: input, outputPath: output, board: firmware?.board)
            let kind = r.floatOutput ? "float32" : "int8"
            guard let f = r.firmware else {
                print(
                    "ran \(r.samples) \(r.inputType.name) inputs through the C runtime (host): \(output) \(r.outputShape) \(kind)"
                )
                return
            }
            print(
                "ran \(r.samples) \(r.inputType.name) inputs on \(f.target), \(f.mode.rawValue) artifact: \(output) \(r.outputShape) \(kind); every output byte equals the host C runtime's"
            )
            let ram = f.ram
            print(
                "  RAM \(ram.totalBytes) B (arena \(ram.arenaBytes), unpack \(ram.unpackBytes), static \(ram.staticBytes), stack \(ram.stackBytes); predicted \(f.ramPredictedBytes)), image text \(f.imageTextBytes) B"
                    + (f.instructionsPerInference.map { ", \($0) instructions per inference" } ?? "")
                    + (f.instructionsPerMAC.map { String(format: " (%.2f per MAC)", $0) } ?? ""))
        }
    }
}
