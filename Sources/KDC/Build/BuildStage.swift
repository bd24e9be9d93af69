import Crypto
import Foundation
import KDCTarget

/// Everything `kdc build` produced.
public struct BuildResult {
    public var distillation: DistillationResult
    public var quantized: QuantizedStudent
    public var export: ExportResult
    /// `<name>.tflite`, with `export.tflite`.
    public var tflite: TFLiteFile?
    public var checks: CheckResults
    public var report: BuildReport
    /// The readable summary (teacher/student table, quantization, artifact, checks).
    public var summary: String { BuildSummary.text(self) }
}

/// A `.tflite` file the build wrote.
public struct TFLiteFile: Equatable, Sendable {
    public var path: String
    public var bytes: Int
    /// SHA-256, lowercase hex.
    public var sha256: String

    /// The same file once its set moved (`ExportResult.moved`).
    public func moved(from: String, to place: (String) -> String) -> TFLiteFile {
        var f = self
        if path.hasPrefix(from + "/") { f.path = place(String(path.dropFirst(from.count + 1))) }
        return f
    }
}

/// The checks of a build: the C runtime on the host (the main artifact, and the stored twin of a
/// compressed one), and the firmware on an emulated device in each mode.
public struct CheckResults {
    public var host: HostCheckResult
    public var stored: HostCheckResult?
    public var firmware: [FirmwareResult]

    /// Output bytes the C runtime got wrong on the host, over both artifacts.
    public var hostMismatches: Int { host.mismatches + (stored?.mismatches ?? 0) }

    /// What failed, worst first: a check error naming the check, the figures and where the
    /// report is; nil when every check passed.
    func failure(reportPath: String) -> KDCError? {
        if hostMismatches > 0 {
            let m = host.firstMismatch ?? stored?.firstMismatch
            return .check(
                message:
                    "host check failed: the C runtime differs from the Swift int8 reference in \(hostMismatches) output bytes"
                    + (m.map { " (first: sample \($0.sample), byte \($0.byte): expected \($0.expected), got \($0.got))" } ?? "")
                    + "; the report is in \(reportPath)")
        }
        if let bad = firmware.first(where: { !$0.match }) {
            return .check(
                message: "firmware check failed: the \(bad.mode.rawValue) artifact on \(bad.target) differs from the host in "
                    + "\(bad.mismatches) output bytes; the report is in \(reportPath)")
        }
        if let bad = firmware.first(where: { !$0.ramMatchesPrediction }) {
            let p = bad.ramPredicted, m = bad.ram
            return .check(
                message: "firmware check failed: the \(bad.mode.rawValue) image on \(bad.target) used \(m.totalBytes) B of RAM"
                    + " (arena \(m.arenaBytes), unpack \(m.unpackBytes), static \(m.staticBytes), stack \(m.stackBytes)), kdc predicted \(p.totalBytes)"
                    + " (\(p.arenaBytes), \(p.unpackBytes), \(p.staticBytes), \(p.stackBytes)); the report is in \(reportPath)")
        }
        return nil
    }
}

/// A RAM split for an error message: total (arena, unpack, stream, static, stack).
func ramText(_ r: FirmwareRAM?) -> String {
    guard let r else { return "?" }
    return
        "\(r.totalBytes) B (arena \(r.arenaBytes), unpack \(r.unpackBytes), stream \(r.streamBytes), static \(r.staticBytes), stack \(r.stackBytes))"
}

