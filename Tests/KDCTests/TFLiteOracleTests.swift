import Foundation
import XCTest

@testable import KDC

/// Runs the LiteRT oracle scripts (scripts/litert_oracle.py, scripts/litert_float_oracle.py) in
/// the project venv. Without the venv the tests that need it **fail**, saying to run
/// `make venv` (`make test` makes it first; the suite is outside `make check`).
enum LiteRT {
    struct Missing: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "no project venv at \(path): run `make venv` (LiteRT 2.3.0 from PyPI, scripts/oracle-requirements.txt) to compare with LiteRT"
        }
    }

    static var python: String { CLITests.repoRoot + "/.venv/bin/python" }

    /// The venv's python; throws `Missing` (the test fails with that message) when it is absent.
    static func requirePython() throws -> String {
        guard FileManager.default.isExecutableFile(atPath: python) else { throw Missing(path: python) }
        return python
    }

    /// Runs `scripts/<script>` with `args` in the venv; fails the test on a non-zero exit.
    @discardableResult
    static func script(_ script: String, _ args: [String], file: StaticString = #filePath, line: UInt = #line) throws
        -> String
    {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try requirePython())
        p.arguments = ["-W", "ignore", CLITests.repoRoot + "/scripts/" + script] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let e = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "\(script): \(e)", file: file, line: line)
        return o
    }

    static func tempDir(_ test: XCTestCase) throws -> String {
        let d = NSTemporaryDirectory() + "kdc-litert-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }
}

final class TFLiteOracleTests: XCTestCase {
    static var models: String { TFLiteReaderTests.mlperfDir + "/" }

    /// Structured and seeded random float inputs over [lo, hi]: all lo, all hi, zeros, a ramp, a
    /// checkerboard, then `random` uniform ones.
    static func floatInputs(count n: Int, lo: Float, hi: Float, random: Int, seed: UInt64) -> [[Float]] {
        var rng = SeededRNG(seed: seed)
        var xs: [[Float]] = [
            [Float](repeating: lo, count: n), [Float](repeating: hi, count: n), [Float](repeating: 0, count: n),
            (0..<n).map { lo + (hi - lo) * Float($0) / Float(max(n - 1, 1)) },
            (0..<n).map { $0 % 2 == 0 ? lo : hi },
        ]
        for _ in 0..<random { xs.append((0..<n).map { _ in lo + (hi - lo) * rng.uniform() }) }
        return xs
    }

    /// kdc's float import of `file` evaluated by `Graph.runFloat` against LiteRT's reference
    /// kernels on the same model with its int8 weights dequantized (scripts/litert_float_oracle.py),
    /// op by op: every operator's output tensor (found by name) and the model's outputs must be
    /// within 1e-5 of LiteRT's, relative to the tensor's largest magnitude on that input. Returns
    /// the largest such difference over the model outputs and over all ops.
    func checkFloatModel(_ name: String, lo: Float, hi: Float) throws -> (outputs: Double, ops: Double) {
        let file = TFLiteOracleTests.models + name
        guard FileManager.default.fileExists(atPath: file) else { throw LiteRT.Missing(path: file) }
        let g = try TFLiteFloatImporter.importFile(file)
        let n = g[g.input].count, k = g[g.output].count
        let xs = TFLiteOracleTests.floatInputs(count: n, lo: lo, hi: hi, random: 5, seed: 13)
        let dir = try LiteRT.tempDir(self)
        try writeNPY(dir + "/x.npy", shape: [xs.count] + g.inputShape, values: xs.flatMap { $0 })
        try LiteRT.script(
            "litert_float_oracle.py",
            [file, "--input", dir + "/x.npy", "--output", dir + "/y.npy", "--intermediates", dir + "/ops"])
        let values = xs.map { g.runFloat($0) }
        /// The largest |kdc − LiteRT| / max|LiteRT| over the rows of `want` against tensor `id`.
        func compare(_ want: NPYArray, _ id: Int, _ what: String) -> Double {
            let per = g.tensors[id].count
            XCTAssertEqual(want.count, xs.count * per, "\(name) \(what): LiteRT's shape \(want.shape)")
            guard want.count == xs.count * per else { return .infinity }
            var worst = 0.0
            for r in 0..<xs.count {
                let row = want.values[(r * per)..<((r + 1) * per)]
                let scale = max(row.map { abs(Double($0)) }.max() ?? 0, 1e-30)
                let d = zip(values[r][id], row).map { abs(Double($0) - Double($1)) }.max() ?? 0
                XCTAssertLessThanOrEqual(
                    d / scale, 1e-5, "\(name) \(what) input \(r): |kdc − LiteRT| \(d), largest |LiteRT| \(scale)")
                worst = max(worst, d / scale)
            }
            return worst
        }
        let outputs = compare(try readNPY(dir + "/y.npy"), g.output.index, "outputs")
        XCTAssertEqual(g[g.output].count, k)
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/ops/ops.json")))
        let ops = (info as? [String: Any])?["ops"] as? [[String: Any]] ?? []
        let tensors = (info as? [String: Any])?["tensors"] as? [String: [String: Any]] ?? [:]
        XCTAssertFalse(ops.isEmpty, "\(name): no ops in LiteRT's description")
        var worstOp = 0.0, compared = 0
        for (i, op) in ops.enumerated() {
            guard let out = (op["outputs"] as? [Int])?.first, let tname = tensors["\(out)"]?["name"] as? String,
                let id = g.tensors.firstIndex(where: { $0.name == tname })
            else { continue }
            let want = try readNPY(dir + String(format: "/ops/op_%03d.npy", i))
            worstOp = max(worstOp, compare(want, id, "op \(i) (\(op["op_name"] ?? "?")) '\(tname)'"))
            compared += 1
        }
        // Every operator LiteRT runs is one of kdc's (the DEQUANTIZE-free models here).
        XCTAssertEqual(compared, ops.count, "\(name): ops without a kdc tensor of the same name")
        return (outputs, worstOp)
    }

