import Crypto
import Foundation
import KDCTarget

/// `report.json` of `kdc import`: the source model, then the sections `kdc build` writes where
/// they apply (`artifact`, `memory`, `runtime`, `firmware`; the same types and keys).
public struct ImportReport: Codable, Sendable {
    public var kdcVersion = kdcVersionString
    public var source: SourceModelSection
    public var artifact: ArtifactSection?
    public var memory: MemorySection?
    public var runtime: RuntimeSection?
    public var firmware: FirmwareSection?
    /// The files of this output set, this report last.
    public var outputs: [String]?

    public init(source: SourceModelSection) { self.source = source }

    /// JSON with sorted keys, snake_case, pretty-printed (as `BuildReport`).
    public func json() throws -> Data {
        let enc = JSONEncoder()
        enc.keyEncodingStrategy = .convertToSnakeCase
        enc.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try enc.encode(self)
    }
}

/// `report.json` → `source`: the imported file and the graph kdc made of it.
public struct SourceModelSection: Codable, Sendable, Equatable {
    public var path: String
    public var format = "tflite"
    public var bytes: Int
    public var sha256: String
    /// kdc ops in execution order ("conv2d", "depthwise_conv2d", ...).
    public var ops: [String]
    public var macs: Int
    /// "tflite": TensorFlow Lite's int8 arithmetic.
    public var arithmetic: String
    public var floatInput: Bool
    public var floatOutput: Bool
    public var inputShape: [Int]
    public var outputShape: [Int]
}

/// What `kdc import` does, in stages: read and import the `.tflite` (`TFLiteImporter`), export
/// the artifact(s) and C files, run the host check (the C runtime against the Swift int8
/// interpreter on generated inputs, `checkInputs`), optionally the firmware check, then
/// `report.json`. The outputs are one set (`OutputTransaction`): committed together after the
/// checks passed, or moved to `OUT/failed/` with a `KDCError.check`.
public struct ImportStage {
    public var modelPath: String
    public var outDir: String
    /// Artifact base name and C prefix.
    public var name: String
    /// zlib-compressed main artifact (plus its stored twin), or stored only (`--stored`).
    public var compress: Bool
    public var firmware: Board?
    /// Seeded random inputs after the structured ones.
    public var randomInputs: Int
    public var seed: UInt64
    public var observer: PipelineObserver?

    public init(
        modelPath: String, outDir: String, name: String = "model", compress: Bool = true, firmware: Board? = nil,
        randomInputs: Int = 16, seed: UInt64 = 0, observer: PipelineObserver? = nil
    ) {
        self.modelPath = modelPath; self.outDir = outDir; self.name = name; self.compress = compress
        self.firmware = firmware; self.randomInputs = randomInputs; self.seed = seed; self.observer = observer
    }

    /// Inputs exercising the whole int8 range: all −128, all 127, all the zero point, a ramp
    /// (byte i = i mod 256 − 128) and its reverse, two checkerboards (−128/127 alternating over
    /// pixels, or elements for a flat input), byte i = (i·37 mod 256) − 128, then `random`
    /// uniformly random inputs from `seed`.
    public static func checkInputs(_ g: Graph, random: Int, seed: UInt64) -> [[Int8]] {
        let n = g[g.input].count
        let shape = g.inputShape
        let pixel = shape.count == 3 ? shape[2] : 1
        let width = shape.count == 3 ? shape[1] : 1
        func fill(_ f: (Int) -> Int) -> [Int8] { (0..<n).map { Int8(truncatingIfNeeded: f($0)) } }
        func checker(_ i: Int) -> Bool { let p = i / pixel; return (p / width + p % width) % 2 == 0 }
        var out: [[Int8]] = [
            fill { _ in -128 }, fill { _ in 127 }, fill { _ in Int(g.inputQuant.zeroPoint) },
            fill { $0 % 256 - 128 }, fill { 127 - $0 % 256 },
            fill { checker($0) ? -128 : 127 }, fill { checker($0) ? 127 : -128 },
            fill { ($0 * 37) % 256 - 128 },
        ]
        var rng = SeededRNG(seed: seed, stream: "import-check")
        for _ in 0..<random { out.append(fill { _ in rng.int(below: 256) - 128 }) }
        return out
    }

