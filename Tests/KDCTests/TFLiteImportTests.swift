import Foundation
import KDCTarget
import XCTest
@testable import KDC

/// Importing TensorFlow Lite models into kdc's int8 graph: the MLPerf Tiny int8 models, checked
/// on the host (the C runtime against the Swift int8 interpreter), and the importer's errors.
final class TFLiteImportTests: XCTestCase {
    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "kdc-import-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    /// The graph of an MLPerf Tiny int8 model.
    func imported(_ file: String) throws -> (TFLiteModel, Graph) {
        let m = try TFLiteReaderTests.mlperf(file)
        return (m, try TFLiteImporter.importModel(m, file: file))
    }

    /// Exports `g` and runs `inputs` through the C runtime on the host; every output byte must
    /// equal the Swift int8 interpreter's.
    func assertHostCheckPasses(_ g: Graph, inputs: [[Int8]], _ what: String) throws {
        let dir = try tempDir()
        let e = try export(g, normalization: .identity, to: dir, name: "m", compress: false)
        let expected = inputs.map { Int8Interpreter().run(g, input: $0) }
        let r = try HostCheck.run(artifactPath: e.artifactPath, inputs: inputs, expected: expected, repeats: 1)
        XCTAssertEqual(r.samples, inputs.count, what)
        XCTAssertEqual(r.mismatches, 0, "\(what): first mismatch \(String(describing: r.firstMismatch))")
        XCTAssertEqual(r.macs, g.macs, what)
    }

    func testAnomalyDetectionImportsAndPassesTheHostCheck() throws {
        let (m, g) = try imported("ad01_int8.tflite")
        XCTAssertEqual(g.arithmetic, .tflite)
        XCTAssertFalse(g.floatInput || g.floatOutput)
        XCTAssertEqual(g.nodes.count, 10)
        XCTAssertEqual(g.macs, 264_192)
        XCTAssertEqual(g.inputShape, [640])
        XCTAssertEqual(g.outputShape, [640])
        // Canonical numbering, int8 tensors with the file's quantization.
        for (i, n) in g.nodes.enumerated() { XCTAssertEqual(n.output.index, i + 1) }
        let x = m.subgraphs[0].tensors[Int(m.subgraphs[0].inputs[0])]
        XCTAssertEqual(g.inputQuant.scale, x.quantization?.scale[0])
        XCTAssertEqual(Int64(g.inputQuant.zeroPoint), x.quantization?.zeroPoint[0])
        // First layer: weights [128][640] as in the file, bias and per-channel (M, e) from the scales.
        let w = try XCTUnwrap(g.nodes[0].int8?.weights)
        XCTAssertEqual(w.shape, [128, 640])
        XCTAssertEqual(w.bias.count, 128)
        let wt = m.subgraphs[0].tensors[Int(m.subgraphs[0].operators[0].inputs[1])]
        XCTAssertEqual(w.values, m.buffers[Int(wt.buffer)].data.map { Int8(bitPattern: $0) })
        let s = wt.quantization!.scale
        // FULLY_CONNECTED in TFLite arithmetic: the double S = s_in·s_w/s_out itself, as two words.
        let real = Double(g.inputQuant.scale) * Double(s[0]) / Double(g[g.nodes[0].output].quant!.scale)
        XCTAssertEqual(TFLiteArithmetic.scale(low: w.multipliers[0], high: w.shifts[0]), real)
        try assertHostCheckPasses(g, inputs: ImportStage.checkInputs(g, random: 8, seed: 1), "ad01")
    }

    /// The three convolutional models, SOFTMAX included: structure, MACs and the host check on a
    /// few inputs (the Swift interpreter is slow in debug builds).
    func testConvolutionalModelsImportAndPassTheHostCheck() throws {
        for (file, macs, convs, dws, adds) in [
            ("kws_ref_model.tflite", 2_656_768, 5, 4, 0), ("pretrainedResnet_quant.tflite", 12_501_632, 9, 0, 3),
            ("vww_96_int8.tflite", 7_489_664, 14, 13, 0),
        ] {
            let (_, g) = try imported(file)
            XCTAssertEqual(g.arithmetic, .tflite, file)
            XCTAssertEqual(g.macs, macs, file)
            XCTAssertEqual(g.nodes.filter { if case .conv2d = $0.op { return true } else { return false } }.count, convs, file)
            XCTAssertEqual(
                g.nodes.filter { if case .depthwiseConv2d = $0.op { return true } else { return false } }.count, dws, file)
            XCTAssertEqual(g.nodes.filter { $0.op == .add }.count, adds, file)
            XCTAssertEqual(g.nodes.last?.op, .softmax(beta: 1), file)
            XCTAssertNotNil(g.nodes.last?.int8?.softmax, file)
            XCTAssertEqual(g.outputQuant.scale, 1.0 / 256, file)
            XCTAssertEqual(g.outputQuant.zeroPoint, -128, file)
            let all = ImportStage.checkInputs(g, random: 1, seed: 2)
            let inputs = [all[0], all[3], all[5], all[8]]
            try assertHostCheckPasses(g, inputs: file.hasPrefix("kws") ? inputs : Array(inputs.prefix(2)), file)
        }
    }

