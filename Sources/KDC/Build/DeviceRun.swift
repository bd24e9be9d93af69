import Foundation
import KDCTarget

/// What running an artifact on an emulated device showed (`DeviceRun.run`).
public struct DeviceRunResult: Equatable, Sendable {
    /// Per mode (stored, then compressed for a compressed artifact): the figures
    /// `kdc build --firmware` reports (sizes, RAM predicted and measured, stack, instructions),
    /// with `match`/`mismatches` against `expected`. With more inputs than one image holds
    /// (`DeviceRun.imageInputBytes`), the figures are the first image's and `samples`,
    /// `mismatches` and `match` cover every image.
    public var firmware: [FirmwareResult]
    /// The device's int8 outputs, one per input, from the first mode (every mode's are compared
    /// with the same expected outputs).
    public var outputs: [[Int8]]
    /// What the outputs were compared with: "the caller's expected outputs" or "the host C
    /// runtime" (the same artifact and inputs through `HostRun`).
    public var comparedWith: String
}

/// Runs an artifact in the firmware sample on a board under QEMU on given int8 inputs and
/// returns every output and the device figures: what `kdc import --firmware` and
/// `kdc run --firmware` call. The artifact's bytes are written as an export would write them
/// (`<name>.kdc`, `<name>.stored.kdc` for a compressed one, `<name>.h`/`.c` as C arrays) into a
/// scratch folder, the inputs go into the image as a `const` array in flash, and the firmware
/// prints every output byte (`samples/firmware/README.md`, "Records").
public enum DeviceRun {
    /// Input bytes one image holds at most; more inputs run in several images (each built and run
    /// on its own, the runtime compiled again: slow, but the board's flash is finite).
    public static let imageInputBytes = 1 << 20

    /// Runs `artifact` (a whole artifact, stored or compressed, as kdc writes it) on `inputs`
    /// (each the input tensor's int8 values) on `board`, in `modes` (default: stored, and
    /// compressed too when the artifact is compressed), and compares the outputs with `expected`
    /// (default: the host C runtime's outputs for the same artifact and inputs).
    /// `countInstructions` counts instructions per inference as (the first input run
    /// `countedInferences` + 1 times − once) / `countedInferences` under the insncount plugin
    /// (1 is exact: a repeated inference executes the same instructions; `kdc build` uses 10).
    /// `measureStackLowWater` (slow: about 2 s per million instructions) reads the true lowest SP.
    /// `name` is the C identifier the arrays get; `maxImageInputBytes` the input bytes one image
    /// holds at most.
    /// - Throws: `KDCError.format` for an invalid artifact (kdc's reader), `.data` for inputs or
    ///   expected outputs of the wrong count or size, and the target layer's errors as kdc's
    ///   (missing tools with the packages to install, a failed build or run).
    public static func run(
        artifact: [UInt8], inputs: [[Int8]], expected: [[Int8]]? = nil, board: Board = .cortexM4, modes: [FirmwareMode]? = nil,
        countInstructions: Bool = true, countedInferences: Int = 1, measureStackLowWater: Bool = false, name: String = "model",
        maxImageInputBytes: Int = imageInputBytes, runtimeDirectory: String? = nil
    ) throws -> DeviceRunResult {
        let a = try ArtifactReader.parse(artifact, file: "\(name).kdc")
        let g = a.graph
        let inBytes = g[g.input].count, outBytes = g[g.output].count
        guard !inputs.isEmpty, inputs.allSatisfy({ $0.count == inBytes }) else {
            throw KDCError.data(
                file: "device run",
                message:
                    "need at least one input of \(inBytes) int8 values (the artifact's input \(g.inputShape)); got \(inputs.count) inputs of sizes \(Set(inputs.map(\.count)).sorted())"
            )
        }
        if let e = expected, e.count != inputs.count || !e.allSatisfy({ $0.count == outBytes }) {
            throw KDCError.data(
                file: "device run",
                message: "need one expected output of \(outBytes) values per input (\(inputs.count)); got \(e.count)")
        }
        let dir = try withKDCErrors { try SourceTree.scratchDirectory("device-run") }
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let model = try writeModel(a, bytes: artifact, name: name, into: dir, board: board)
        let want = try expected ?? withKDCErrors { try HostRun.outputs(artifactPath: dir + "/\(name).kdc", inputs: inputs) }
        let runModes = modes ?? (a.compressed ? [.stored, .compressed] : [.stored])
        // Small boards (cortex-m0's 256 KB of flash, cortex-m55's 512 KB) hold fewer inputs per
        // image: what the flash leaves beside the artifact and 64 KB for the program.
        let room = board.regionBytes("FLASH") - artifact.count - (64 << 10)
        let perImage = max(1, min(maxImageInputBytes, room) / inBytes)
        var results: [FirmwareResult] = [], outputs: [[Int8]] = []
        for (m, mode) in runModes.enumerated() {
            var total: FirmwareResult? = nil
            for start in stride(from: 0, to: inputs.count, by: perImage) {
                let end = min(start + perImage, inputs.count), first = start == 0
                let (r, out) = try withKDCErrors {
                    try FirmwareCheck.runReturningOutputs(
                        board: board, model: model, mode: mode, inputs: Array(inputs[start..<end]),
                        expected: Array(want[start..<end]), opCodes: g.opCodes, macs: g.macs,
                        countInstructions: countInstructions && first, countedInferences: countedInferences,
                        measureStackLowWater: measureStackLowWater && first, runtimeDirectory: runtimeDirectory)
                }
                if m == 0 { outputs += out }
                if var t = total {
                    t.samples += r.samples
                    t.mismatches += r.mismatches
                    t.match = t.match && r.match
                    total = t
                } else {
                    total = r
                }
            }
            results.append(total!)
        }
        return DeviceRunResult(
            firmware: results, outputs: outputs,
            comparedWith: expected == nil ? "the host C runtime" : "the caller's expected outputs")
    }