    /// Runs the stages; returns the result once the set is committed.
    public func run() throws -> ImportResult {
        stage("read", detail: modelPath)
        let bytes = try readModel()
        let graph = try TFLiteImporter.importModel(try TFLiteReader.read(bytes: bytes, file: modelPath), file: modelPath)
        let source = SourceModelSection(
            path: modelPath, bytes: bytes.count,
            sha256: SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined(),
            ops: graph.nodes.map(\.op.kind), macs: graph.macs, arithmetic: graph.arithmetic.rawValue,
            floatInput: graph.floatInput, floatOutput: graph.floatOutput, inputShape: graph.inputShape,
            outputShape: graph.outputShape)

        try ensureDirectory(outDir)
        let txn = try OutputTransaction(outDir: outDir)
        defer { txn.abort() }
        stage("export", detail: "\(name).kdc into \(outDir) (\(compress ? "zlib" : "stored"))")
        let prepared = try prepareExport(
            graph, normalization: .identity, name: name, compress: compress,
            kernels: firmware.flatMap { KernelScratch.Variant(board: $0) })
        let written = try prepared.write(to: txn.stagingDir)

        let inputs = ImportStage.checkInputs(graph, random: randomInputs, seed: seed)
        stage("check", detail: "the Swift int8 interpreter and the C runtime (cc) on \(inputs.count) generated inputs")
        let interpreter = Int8Interpreter()
        let expected = inputs.map { interpreter.run(graph, input: $0) }
        let host = try withKDCErrors { try HostCheck.run(artifactPath: written.artifactPath, inputs: inputs, expected: expected) }
        let stored = try written.storedArtifactPath.map { p in
            try withKDCErrors { try HostCheck.run(artifactPath: p, inputs: inputs, expected: expected, repeats: 1) }
        }
        var firmwareResults: [FirmwareResult] = []
        if let board = firmware {
            let n = min(ImportStage.firmwareInputs, inputs.count)
            for mode in compress ? [FirmwareMode.stored, .compressed] : [.stored] {
                stage("firmware", detail: "\(board.name), \(mode.rawValue) artifact: \(n) inputs under QEMU")
                firmwareResults.append(
                    try withKDCErrors {
                        try FirmwareCheck.run(
                            board: board, model: written.exportedModel, mode: mode, inputs: Array(inputs.prefix(n)),
                            expected: Array(expected.prefix(n)), opCodes: graph.opCodes, macs: graph.macs,
                            countInstructions: true)
                    })
            }
        }
        let checks = CheckResults(host: host, stored: stored, firmware: firmwareResults)
        let reportName = "report.json"
        let failed = checks.failure(reportPath: txn.failedPath(reportName))
        let export = written.moved(from: txn.stagingDir, to: failed == nil ? txn.finalPath : txn.failedPath)
        var report = ImportStage.report(source: source, export: export, checks: checks)
        report.memory?.plan = ArenaPlanSection(export.plan, graph: graph)
        try writeFileAtomically(Data(ReportPage.html(report).utf8), to: txn.stagedPath(ReportPage.fileName))
        report.outputs = txn.stagedFiles() + [reportName]
        try writeFileAtomically(try report.json(), to: txn.stagedPath(reportName))
        if let failed {
            try txn.moveToFailed()
            throw failed
        }
        try txn.commit(report: reportName)
        return ImportResult(graph: graph, export: export, checks: checks, report: report)
    }

    /// Inputs run on the emulated device (QEMU is slow; the large models take seconds each).
    static let firmwareInputs = 4

