import Foundation
import XCTest

@testable import KDC

/// Float TensorFlow Lite models as teachers: `TFLiteFloatImporter` (layouts, dequantized
/// weights, errors), `TFLiteExporter.floatModel` (the way back), `teacher: {tflite: PATH}` in a
/// config, and a float `.tflite` written from a kdc teacher giving that teacher's soft targets.
/// LiteRT's own outputs are compared in `TFLiteOracleTests`.
final class TFLiteTeacherTests: XCTestCase {
    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "kdc-tflteacher-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    /// conv (ReLU) → depthwise ×2 (ReLU6) → conv 1×1 → ADD → max pool → average pool (SAME) →
    /// flatten → dense → softmax, random parameters, on [8, 8, 2].
    static func floatGraph(seed: UInt64 = 4) throws -> Graph {
        let spec = GraphSpec(
            inputShape: [8, 8, 2],
            nodes: [
                NodeSpec(
                    name: "conv1", op: .conv2d(filters: 4, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same),
                    inputs: ["input"]),
                NodeSpec(name: "relu1", op: .relu, inputs: ["conv1"]),
                NodeSpec(
                    name: "dw", op: .depthwiseConv2d(kernel: Size2(3, 2), stride: Size2(2, 2), padding: .same, multiplier: 2),
                    inputs: ["relu1"]),
                NodeSpec(name: "relu2", op: .relu6, inputs: ["dw"]),
                NodeSpec(
                    name: "c3", op: .conv2d(filters: 8, kernel: Size2(1, 1), stride: Size2(1, 1), padding: .valid),
                    inputs: ["relu2"]),
                NodeSpec(name: "res", op: .add, inputs: ["relu2", "c3"]),
                NodeSpec(name: "mp", op: .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid), inputs: ["res"]),
                NodeSpec(name: "ap", op: .avgPool2d(pool: Size2(3, 3), stride: Size2(1, 1), padding: .same), inputs: ["mp"]),
                NodeSpec(name: "flat", op: .flatten, inputs: ["ap"]),
                NodeSpec(name: "fc", op: .dense(units: 5), inputs: ["flat"]),
                NodeSpec(name: "sm", op: .softmax(beta: 1.5), inputs: ["fc"]),
            ])
        var rng = SeededRNG(seed: seed)
        return ExportFixtures.randomParams(try Graph(spec: spec), &rng)
    }

    static func inputs(_ g: Graph, count: Int, seed: UInt64) -> [[Float]] {
        var rng = SeededRNG(seed: seed)
        return (0..<count).map { _ in (0..<g[g.input].count).map { _ in rng.normal() } }
    }

    /// Float graph → `.tflite` bytes → float import: the same function bit for bit (the layouts
    /// are permutations), fused activations back as relu / relu6 nodes, kdc's shapes.
    func testFloatExportAndImportGiveTheSameFunction() throws {
        let g = try Self.floatGraph()
        let bytes = TFLiteWriter.write(try TFLiteExporter.floatModel(g))
        let back = try TFLiteFloatImporter.importModel(
            try TFLiteReader.read(bytes: bytes, file: "float.tflite"), file: "float.tflite")
        XCTAssertEqual(
            back.nodes.map(\.op.kind),
            [
                "conv2d", "relu", "depthwise_conv2d", "relu6", "conv2d", "add", "max_pool2d", "avg_pool2d", "reshape", "dense",
                "softmax",
            ])
        XCTAssertEqual(back.inputShape, [8, 8, 2])
        XCTAssertEqual(back.outputShape, [5])
        for (i, n) in back.nodes.enumerated() { XCTAssertEqual(n.output.index, i + 1, "canonical numbering") }
        for x in Self.inputs(g, count: 6, seed: 9) {
            XCTAssertEqual(back.predictFloat(x), g.predictFloat(x))
        }
        // The conv weights in kdc's HWIO layout again.
        guard case let .affine(w0, _) = g.nodes[0].params, case let .affine(w1, b1) = back.nodes[0].params else {
            return XCTFail("no conv weights")
        }
        XCTAssertEqual(w1.data, w0.data)
        XCTAssertEqual(w1.shape, [3, 3, 2, 4])
        XCTAssertEqual(b1.shape, [4])
    }

    /// Weights stored as int8 with per-channel scales (a dynamic-range model) import as
    /// s·(q − z); float16 weights behind a DEQUANTIZE import as their float values.
    func testQuantizedAndHalfWeightsAreDequantized() throws {
        let g = try Self.floatGraph()
        var m = try TFLiteExporter.floatModel(g)
        var sg = m.subgraphs[0]
        // conv1's weights (OHWI [4, 3, 3, 2]) as int8, per output channel.
        let wi = Int(sg.operators[0].inputs[1])
        let q: [Int8] = (0..<72).map { Int8($0 % 17 - 8) }
        let scales: [Float] = [0.5, 0.25, 0.125, 2]
        m.buffers[Int(sg.tensors[wi].buffer)] = TFLiteBuffer(q.map { UInt8(bitPattern: $0) })
        sg.tensors[wi].type = .int8
        sg.tensors[wi].quantization = TFLiteQuantization(scale: scales, zeroPoint: [0, 1, 0, -1], quantizedDimension: 0)
        // fc's weights ([5, 32]) as float16 through a DEQUANTIZE.
        let fcIndex = sg.operators.firstIndex { m.opcode(of: $0) == TFLiteOp.fullyConnected }!
        let fw = Int(sg.operators[fcIndex].inputs[1])
        let halves: [UInt16] = (0..<160).map { UInt16(0x3C00 + $0) }  // 1 + k/1024
        m.buffers.append(TFLiteBuffer(halves.flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }))
        sg.tensors.append(TFLiteTensor(shape: [5, 32], type: .float16, buffer: UInt32(m.buffers.count - 1), name: "fc_half"))
        m.operatorCodes.append(TFLiteOperatorCode(builtin: TFLiteOp.dequantize, version: 3))
        sg.operators.insert(
            TFLiteOperator(
                opcodeIndex: UInt32(m.operatorCodes.count - 1), inputs: [Int32(sg.tensors.count - 1)], outputs: [Int32(fw)]),
            at: 0)
        m.buffers[Int(sg.tensors[fw].buffer)] = TFLiteBuffer()
        sg.tensors[fw].buffer = 0
        m.subgraphs[0] = sg
        let back = try TFLiteFloatImporter.importModel(try TFLiteReader.read(bytes: TFLiteWriter.write(m), file: "q"), file: "q")
        guard case let .affine(w, _) = back.nodes[0].params, case let .affine(fwt, _) = back.nodes[9].params else {
            return XCTFail("no weights")
        }
        let zero: [Int64] = [0, 1, 0, -1]
        for o in 0..<4 {
            for k in 0..<18 {  // OHWI element (o, k) is HWIO element k·4 + o
                XCTAssertEqual(w.data[k * 4 + o], scales[o] * Float(Int64(q[o * 18 + k]) - zero[o]))
            }
        }
        // [5, 32] → kdc's [32, 5]: element (r, c) of the file is (c, r) here.
        XCTAssertEqual(fwt.data[3 * 5 + 2], 1 + Float(2 * 32 + 3) / 1024)
        XCTAssertEqual(TFLiteFloatImporter.halfToFloat(0xC000), -2)
        XCTAssertEqual(TFLiteFloatImporter.halfToFloat(0x0001), 0x1p-24)
        XCTAssertEqual(TFLiteFloatImporter.halfToFloat(0x7BFF), 65504)
    }

    /// What a float teacher cannot be: an int8 model, an unsupported op, the wrong shape.
    func testFloatImportErrors() throws {
        let int8 = TFLiteReaderTests.mlperfDir + "/kws_ref_model.tflite"
        XCTAssertThrowsError(try TFLiteFloatImporter.importFile(int8)) { e in
            XCTAssertTrue("\(e)".contains("kws_ref_model.tflite"), "\(e)")
            XCTAssertTrue("\(e)".contains("is int8") && "\(e)".contains("a teacher must be the float32 model"), "\(e)")
        }
        var m = try TFLiteExporter.floatModel(try Self.floatGraph())
        let add = m.operatorCodes.firstIndex { $0.code == TFLiteOp.add }!
        m.operatorCodes[add] = TFLiteOperatorCode(builtin: 18)  // MUL
        XCTAssertThrowsError(try TFLiteFloatImporter.importModel(m, file: "mul.tflite")) { e in
            XCTAssertTrue("\(e)".hasPrefix("mul.tflite: operator 3 (MUL): not supported; kdc imports float32 models"), "\(e)")
        }
        let dir = try tempDir()
        let path = dir + "/t.tflite"
        try Data(TFLiteWriter.write(try TFLiteExporter.floatModel(try Self.floatGraph()))).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try GraphTeacher.load(tflite: path, sampleShape: [8, 8, 1], classes: 5)) { e in
            XCTAssertTrue("\(e)".contains("inputs of shape [8, 8, 2] (per sample), the data's samples are [8, 8, 1]"), "\(e)")
        }
        XCTAssertThrowsError(try GraphTeacher.load(tflite: path, sampleShape: [8, 8, 2], classes: 10)) { e in
            XCTAssertTrue("\(e)".contains("gives 5 outputs, the data has 10 classes"), "\(e)")
        }
        XCTAssertThrowsError(try GraphTeacher.load(tflite: dir + "/missing.tflite", sampleShape: [8, 8, 2], classes: 5)) { e in
            XCTAssertTrue("\(e)".contains("missing.tflite"), "\(e)")
        }
    }

    /// `teacher: {tflite: PATH}`: resolved against the config's folder, exclusive with the other
    /// teachers, a string.
    func testConfigKey() throws {
        func parse(_ teacher: String) throws -> KDCConfig {
            try KDCConfig.parse(
                """
                data: {format: csv, file: d.csv, shape: [8, 8, 1], classes: 10}
                teacher: \(teacher)
                """, file: "/cfg/c.yaml", baseDirectory: "/cfg")
        }
        let c = try parse("{tflite: models/t.tflite, min_agreement: 0.5}")
        XCTAssertEqual(c.teacher.tflite, "/cfg/models/t.tflite")
        XCTAssertEqual(c.teacher.minAgreement, 0.5)
        XCTAssertNil(c.teacher.checkpoint)
        XCTAssertTrue(c.yaml().contains("tflite: "), c.yaml())
        XCTAssertThrowsError(try parse("{tflite: t.tflite, checkpoint: c.safetensors}")) { e in
            XCTAssertEqual(
                "\(e)",
                "/cfg/c.yaml: teacher: give exactly one of layers, checkpoint, logits or tflite; found checkpoint and tflite")
        }
        XCTAssertThrowsError(try parse("{tflite: [a]}")) { e in
            XCTAssertTrue("\(e)".hasPrefix("/cfg/c.yaml: teacher.tflite: "), "\(e)")
        }
        XCTAssertThrowsError(try parse("{min_agreement: 0.5}")) { e in
            XCTAssertTrue("\(e)".contains("checkpoint, logits or tflite (a float32 .tflite model)"), "\(e)")
        }
    }

    /// A teacher ending in SOFTMAX gives probabilities: kdc takes log max(p, 1e-30) as its logits
    /// (as for a logits file of probabilities) and says so in the check.
    func testSoftmaxTeacherGivesLogProbabilities() throws {
        let g = try Self.floatGraph()
        let t = GraphTeacher(graph: g, file: "sm.tflite")
        XCTAssertTrue(t.givesProbabilities)
        let xs = Self.inputs(g, count: 3, seed: 2)
        let batch = Tensor(shape: [3, 8, 8, 2], data: xs.flatMap { $0 })
        let p = t.outputs(batch), l = t.logits(batch)
        for r in 0..<3 {
            let row = Array(p.data[(r * 5)..<(r * 5 + 5)])
            XCTAssertEqual(row, g.predictFloat(xs[r]))
            XCTAssertEqual(Double(row.reduce(0, +)), 1, accuracy: 1e-5)
            XCTAssertEqual(Array(l.data[(r * 5)..<(r * 5 + 5)]), row.map { Foundation.log(max($0, 1e-30)) })
        }
        var plain = g
        plain.nodes.removeLast()
        plain.tensors.removeLast()
        plain.output = TensorID(plain.tensors.count - 1)
        XCTAssertFalse(GraphTeacher(graph: plain, file: "x").givesProbabilities)
    }
}