extension Pipeline {
    /// The whole pipeline, one stage after another: budget preflight → teacher and distilled
    /// student (→ baseline) → int8 → artifact (budget checked before anything is written) →
    /// host check → firmware (with `export.firmware`) → `report.json`.
    ///
    /// The outputs (checkpoints, artifacts, C files, the report) are one set
    /// (`OutputTransaction`): written into a staging folder and moved into the output folder
    /// together, the report last, only after every check passed. When a check fails the set
    /// goes to `OUT/failed/` instead, the output folder keeps its previous set, and this throws
    /// `KDCError.check` (the C runtime's output differs from the Swift int8 reference in some
    /// byte, or the device's RAM differs from the prediction).
    public func build() throws -> BuildResult {
        if config.student == nil, config.studentSearch != nil {
            // student.search: choose the student first, then build it as if it were written by hand.
            let found = try searchStudent()
            let next = Pipeline(config: found.config, outDir: outDir, observer: observer)
            next.studentSearch = found.report
            return try next.build()
        }
        let txn = try open()
        defer { close(txn) }
        try preflightBudget()
        let distilled = try runDistillation(baseline: config.distill.baseline)
        let quantized = try quantize(distilled.shipped.model, data: distilled.data)
        let exported = try exportStudent(
            quantized.graph, normalization: distilled.data.normalization, classNames: distilled.data.classNames)
        let tflite = try exportTFLite(quantized.graph)
        let checks = try check(exported.result, quantized, test: distilled.data.test)
        let frontend = try frontEndSection(
            ramBytes: exported.prepared.ramBytes, streamBytes: exported.prepared.streamBytes,
            artifactPath: exported.result.storedArtifactPath ?? exported.result.artifactPath, test: distilled.data.test,
            graph: quantized.graph, export: exported.result)
        let sensor = try sensorSection(data: distilled.data, graph: quantized.graph, export: exported.result)
        let reportName = "report.json"
        let failed =
            checks.failure(reportPath: txn.failedPath(reportName))
            ?? frontend.flatMap { f in
                f.cMatches == false
                    ? KDCError.check(
                        message:
                            "front-end check failed: the C runtime's audio front end differs from the Swift reference on \(f.cMismatchedClips) of the test recordings (report: \(txn.failedPath(reportName)))"
                    ) : nil
            }
            ?? frontend.flatMap { f in
                f.firmwareFailed
                    ? KDCError.check(
                        message:
                            "front-end firmware check failed on \(f.firmware?.target ?? "the board"): \(f.firmware?.wholeMismatches ?? 0) whole-clip and \(f.firmware?.streamedMismatches ?? 0) streamed output bytes differ from the Swift reference over \(f.firmware?.clips ?? 0) recordings; kdc_stream_bytes \(f.firmware?.streamBytes ?? 0), predicted \(f.streamBytes ?? 0); RAM \(ramText(f.firmware?.ram)) measured, \(ramText(f.firmware?.ramPredicted)) predicted (report: \(txn.failedPath(reportName)))"
                    ) : nil
            }
            ?? sensor.flatMap { s in
                s.firmwareFailed
                    ? KDCError.check(
                        message:
                            "sensor firmware check failed on \(s.firmware?.target ?? "the board"): \(s.firmware?.wholeMismatches ?? 0) one-window and \(s.firmware?.streamedMismatches ?? 0) streamed output bytes differ from the Swift reference over \(s.firmware?.windows ?? 0) windows; kdc_stream_bytes \(s.firmware?.streamBytes ?? 0), predicted \(s.streamBytes); RAM \(ramText(s.firmware?.ram)) measured, \(ramText(s.firmware?.ramPredicted)) predicted (report: \(txn.failedPath(reportName)))"
                    ) : nil
            }
        // The report names the files where they will be: in the output folder, or in failed/.
        let place = failed == nil ? txn.finalPath : txn.failedPath
        let export = exported.result.moved(from: txn.stagingDir, to: place)
        let tfliteFile = tflite?.moved(from: txn.stagingDir, to: place)
        var report = buildReport(distilled, quantized, (export, exported.prepared), checks)
        report.artifact?.tflitePath = tfliteFile?.path
        report.artifact?.tfliteBytes = tfliteFile?.bytes
        report.frontend = frontend
        report.sensor = sensor
        report.relocate(from: outDir, to: failed == nil ? outDir : outDir + "/" + OutputTransaction.failedName)
        try writeFileAtomically(Data(ReportPage.html(report).utf8), to: txn.stagedPath(ReportPage.fileName))
        report.outputs = txn.stagedFiles() + [reportName]
        try writeFileAtomically(try report.json(), to: txn.stagedPath(reportName))
        if let failed {
            try txn.moveToFailed()
            throw failed
        }
        try txn.commit(report: reportName)
        return BuildResult(
            distillation: distilled, quantized: quantized, export: export, tflite: tfliteFile, checks: checks, report: report)
    }