    func stage(_ name: String, detail: String) { observer?.stage(name, detail: detail) }

    func readModel() throws -> [UInt8] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelPath, isDirectory: &isDir), !isDir.boolValue,
            let d = FileManager.default.contents(atPath: modelPath)
        else {
            throw KDCError.io(path: modelPath, message: "cannot read the model file (missing, a folder, or unreadable)")
        }
        return [UInt8](d)
    }

    static func report(source: SourceModelSection, export e: ExportResult, checks c: CheckResults) -> ImportReport {
        var r = ImportReport(source: source)
        r.artifact = ArtifactSection(
            path: e.artifactPath, bytes: e.bytes, rawBytes: e.rawBytes, sha256: e.sha256, compressed: e.compressed,
            storedPath: e.storedArtifactPath, cHeader: e.headerPath, cSource: e.sourcePath)
        r.memory = MemorySection(
            arenaBytes: e.arenaBytes, scratchBytes: e.scratchBytes, arenaTotalBytes: e.arenaTotalBytes,
            arenaLowerBoundBytes: e.lowerBound, weightsBytes: e.weightsBytes, unpackBytes: e.compressed ? e.rawBytes : 0)
        r.runtime = RuntimeSection(
            samples: c.host.samples, mismatches: c.hostMismatches, accuracy: nil, latencyNsMedian: c.host.latencyNsMedian,
            modesChecked: [e.compressed ? "compressed" : "stored"] + (c.stored == nil ? [] : ["stored"]))
        if let first = c.firmware.first, let worst = c.firmware.max(by: { $0.ramBytes < $1.ramBytes }) {
            r.firmware = FirmwareSection(
                target: first.target, match: c.firmware.allSatisfy { $0.match }, samples: first.samples,
                runtimeTextBytes: first.runtimeTextBytes, imageTextBytes: worst.imageTextBytes, ramBytes: worst.ramBytes,
                ramPredictedBytes: worst.ramPredictedBytes,
                ramMatchesPrediction: c.firmware.allSatisfy { $0.ramMatchesPrediction },
                stackBoundBytes: c.firmware.map(\.stackBoundBytes).max() ?? 0,
                runtimeStackBoundBytes: c.firmware.map(\.runtimeStackBoundBytes).max() ?? 0,
                instructionsPerInference: first.instructionsPerInference, instructionsPerMac: first.instructionsPerMAC,
                modes: c.firmware)
        }
        return r
    }
}

/// What `kdc import` produced.
public struct ImportResult {
    public var graph: Graph
    public var export: ExportResult
    public var checks: CheckResults
    public var report: ImportReport

    /// The lines the CLI prints.
    public var summary: String {
        let e = export, g = graph
        var s = "imported \(report.source.path): \(g.nodes.count) ops, \(g.macs) MACs, TFLite int8 arithmetic"
        s +=
            g.floatInput || g.floatOutput
            ? " (float \(g.floatInput ? "input" : "")\(g.floatInput && g.floatOutput ? " and " : "")\(g.floatOutput ? "output" : ""))\n"
            : "\n"
        s += "artifact \(e.artifactPath): \(e.bytes) bytes (\(e.compressed ? "zlib; stored \(e.rawBytes)" : "stored")), "
        s += ".tflite \(report.source.bytes) bytes\n"
        s +=
            "arena \(e.arenaTotalBytes) bytes (activations \(e.arenaBytes), lower bound \(e.lowerBound), scratch \(e.scratchBytes))\n"
        s +=
            "host check: \(checks.host.samples) generated inputs, \(checks.hostMismatches) output bytes differ from the Swift int8 reference\n"
        for f in checks.firmware {
            s +=
                "firmware \(f.target) (\(f.mode.rawValue)): \(f.match ? "outputs equal the host's" : "\(f.mismatches) bytes differ")\n"
        }
        return s
    }
}