/// A float `.tflite` teacher in a whole (small) build on the digits data. Outside `make check`
/// (a build compiles the C runtime), like `PipelineTests`.
final class TFLiteTeacherBuildTests: XCTestCase {
    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "kdc-tflteacher-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    /// A digits config (8×8×1, normalize: scale) with `teacher` and a tiny MLP student trained
    /// with shifted inputs (so distillation asks the teacher for every augmented batch).
    func digitsConfig(teacher: String) throws -> KDCConfig {
        try KDCConfig.parse(
            """
            seed: 3
            data: {format: csv, dir: \(PipelineTests.digitsDir), file: digits.csv.gz, shape: [8, 8, 1], classes: 10, normalize: scale}
            teacher:
              \(teacher)
            student:
              layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 10}]
              train: {epochs: 3, batch_size: 64, learning_rate: 0.005, augment_shift: 1}
            distill: {temperature: 4, alpha: 0.5, baseline: false}
            export: {name: tiny, compress: false}
            """, file: "test.yaml", baseDirectory: NSTemporaryDirectory())
    }

    /// A kdc-trained float CNN written as a float `.tflite` (TFLiteExporter, TFLiteWriter) and
    /// used as `teacher: {tflite: ...}` gives the soft targets of the checkpoint it came from
    /// (transfer set and an augmented batch, within float tolerance: kdc's float reference
    /// accumulates in Double, training inference in float32), passes the teacher check the same
    /// way, and a small build with it passes the host check.
    func testTFLiteTeacherGivesTheCheckpointTeachersSoftTargets() throws {
        let dir = try tempDir()
        let cnn =
            "layers: [{op: conv2d, filters: 4, kernel: 3}, relu, {op: max_pool2d, pool: 2}, flatten, {op: dense, units: 10}]\n"
            + "  train: {epochs: 4, batch_size: 64, learning_rate: 0.01}"
        let p = Pipeline(config: try digitsConfig(teacher: cnn), outDir: dir)
        let data = try p.loadData()
        let trained = try p.train(p.config.teacher.model!, role: .teacher, data: data, seed: 1)
        let checkpoint = try p.saveCheckpoint(trained.model, name: "teacher", normalization: data.normalization)
        let tflite = dir + "/teacher.tflite"
        let bytes = TFLiteWriter.write(try TFLiteExporter.floatModel(trained.model.floatGraph))
        try Data(bytes).write(to: URL(fileURLWithPath: tflite))

        let fromCheckpoint = try Pipeline(config: try digitsConfig(teacher: "checkpoint: \(checkpoint)"), outDir: dir)
            .teacher(data: data, transfer: data.train)
        let fromTFLite = try Pipeline(config: try digitsConfig(teacher: "tflite: \(tflite)"), outDir: dir)
            .teacher(data: data, transfer: data.train)
        guard case let .graph(g, known) = fromTFLite.source, let logits = known else {
            return XCTFail("expected a graph teacher with its transfer logits")
        }
        XCTAssertNil(fromTFLite.trained)
        let want = predictLogits(trained.model, on: data.train)
        XCTAssertEqual(logits.shape, want.shape)
        var worst: Float = 0
        for (a, b) in zip(logits.data, want.data) { worst = max(worst, abs(a - b) / max(1, abs(b))) }
        XCTAssertLessThan(worst, 1e-5, "transfer logits: largest difference \(worst)")
        print("tflite teacher: largest transfer-logit difference from the checkpoint \(worst)")
        // An augmented batch (shifted by the trainer) is just another input: the same function.
        var rng = SeededRNG(seed: 7)
        let batch = Tensor(shape: [16, 8, 8, 1], data: (0..<1024).map { _ in rng.uniform() })
        let a = g.logits(batch), b = trained.model.predict(batch)
        for (u, v) in zip(a.data, b.data) { XCTAssertEqual(u, v, accuracy: 1e-5 * max(1, abs(v))) }
        XCTAssertEqual(fromTFLite.check.source, "tflite")
        XCTAssertEqual(fromTFLite.check.agreement, fromCheckpoint.check.agreement)
        XCTAssertFalse(fromTFLite.check.probabilitiesConverted)
        XCTAssertTrue(fromTFLite.check.enforced)

        // The build: distillation (the teacher on every shifted batch), int8, export, host check.
        let out = dir + "/out"
        let r = try Pipeline(config: try digitsConfig(teacher: "tflite: \(tflite)"), outDir: out).build()
        XCTAssertEqual(r.checks.host.mismatches, 0)
        XCTAssertEqual(r.report.teacherCheck?.source, "tflite")
        XCTAssertEqual(r.report.teacher?.params, trained.model.parameterCount)
        XCTAssertEqual(r.report.teacher?.macs, trained.model.macs)
        XCTAssertEqual(r.report.teacher?.floatAccuracy ?? 0, trained.report.floatAccuracy ?? 1, accuracy: 0.01)
        XCTAssertTrue(r.summary.contains("teacher (tflite): agrees with the labels"), r.summary)
    }
}