    /// The float MLPerf Tiny models as kdc teachers: their outputs, and every op's output, equal
    /// LiteRT's within 1e-5 relative on 10 inputs each (keyword spotting: its int8 weights
    /// dequantized on both sides).
    func testFloatTeachersEqualLiteRT() throws {
        let kws = try checkFloatModel("kws_ref_model_float32.tflite", lo: -120, hi: 30)
        let resnet = try checkFloatModel("pretrainedResnet.tflite", lo: 0, hi: 255)
        print(
            String(
                format:
                    "largest |kdc − LiteRT| / largest |LiteRT|: keyword spotting outputs %.2e, ops %.2e; ResNet-8 outputs %.2e, ops %.2e",
                kws.outputs, kws.ops, resnet.outputs, resnet.ops))
    }

    /// kdc's float writer seen by LiteRT: a float graph written by `TFLiteExporter.floatModel`
    /// (every layout and option it writes) gives kdc's float outputs in LiteRT's reference kernels.
    func testFloatExportRunsInLiteRT() throws {
        let g = try TFLiteTeacherTests.floatGraph()
        let dir = try LiteRT.tempDir(self)
        try Data(TFLiteWriter.write(try TFLiteExporter.floatModel(g))).write(to: URL(fileURLWithPath: dir + "/f.tflite"))
        let xs = TFLiteTeacherTests.inputs(g, count: 8, seed: 21)
        try writeNPY(dir + "/x.npy", shape: [xs.count] + g.inputShape, values: xs.flatMap { $0 })
        try LiteRT.script("litert_float_oracle.py", [dir + "/f.tflite", "--input", dir + "/x.npy", "--output", dir + "/y.npy"])
        let want = try readNPY(dir + "/y.npy")
        XCTAssertEqual(want.shape, [xs.count, 5])
        for (r, x) in xs.enumerated() {
            let y = g.predictFloat(x)
            for j in 0..<5 { XCTAssertEqual(y[j], want.values[r * 5 + j], accuracy: 1e-5 * max(y.max()!, 1e-30)) }
        }
    }

    // MARK: export: the same bytes in LiteRT and in kdc's runtime

    /// Runs `inputs` through `kdc run` on `artifact` and through LiteRT's reference kernels on
    /// `tflite`; every output byte must be equal. Returns the outputs (kdc's).
    @discardableResult
    func assertSameBytes(artifact: String, tflite: String, inputs: [[Int8]], shape: [Int], _ what: String) throws -> [Int8] {
        let dir = try LiteRT.tempDir(self)
        let x = dir + "/x.npy"
        try Data(npyBytes(shape: [inputs.count] + shape, int8: inputs.flatMap { $0 })).write(to: URL(fileURLWithPath: x))
        let run = try CLITests.runKDC(["run", artifact, "--input", x, "--output", dir + "/kdc.npy"])
        XCTAssertEqual(run.status, 0, "\(what): kdc run: \(run.err)")
        try LiteRT.script("litert_oracle.py", [tflite, "--input", x, "--output", dir + "/litert.npy"])
        let k = try readNPY(dir + "/kdc.npy"), l = try readNPY(dir + "/litert.npy")
        XCTAssertEqual(k.type, .int8, what)
        XCTAssertEqual(l.type, .int8, what)
        XCTAssertEqual(k.count, l.count, what)
        let differ = zip(k.values, l.values).filter { $0 != $1 }.count
        XCTAssertEqual(differ, 0, "\(what): \(differ) of \(k.count) output bytes differ between kdc's runtime and LiteRT")
        XCTAssertGreaterThan(k.count, 0, what)
        return k.values.map { Int8($0) }
    }