    /// `run` of `graph` (int8) exported as kdc's exporter does (`prepareExport`, identity
    /// normalization), compressed or stored.
    public static func run(
        graph: Graph, compress: Bool, inputs: [[Int8]], expected: [[Int8]]? = nil, board: Board = .cortexM4,
        modes: [FirmwareMode]? = nil, countInstructions: Bool = true, countedInferences: Int = 1,
        measureStackLowWater: Bool = false, name: String = "model", maxImageInputBytes: Int = imageInputBytes,
        runtimeDirectory: String? = nil
    ) throws -> DeviceRunResult {
        let e = try prepareExport(graph, normalization: .identity, name: name, compress: compress)
        return try run(
            artifact: e.main, inputs: inputs, expected: expected, board: board, modes: modes,
            countInstructions: countInstructions, countedInferences: countedInferences,
            measureStackLowWater: measureStackLowWater, name: name, maxImageInputBytes: maxImageInputBytes,
            runtimeDirectory: runtimeDirectory)
    }

    /// Writes `<name>.kdc` (`bytes`), `<name>.stored.kdc` (when compressed: the same raw body
    /// stored), `<name>.h` and `<name>.c` (the artifact as a C array, with the arena the runtime
    /// needs: activations + the scratch of `board`'s kernels, or of any board's without one) into
    /// `dir`, as the exporter would.
    static func writeModel(_ a: Artifact, bytes: [UInt8], name: String, into dir: String, board: Board? = nil) throws
        -> ExportedModel
    {
        let g = a.graph
        let scratch = KernelScratch.reserved(g, for: board.flatMap { KernelScratch.Variant(board: $0) })
        let arena = KernelScratch.arenaTotal(activations: a.arenaBytes, scratch: scratch)
        let stored =
            a.compressed
            ? try ArtifactWriter.artifact(
                rawBody: a.rawBody, arenaBytes: a.arenaBytes, compress: false, flags: UInt16(a.flags)) : bytes
        let info = CArrayInfo(
            arenaBytes: arena, unpackBytes: a.compressed ? stored.count : 0, inputBytes: g[g.input].count,
            outputBytes: g[g.output].count, inputScale: g.inputQuant.scale, inputZeroPoint: g.inputQuant.zeroPoint,
            outputScale: g.outputQuant.scale, outputZeroPoint: g.outputQuant.zeroPoint, normalization: .identity,
            scratchBytes: scratch)
        let (h, c) = try CArrayEmitter.emit(artifact: bytes, name: name, info: info)
        try writeFileAtomically(Data(bytes), to: dir + "/\(name).kdc")
        if a.compressed { try writeFileAtomically(Data(stored), to: dir + "/\(name).stored.kdc") }
        try writeFileAtomically(Data(h.utf8), to: dir + "/\(name).h")
        try writeFileAtomically(Data(c.utf8), to: dir + "/\(name).c")
        return ExportedModel(directory: dir, name: name, compressed: a.compressed, arenaBytes: arena, rawBytes: stored.count)
    }
}