    /// With `export.tflite`: the int8 student (in TFLite arithmetic) as `<name>.tflite` in the
    /// output set (`TFLiteExporter.int8Model`, `TFLiteWriter`). The file is read back and
    /// imported before it is written: it must give the graph the `.kdc` holds (`TFLiteExporter.sameModel`).
    func exportTFLite(_ graph: Graph) throws -> TFLiteFile? {
        guard config.export.tflite else { return nil }
        let name = config.export.name + ".tflite"
        stage("export", detail: "\(name): the int8 student as a TensorFlow Lite model")
        let bytes = TFLiteWriter.write(try TFLiteExporter.int8Model(graph, description: "kdc \(kdcVersionString)"))
        let back = try TFLiteImporter.importModel(try TFLiteReader.read(bytes: bytes, file: name + " (as written)"), file: name)
        guard TFLiteExporter.sameModel(back, graph) else {
            throw KDCError.check(message: "\(name) read back is not the int8 graph of the .kdc artifact (internal error)")
        }
        let path = writeDir + "/" + name
        try writeFileAtomically(Data(bytes), to: path)
        let digest = SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined()
        return TFLiteFile(path: path, bytes: bytes.count, sha256: digest)
    }

    /// The export stage: artifact bytes and C files in memory, checked against the budget, then
    /// written (so a model over budget leaves an earlier good artifact in place).
    func exportStudent(_ graph: Graph, normalization: Normalization, classNames: [String]? = nil) throws -> (
        result: ExportResult, prepared: PreparedExport
    ) {
        stage(
            "export", detail: "\(config.export.name).kdc into \(outDir) (\(config.export.compress ? "zlib" : "stored"))")
        let prepared = try prepareExport(
            graph, normalization: normalization, name: config.export.name, compress: config.export.compress,
            classNames: classNames, kernels: config.export.firmware.flatMap { KernelScratch.Variant(board: $0) })
        let problems = budgetCheck(prepared)
        if !problems.isEmpty {
            throw KDCError.budget(
                message: "the student does not fit the device budget: " + problems.joined(separator: "; ")
                    + "; nothing was exported; hint: shrink the student or raise budget in \(config.file)")
        }
        return (try prepared.write(to: writeDir), prepared)
    }

    /// The check stage: the C runtime on the host against the Swift int8 reference outputs the
    /// quantization report computed (every test sample, both artifacts), then the firmware.
    func check(_ e: ExportResult, _ q: QuantizedStudent, test: Dataset) throws -> CheckResults {
        stage("check", detail: "compiling runtime/ with cc, running \(test.count) test samples")
        let inputs = q.graph.quantizedInputs(test), labels = test.labels
        let host = try withKDCErrors {
            try HostCheck.run(artifactPath: e.artifactPath, inputs: inputs, expected: q.testOutputs, labels: labels)
        }
        let stored = try e.storedArtifactPath.map { path in
            try withKDCErrors {
                try HostCheck.run(artifactPath: path, inputs: inputs, expected: q.testOutputs, labels: labels, repeats: 1)
            }
        }
        var firmware: [FirmwareResult] = []
        if let board = config.export.firmware {
            let n = min(firmwareSamples, inputs.count)
            for mode in e.compressed ? [FirmwareMode.stored, .compressed] : [.stored] {
                stage(
                    "firmware",
                    detail: "\(board.name), \(mode.rawValue) artifact: building the image and running \(n) test inputs under QEMU"
                )
                firmware.append(
                    try withKDCErrors {
                        try FirmwareCheck.run(
                            board: board, model: e.exportedModel, mode: mode, inputs: Array(inputs.prefix(n)),
                            expected: Array(q.testOutputs.prefix(n)), opCodes: q.graph.opCodes, macs: q.graph.macs,
                            countInstructions: true)
                    })
            }
        }
        return CheckResults(host: host, stored: stored, firmware: firmware)
    }

