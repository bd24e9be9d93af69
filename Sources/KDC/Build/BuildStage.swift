import Foundation
import KDCTarget

/// Everything `kdc build` produced.
public struct BuildResult {
    public var distillation: DistillationResult
    public var quantized: QuantizedStudent
    public var export: ExportResult
    public var check: HostCheckResult
    public var storedCheck: HostCheckResult?
    public var firmware: [FirmwareResult]
    public var report: BuildReport
    public var summary: String
}

extension Pipeline {
    /// The whole pipeline: teacher → distilled student (→ baseline) → int8 → artifact → host check.
    /// Writes checkpoints, the artifact, the C files and `report.json` into the output folder, and
    /// fails (after writing the report) when the C runtime's output differs from the Swift int8
    /// reference in any byte, or when the model does not fit the device budget.
    public func build() throws -> BuildResult {
        try preflightBudget()
        let d = try runDistillation(baseline: config.distill.baseline)
        let q = try quantize(d.student.model, data: d.data)
        observer?.stage(
            "export", detail: "\(config.export.name).kdc into \(outDir) (\(config.export.compress ? "zlib" : "stored"))")
        let prepared = try prepareExport(
            q.graph, normalization: d.data.normalization, name: config.export.name,
            compress: config.export.compress)
        // The budget is checked before anything is written, so an earlier good artifact survives.
        let budgetProblems = budgetCheck(prepared)
        if !budgetProblems.isEmpty {
            throw KDCError.budget(
                message: "the student does not fit the device budget: " + budgetProblems.joined(separator: "; ")
                    + "; nothing was exported; hint: shrink the student or raise budget in \(config.file)")
        }
        let e = try prepared.write(to: outDir)
        observer?.stage("check", detail: "compiling runtime/ with cc, running \(d.data.test.count) test samples")
        // Both checks compare with the int8 reference outputs the quantization report computed.
        let inputs = q.graph.quantizedInputs(d.data.test), labels = d.data.test.labels
        let check = try withKDCErrors {
            try HostCheck.run(artifactPath: e.artifactPath, inputs: inputs, expected: q.testOutputs, labels: labels)
        }
        var stored: HostCheckResult?
        if let path = e.storedArtifactPath {
            stored = try withKDCErrors {
                try HostCheck.run(artifactPath: path, inputs: inputs, expected: q.testOutputs, labels: labels, repeats: 1)
            }
        }
        var firmware: [FirmwareResult] = []
        if let target = config.export.firmware {
            let n = min(firmwareSamples, inputs.count)
            let board = try withKDCErrors { try Board.named(target) }
            for mode in e.compressed ? [FirmwareMode.stored, .compressed] : [.stored] {
                observer?.stage(
                    "firmware",
                    detail: "\(target), \(mode.rawValue) artifact: building the image and running \(n) test inputs under QEMU")
                firmware.append(
                    try withKDCErrors {
                        try FirmwareCheck.run(
                            board: board, model: e.exportedModel, mode: mode, inputs: Array(inputs.prefix(n)),
                            expected: Array(q.testOutputs.prefix(n)), opCodes: q.graph.opCodes, macs: q.graph.macs,
                            countInstructions: true)
                    })
            }
        }
        var report = d.report
        report.student?.int8Accuracy = q.report.int8Accuracy
        report.quantization = q.report
        report.sections["runtime"] = .object([
            "samples": .int(check.samples), "mismatches": .int(check.mismatches + (stored?.mismatches ?? 0)),
            "accuracy": check.accuracy.map { .number($0) } ?? .null,
            "latency_ns_median": .int(check.latencyNsMedian),
            "modes_checked": .array(
                [.string(e.compressed ? "compressed" : "stored")] + (stored == nil ? [] : [.string("stored")])),
        ])
        report.sections["artifact"] = .object([
            "path": .string(e.artifactPath), "bytes": .int(e.bytes), "raw_bytes": .int(e.rawBytes),
            "sha256": .string(e.sha256), "compressed": .bool(e.compressed),
            "stored_path": e.storedArtifactPath.map { .string($0) } ?? .null,
            "c_header": .string(e.headerPath), "c_source": .string(e.sourcePath),
        ])
        report.sections["memory"] = .object([
            "arena_bytes": .int(e.arenaBytes), "arena_lower_bound_bytes": .int(e.lowerBound),
            "weights_bytes": .int(e.weightsBytes), "unpack_bytes": .int(e.compressed ? e.rawBytes : 0),
        ])
        if let first = firmware.first {
            let enc = JSONEncoder()
            enc.keyEncodingStrategy = .convertToSnakeCase
            let modes = try firmware.map { try JSONDecoder().decode(JSONValue.self, from: enc.encode($0)) }
            let worst = firmware.max { $0.ramBytes < $1.ramBytes }!
            report.sections["firmware"] = .object([
                "target": .string(first.target), "match": .bool(firmware.allSatisfy { $0.match }),
                "samples": .int(first.samples),
                "runtime_text_bytes": .int(first.runtimeTextBytes), "image_text_bytes": .int(worst.imageTextBytes),
                "ram_bytes": .int(worst.ramBytes), "ram_predicted_bytes": .int(worst.ramPredictedBytes),
                "ram_matches_prediction": .bool(firmware.allSatisfy { $0.ramMatchesPrediction }),
                "stack_bound_bytes": .int(firmware.map(\.stackBoundBytes).max()!),
                "runtime_stack_bound_bytes": .int(firmware.map(\.runtimeStackBoundBytes).max()!),
                "instructions_per_inference": first.instructionsPerInference.map { .int($0) } ?? .null,
                "instructions_per_mac": first.instructionsPerMAC.map { .number($0) } ?? .null,
                "modes": .array(modes),
            ])
        }
        if let b = config.budget {
            report.sections["budget"] = .object([
                "flash_bytes": b.flashBytes.map { .int($0) } ?? .null, "ram_bytes": b.ramBytes.map { .int($0) } ?? .null,
                "flash_needed_bytes": .int(prepared.bytes), "ram_needed_bytes": .int(prepared.ramBytes),
            ])
        }
        try writeFileAtomically(try report.json(), to: outDir + "/report.json")
        var summary = d.summary + q.report.summary
        summary += "artifact: \(e.artifactPath) \(e.bytes) bytes (\(e.rawBytes) uncompressed), sha256 \(e.sha256.prefix(16))…\n"
        summary +=
            "memory: arena \(e.arenaBytes) bytes (lower bound \(e.lowerBound)), weights \(e.weightsBytes) bytes"
            + (e.compressed ? ", unpack buffer \(e.rawBytes) bytes" : "") + "\n"
        summary +=
            "host check (C runtime vs Swift int8): \(check.samples) samples, \(check.mismatches) mismatches"
            + (stored.map { "; stored artifact: \($0.mismatches) mismatches" } ?? "")
            + ", runtime accuracy \(fmtPct(check.accuracy)), median latency \(check.latencyNsMedian) ns\n"
        for f in firmware {
            summary +=
                "firmware (\(f.target), \(f.mode.rawValue)): \(f.samples) inputs, \(f.mismatches) mismatches vs the Swift int8 reference"
                + " (so vs the host runtime); runtime .text \(f.runtimeTextBytes) B, image .text \(f.imageTextBytes) B;"
                + " RAM \(f.ramBytes) B = arena \(f.ram.arenaBytes) + unpack \(f.ram.unpackBytes) + static \(f.ram.staticBytes)"
                + " + stack \(f.ram.stackBytes) (predicted \(f.ramPredictedBytes) = \(f.ramPredicted.arenaBytes) + \(f.ramPredicted.unpackBytes)"
                + " + \(f.ramPredicted.staticBytes) + \(f.ramPredicted.stackBytes)\(f.ramMatchesPrediction ? ", equal" : ", DIFFERENT"));"
                + " stack bound \(f.stackBoundBytes) B (any model), runtime alone \(f.runtimeStackBoundBytes) B"
                + (f.instructionsPerInference.map { "; \($0) instructions/inference" } ?? "")
                + (f.instructionsPerMAC.map { String(format: " (%.1f per MAC)", $0) } ?? "") + "\n"
        }
        let mismatches = check.mismatches + (stored?.mismatches ?? 0)
        if mismatches > 0 {
            let m = check.firstMismatch ?? stored?.firstMismatch
            throw KDCError.training(
                message: "host check failed: the C runtime differs from the Swift int8 reference in \(mismatches) output bytes"
                    + (m.map { " (first: sample \($0.sample), byte \($0.byte): expected \($0.expected), got \($0.got))" } ?? "")
                    + "; the report is in \(outDir)/report.json")
        }
        if let bad = firmware.first(where: { !$0.match }) {
            throw KDCError.training(
                message:
                    "firmware check failed: the \(bad.mode.rawValue) artifact on \(bad.target) differs from the host in \(bad.mismatches) output bytes; the report is in \(outDir)/report.json"
            )
        }
        if let bad = firmware.first(where: { !$0.ramMatchesPrediction }) {
            let p = bad.ramPredicted, m = bad.ram
            throw KDCError.training(
                message: "firmware check failed: the \(bad.mode.rawValue) image on \(bad.target) used \(m.totalBytes) B of RAM"
                    + " (arena \(m.arenaBytes), unpack \(m.unpackBytes), static \(m.staticBytes), stack \(m.stackBytes)), kdc predicted \(p.totalBytes)"
                    + " (\(p.arenaBytes), \(p.unpackBytes), \(p.staticBytes), \(p.stackBytes)); the report is in \(outDir)/report.json"
            )
        }
        return BuildResult(
            distillation: d, quantized: q, export: e, check: check, storedCheck: stored, firmware: firmware,
            report: report, summary: summary)
    }