    /// The digits sample's student (its config, fewer epochs, a fixed T and α, no baseline) built with
    /// `export.tflite: true`: LiteRT's reference kernels on `digits.tflite` give the bytes of
    /// `kdc run` on `digits.kdc` on the whole test split, which are the Swift int8 reference's;
    /// `kdc import` of the `.tflite` gives back the artifact byte for byte, and its graph is
    /// the one exported.
    func testDigitsStudentTFLiteGivesTheArtifactsBytes() throws {
        _ = try LiteRT.requirePython()
        var cfg = try KDCConfig.load(
            path: CLITests.repoRoot + "/samples/digits/config.yaml", overrides: ConfigOverrides(epochs: 4))
        cfg.distill.temperature = 4
        cfg.distill.alpha = 0.5
        cfg.distill.compareSeeds = []
        cfg.distill.baseline = false
        cfg.distill.ship = .distilled
        cfg.export.tflite = true
        cfg.export.firmware = nil
        let out = try LiteRT.tempDir(self)
        let r = try Pipeline(config: cfg, outDir: out).build()
        XCTAssertEqual(r.checks.host.mismatches, 0)
        let t = try XCTUnwrap(r.tflite)
        XCTAssertEqual(t.path, out + "/digits.tflite")
        XCTAssertEqual(r.report.artifact?.tflitePath, t.path)
        XCTAssertEqual(r.report.artifact?.tfliteBytes, t.bytes)
        XCTAssertTrue(r.report.outputs?.contains("digits.tflite") ?? false, "\(r.report.outputs ?? [])")
        XCTAssertEqual(r.quantized.graph.arithmetic, .tflite)
        let test = r.distillation.data.test
        let inputs = r.quantized.graph.quantizedInputs(test)
        XCTAssertEqual(inputs.count, 359)
        let got = try assertSameBytes(
            artifact: r.export.artifactPath, tflite: t.path, inputs: inputs, shape: [8, 8, 1], "digits student")
        XCTAssertEqual(got, r.quantized.testOutputs.flatMap { $0 })
        // The round trip: the .tflite imports as the graph exported, and `kdc import` writes the same artifact.
        let back = try TFLiteImporter.importFile(t.path)
        XCTAssertTrue(TFLiteExporter.sameModel(back, r.quantized.graph))
        let imp = try LiteRT.tempDir(self)
        let res = try CLITests.runKDC(["import", t.path, "--out", imp, "--name", "digits"])
        XCTAssertEqual(res.status, 0, res.err)
        XCTAssertEqual(
            FileManager.default.contents(atPath: imp + "/digits.kdc"), FileManager.default.contents(atPath: r.export.artifactPath)
        )
    }