    /// `report.json`: each stage's typed section.
    func buildReport(
        _ d: DistillationResult, _ q: QuantizedStudent, _ exported: (result: ExportResult, prepared: PreparedExport),
        _ c: CheckResults
    ) -> BuildReport {
        let e = exported.result
        var report = d.report
        if d.decision.shipsBaseline {
            report.baseline?.int8Accuracy = q.report.int8Accuracy
        } else {
            report.student?.int8Accuracy = q.report.int8Accuracy
        }
        report.quantization = q.report
        report.artifact = ArtifactSection(
            path: e.artifactPath, bytes: e.bytes, rawBytes: e.rawBytes, sha256: e.sha256, compressed: e.compressed,
            storedPath: e.storedArtifactPath, cHeader: e.headerPath, cSource: e.sourcePath)
        report.memory = MemorySection(
            arenaBytes: e.arenaBytes, scratchBytes: e.scratchBytes, arenaTotalBytes: e.arenaTotalBytes,
            arenaLowerBoundBytes: e.lowerBound, weightsBytes: e.weightsBytes,
            unpackBytes: e.compressed ? e.rawBytes : 0)
        report.memory?.plan = ArenaPlanSection(e.plan, graph: q.graph)
        if let m = InputStageBlock.memory(q.graph) {
            report.memory?.frontendBytes = m.frontendBytes
            report.memory?.ringBytes = m.ringBytes
        }
        report.runtime = RuntimeSection(
            samples: c.host.samples, mismatches: c.hostMismatches, accuracy: c.host.accuracy,
            latencyNsMedian: c.host.latencyNsMedian,
            modesChecked: [e.compressed ? "compressed" : "stored"] + (c.stored == nil ? [] : ["stored"]))
        if let first = c.firmware.first, let worst = c.firmware.max(by: { $0.ramBytes < $1.ramBytes }) {
            report.firmware = FirmwareSection(
                target: first.target, match: c.firmware.allSatisfy { $0.match }, samples: first.samples,
                runtimeTextBytes: first.runtimeTextBytes, imageTextBytes: worst.imageTextBytes, ramBytes: worst.ramBytes,
                ramPredictedBytes: worst.ramPredictedBytes,
                ramMatchesPrediction: c.firmware.allSatisfy { $0.ramMatchesPrediction },
                stackBoundBytes: c.firmware.map(\.stackBoundBytes).max() ?? 0,
                runtimeStackBoundBytes: c.firmware.map(\.runtimeStackBoundBytes).max() ?? 0,
                instructionsPerInference: first.instructionsPerInference, instructionsPerMac: first.instructionsPerMAC,
                modes: c.firmware)
        }
        if var s = studentSearch {
            s.built = footprint(exported.prepared, exactFlash: exported.prepared.bytes)
            report.studentSearch = s
        }
        if let b = config.budget {
            report.budget = BudgetSection(
                flashBytes: b.flashBytes, ramBytes: b.ramBytes, flashNeededBytes: exported.prepared.bytes,
                ramNeededBytes: exported.prepared.ramBytes)
        }
        return report
    }

    /// Checks the budget before any training: the arena, the unpack buffer and the stored
    /// artifact's size depend only on the student's architecture, so exporting the untrained
    /// student gives them exactly. (A compressed artifact's size depends on the trained weights
    /// and is checked again after training.)
    public func preflightBudget() throws {
        guard let b = config.budget, b.flashBytes != nil || b.ramBytes != nil, let sc = config.student else { return }
        let e = try predictExport(sc.graph)
        var problems = budgetCheck(e)
        if config.export.compress { problems.removeAll { $0.hasPrefix("flash") } }
        if !problems.isEmpty {
            throw KDCError.budget(
                message: "the student cannot fit the device budget (checked before training): "
                    + problems.joined(separator: "; ") + "; hint: shrink the student or raise budget in \(config.file)")
        }
    }

    /// Test inputs run on the emulated device (QEMU is slow).
    var firmwareSamples: Int { 20 }

    /// What exceeds `budget`: flash holds the artifact; RAM holds the arena and, for a compressed
    /// artifact, the unpack buffer.
    func budgetCheck(_ e: PreparedExport) -> [String] {
        guard let b = config.budget else { return [] }
        var out: [String] = []
        if let f = b.flashBytes, e.bytes > f {
            out.append("flash: the artifact needs \(e.bytes) bytes, the budget is \(f)")
        }
        if let r = b.ramBytes, e.ramBytes > r {
            out.append(
                "RAM: arena \(e.plan.arenaTotalBytes)" + (e.compressed ? " + unpack buffer \(e.stored.count)" : "")
                    + (e.streamBytes > 0 ? " + input-stage stream buffer \(e.streamBytes)" : "")
                    + " = \(e.ramBytes) bytes, the budget is \(r)"
                    + (e.compressed
                        ? " (a stored artifact executes from flash without the unpack buffer: export.compress: false)" : ""))
        }
        return out
    }
}