    /// Checks the budget before any training: the arena, the unpack buffer and the stored
    /// artifact's size depend only on the student's architecture, so exporting the untrained
    /// student gives them exactly. (A compressed artifact's size depends on the trained weights
    /// and is checked again after training.)
    public func preflightBudget() throws {
        guard let b = config.budget, b.flashBytes != nil || b.ramBytes != nil, let sc = config.student else { return }
        let model = try Model(spec: sc.graph, seed: config.seed)
        var rng = SeededRNG(seed: 0, stream: "preflight")
        let n = 8, k = sc.graph.inputShape.reduce(1, *)
        let calib = Dataset(
            name: "preflight", sampleShape: sc.graph.inputShape, x: (0..<(n * k)).map { _ in rng.normal() },
            labels: [Int32](repeating: 0, count: n), numClasses: model.outputShape.reduce(1, *))
        let graph = try KDC.quantize(FloatGraph(model: model), calibration: calib)
        var e = try prepareExport(graph, normalization: .identity, name: config.export.name, compress: false)
        e.compressed = config.export.compress  // RAM: the unpack buffer is the stored artifact's size
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
                "RAM: arena \(e.plan.arenaBytes)" + (e.compressed ? " + unpack buffer \(e.stored.count)" : "")
                    + " = \(e.ramBytes) bytes, the budget is \(r)"
                    + (e.compressed
                        ? " (a stored artifact executes from flash without the unpack buffer: export.compress: false)" : ""))
        }
        return out
    }
}