    /// conv 3×3 (ReLU) → max pool → dense, and a graph with every op the export writes (conv,
    /// depthwise ×2 with ReLU6, conv 1×1, ADD with a fused ReLU, max pool, a standalone ReLU6
    /// (kdc's CLAMP → RELU6), average pool SAME, flatten, dense), random weights quantized by
    /// kdc and converted to TFLite arithmetic: LiteRT's reference kernels give the bytes of
    /// kdc's runtime on 8 structured and 40 random inputs; the `.tflite` imports as the graph.
    func testSmallCNNsTFLiteGiveTheArtifactsBytes() throws {
        _ = try LiteRT.requirePython()
        let k3 = Size2(3, 3), s1 = Size2(1, 1), k2 = Size2(2, 2)
        let small = GraphSpec.sequential(
            inputShape: [8, 8, 1],
            [
                .conv2d(filters: 6, kernel: k3, stride: s1, padding: .same), .relu,
                .maxPool2d(pool: k2, stride: k2, padding: .valid),
                .flatten, .dense(units: 10),
            ])
        let every = GraphSpec(
            inputShape: [8, 8, 2],
            nodes: [
                NodeSpec(name: "conv1", op: .conv2d(filters: 4, kernel: k3, stride: s1, padding: .same), inputs: ["input"]),
                NodeSpec(name: "relu1", op: .relu, inputs: ["conv1"]),
                NodeSpec(
                    name: "dw", op: .depthwiseConv2d(kernel: Size2(3, 2), stride: Size2(2, 2), padding: .same, multiplier: 2),
                    inputs: ["relu1"]),
                NodeSpec(name: "relu2", op: .relu6, inputs: ["dw"]),
                NodeSpec(name: "c3", op: .conv2d(filters: 8, kernel: s1, stride: s1, padding: .valid), inputs: ["relu2"]),
                NodeSpec(name: "res", op: .add, inputs: ["relu2", "c3"]),
                NodeSpec(name: "relu3", op: .relu, inputs: ["res"]),
                NodeSpec(name: "mp", op: .maxPool2d(pool: k2, stride: k2, padding: .valid), inputs: ["relu3"]),
                NodeSpec(name: "clamp", op: .relu6, inputs: ["mp"]),
                NodeSpec(name: "ap", op: .avgPool2d(pool: k3, stride: s1, padding: .same), inputs: ["clamp"]),
                NodeSpec(name: "flat", op: .flatten, inputs: ["ap"]),
                NodeSpec(name: "fc", op: .dense(units: 7), inputs: ["flat"]),
            ])
        for (name, spec, seed) in [("small", small, UInt64(3)), ("every op", every, 5)] {
            var rng = SeededRNG(seed: seed)
            let float = ExportFixtures.randomParams(try Graph(spec: spec), &rng)
            let d = ExportFixtures.data(shape: spec.inputShape, count: 100, classes: 5, seed: seed + 100)
            let g = try quantize(float, calibration: d).tfliteArithmetic()
            XCTAssertEqual(g.nodes.map(\.op.kind).contains("clamp"), name == "every op")
            let dir = try LiteRT.tempDir(self)
            let e = try export(g, normalization: .identity, to: dir, name: "m", compress: false)
            let bytes = TFLiteWriter.write(try TFLiteExporter.int8Model(g))
            try Data(bytes).write(to: URL(fileURLWithPath: dir + "/m.tflite"))
            let inputs = ImportStage.checkInputs(g, random: 40, seed: seed)
            let got = try assertSameBytes(
                artifact: e.artifactPath, tflite: dir + "/m.tflite", inputs: inputs, shape: spec.inputShape, name)
            XCTAssertEqual(got, inputs.flatMap { Int8Interpreter().run(g, input: $0) }, name)
            XCTAssertTrue(TFLiteExporter.sameModel(try TFLiteImporter.importFile(dir + "/m.tflite"), g), name)
        }
    }

    /// kdc's writer on models it did not make: the four MLPerf Tiny int8 models imported and
    /// written again (SOFTMAX, QUANTIZE / DEQUANTIZE edges, per-tensor weights made per channel)
    /// give LiteRT's reference kernels the bytes of the original files on 24 inputs each.
    func testMLPerfTinyModelsWrittenAgainComputeTheSameBytes() throws {
        _ = try LiteRT.requirePython()
        for name in ["kws_ref_model.tflite", "pretrainedResnet_quant.tflite", "vww_96_int8.tflite", "ad01_int8.tflite"] {
            let file = TFLiteOracleTests.models + name
            guard FileManager.default.fileExists(atPath: file) else { throw LiteRT.Missing(path: file) }
            let g = try TFLiteImporter.importFile(file)
            let dir = try LiteRT.tempDir(self)
            try Data(TFLiteWriter.write(try TFLiteExporter.int8Model(g))).write(to: URL(fileURLWithPath: dir + "/again.tflite"))
            XCTAssertTrue(TFLiteExporter.sameModel(try TFLiteImporter.importFile(dir + "/again.tflite"), g), name)
            let inputs = ImportStage.checkInputs(g, random: 16, seed: 2)
            if g.floatInput {
                // Float inputs that quantize to the int8 inputs: s·(q − z).
                let q = g.inputQuant
                let xs = inputs.map { $0.map { q.scale * Float(Int32($0) - q.zeroPoint) } }
                try writeNPY(dir + "/x.npy", shape: [xs.count] + g.inputShape, values: xs.flatMap { $0 })
            } else {
                try Data(npyBytes(shape: [inputs.count] + g.inputShape, int8: inputs.flatMap { $0 }))
                    .write(to: URL(fileURLWithPath: dir + "/x.npy"))
            }
            try LiteRT.script("litert_oracle.py", [file, "--input", dir + "/x.npy", "--output", dir + "/a.npy"])
            try LiteRT.script("litert_oracle.py", [dir + "/again.tflite", "--input", dir + "/x.npy", "--output", dir + "/b.npy"])
            let a = try readNPY(dir + "/a.npy"), b = try readNPY(dir + "/b.npy")
            XCTAssertEqual(a.shape, b.shape, name)
            XCTAssertEqual(a.values, b.values, name)
        }
    }
}