    /// The small conv + fully connected model of the reader tests imports and passes the host check.
    func testTinyModelImports() throws {
        let g = try TFLiteImporter.importModel(TFLiteReaderTests.tinyModel(), file: "tiny")
        XCTAssertEqual(g.nodes.map(\.op.kind), ["conv2d", "dense"])
        XCTAssertEqual(g.nodes[0].activation, .relu)
        // RELU on an output with zero point −128: the clamp starts at the zero point.
        XCTAssertEqual(g.nodes[0].int8?.actMin, -128)
        XCTAssertEqual(g.nodes[1].int8?.weights?.bias, [0, 0])  // no bias tensor: zeros
        try assertHostCheckPasses(g, inputs: ImportStage.checkInputs(g, random: 4, seed: 3), "tiny")
    }

    func importError(_ m: TFLiteModel) -> String {
        do {
            _ = try TFLiteImporter.importModel(m, file: "m.tflite")
            return "(no error)"
        } catch {
            return "\(error)"
        }
    }

    func testUnsupportedModelsNameTheOperator() throws {
        var m = TFLiteReaderTests.tinyModel()
        m.subgraphs[0].operators[0].options = .conv2d(
            TFLiteConv2DOptions(padding: .same, strideW: 1, strideH: 1, activation: .relu, dilationW: 2, dilationH: 2))
        XCTAssertEqual(importError(m), "m.tflite: operator 0 (CONV_2D): dilation 2x2; kdc supports dilation 1 only")

        m = TFLiteReaderTests.tinyModel()
        m.subgraphs.append(m.subgraphs[0])
        XCTAssertTrue(importError(m).contains("the model has 2 subgraphs; kdc imports models with exactly one"))

        m = TFLiteReaderTests.tinyModel()
        m.subgraphs[0].tensors[3].type = .int16
        XCTAssertEqual(
            importError(m),
            "m.tflite: output 'conv' is int16; kdc imports int8 activations (int16 activations are not supported)")

        m = TFLiteReaderTests.tinyModel()
        m.operatorCodes[1] = TFLiteOperatorCode(builtin: TFLiteOp.quantize)
        XCTAssertTrue(importError(m).contains("operator 1 (QUANTIZE): QUANTIZE inside the model"), importError(m))

        m = TFLiteReaderTests.tinyModel()
        m.subgraphs[0].operators[0].options = .conv2d(
            TFLiteConv2DOptions(padding: .same, strideW: 1, strideH: 1, activation: .tanh))
        XCTAssertTrue(importError(m).contains("operator 0 (CONV_2D): fused activation tanh is not supported"), importError(m))

        XCTAssertTrue(
            importError(try XCTUnwrap(try? TFLiteReaderTests.mlperf("kws_ref_model_float32.tflite"))).contains(
                "m.tflite: the model input 'input_1' is float32; kdc imports int8 activations (a float model"))

        m = TFLiteReaderTests.tinyModel()
        m.subgraphs[0].tensors[4].quantization?.zeroPoint = [3]
        XCTAssertTrue(importError(m).contains("weights 'fc/w' have a non-zero zero point"), importError(m))
    }

    /// Float edges: a QUANTIZE first and a DEQUANTIZE last become floatInput / floatOutput.
    func testFloatEdges() throws {
        var m = TFLiteReaderTests.tinyModel()
        var sg = m.subgraphs[0]
        sg.tensors.append(TFLiteTensor(shape: [1, 4, 4, 2], type: .float32, name: "x_float"))
        sg.tensors.append(TFLiteTensor(shape: [1, 2], type: .float32, name: "y_float"))
        m.operatorCodes += [TFLiteOperatorCode(builtin: TFLiteOp.quantize), TFLiteOperatorCode(builtin: TFLiteOp.dequantize)]
        sg.operators.insert(TFLiteOperator(opcodeIndex: 2, inputs: [6], outputs: [0]), at: 0)
        sg.operators.append(TFLiteOperator(opcodeIndex: 3, inputs: [5], outputs: [7]))
        sg.inputs = [6]
        sg.outputs = [7]
        m.subgraphs[0] = sg
        let g = try TFLiteImporter.importModel(m, file: "edges")
        XCTAssertTrue(g.floatInput)
        XCTAssertTrue(g.floatOutput)
        XCTAssertEqual(g.nodes.count, 2)
        XCTAssertEqual(g[g.input].name, "input")
        XCTAssertEqual(g[g.output].name, "fc")
    }

    /// `kdc import` end to end on the anomaly-detection model (stored), and on a file that is not a model.
    func testImportCommand() throws {
        let dir = try tempDir()
        let model = TFLiteReaderTests.mlperfDir + "/ad01_int8.tflite"
        XCTAssertTrue(FileManager.default.fileExists(atPath: model), "\(model) is missing")
        let r = try CLITests.runKDC(["import", model, "--out", dir + "/out", "--stored", "--random-inputs", "4", "--quiet"])
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("host check: 12 generated inputs, 0 output bytes differ"), r.out)
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: dir + "/out"))
        XCTAssertEqual(files, ["ad01_int8.kdc", "ad01_int8.h", "ad01_int8.c", "report.html", "report.json"])
        // The page: the import's summary, its arena plan and memory; no training sections.
        let page = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        for id in ["summary", "arena", "resources"] { XCTAssertTrue(page.contains("<section id=\"\(id)\">"), id) }
        XCTAssertFalse(page.contains("<section id=\"curves\">"))
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/report.json")))
        let json = try XCTUnwrap(report as? [String: Any])
        for key in ["artifact", "memory", "runtime", "source", "outputs"] { XCTAssertNotNil(json[key], key) }
        XCTAssertEqual((json["runtime"] as? [String: Any])?["mismatches"] as? Int, 0)
        XCTAssertEqual((json["source"] as? [String: Any])?["macs"] as? Int, 264_192)
        XCTAssertEqual((json["artifact"] as? [String: Any])?["compressed"] as? Bool, false)
        // The artifact reads back as the imported graph's ops.
        let a = try ArtifactReader.read(path: dir + "/out/ad01_int8.kdc")
        XCTAssertEqual(a.graph.nodes.count, 10)

        try Data("not a model".utf8).write(to: URL(fileURLWithPath: dir + "/bad.tflite"))
        let bad = try CLITests.runKDC(["import", dir + "/bad.tflite", "--out", dir + "/bad-out"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("bad.tflite: file identifier is 'a mo'"), bad.err)
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: dir + "/bad-out"), "a failed import must not create its output folder")
        let missing = try CLITests.runKDC(["import", dir + "/none.tflite", "--out", dir + "/bad-out"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("none.tflite: cannot read the model file"), missing.err)
    }

    /// An int8 NPY file (`|i1`) of `shape`, as np.save writes it.
    static func npyInt8(_ values: [Int8], shape: [Int]) -> [UInt8] {
        npyFile(descr: "|i1", shape: shape, payload: values.map { UInt8(bitPattern: $0) })
    }

    /// The int8 payload of an NPY 1.0 file np.save wrote (`|i1`), split into rows of `row` values.
    static func readNPYInt8(_ path: String, row: Int) throws -> [[Int8]] {
        let b = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        guard b.count >= 10, b[0] == 0x93 else { throw KDCError.data(file: path, message: "not an NPY file") }
        let start = 10 + Int(b[8]) + Int(b[9]) << 8
        let header = String(decoding: b[10..<start], as: UTF8.self)
        guard header.contains("'|i1'") else { throw KDCError.data(file: path, message: "not int8: \(header)") }
        let values = b[start...].map { Int8(bitPattern: $0) }
        return stride(from: 0, to: values.count, by: row).map { Array(values[$0..<min($0 + row, values.count)]) }
    }

    /// The four MLPerf Tiny int8 models, imported: the C runtime's outputs equal LiteRT 2.3.0's
    /// reference kernels (`scripts/litert_oracle.py`, `BUILTIN_REF`) on 100 generated inputs each
    /// (the 8 structured ones and 92 random), byte for byte. Needs the project venv (`make venv`).
    func testImportedModelsEqualLiteRTReferenceKernels() throws {
        let python = CLITests.repoRoot + "/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw XCTSkip("no project venv (\(python)): run `make venv` to compare with LiteRT")
        }
        for file in ["kws_ref_model.tflite", "pretrainedResnet_quant.tflite", "vww_96_int8.tflite", "ad01_int8.tflite"] {
            let (_, g) = try imported(file)
            let dir = try tempDir()
            let e = try export(g, normalization: .identity, to: dir, name: "m", compress: false)
            let inputs = ImportStage.checkInputs(g, random: 92, seed: 13)
            XCTAssertEqual(inputs.count, 100)
            try Data(Self.npyInt8(inputs.flatMap { $0 }, shape: [inputs.count] + g.inputShape))
                .write(to: URL(fileURLWithPath: dir + "/in.npy"))
            let p = Process()
            p.executableURL = URL(fileURLWithPath: python)
            p.arguments = [
                "-W", "ignore", CLITests.repoRoot + "/scripts/litert_oracle.py", TFLiteReaderTests.mlperfDir + "/" + file,
                "--input", dir + "/in.npy", "--output", dir + "/out.npy",
            ]
            let err = Pipe()
            p.standardError = err
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "\(file): litert_oracle failed: \(errText)")
            let expected = try Self.readNPYInt8(dir + "/out.npy", row: g[g.output].count)
            XCTAssertEqual(expected.count, inputs.count, file)
            let r = try HostCheck.run(artifactPath: e.artifactPath, inputs: inputs, expected: expected, repeats: 1)
            XCTAssertEqual(r.mismatches, 0, "\(file): the C runtime differs from LiteRT: \(String(describing: r.firstMismatch))")
            // The Swift interpreter agrees too, on the first structured inputs (slow in debug builds).
            for k in 0..<2 { XCTAssertEqual(Int8Interpreter().run(g, input: inputs[k]), expected[k], "\(file) input \(k)") }
        }
    }
}
