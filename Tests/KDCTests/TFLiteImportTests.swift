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
        let real = Double(g.inputQuant.scale) * Double(s.count == 1 ? s[0] : s[0]) / Double(g[g.nodes[0].output].quant!.scale)
        XCTAssertEqual(FixedPoint.decode(w.multipliers[0], w.shifts[0]), real, accuracy: real * 1e-9)
        try assertHostCheckPasses(g, inputs: ImportStage.checkInputs(g, random: 8, seed: 1), "ad01")
    }

    /// The three convolutional models up to their last layer before SOFTMAX (which imports once the
    /// TFLite arithmetic has it): structure, MACs and the host check on a few inputs (the Swift
    /// interpreter is slow in debug builds).
    func testConvolutionalModelsImportUpToSoftmax() throws {
        for (file, macs, convs, dws, adds) in [
            ("kws_ref_model.tflite", 2_656_768, 5, 4, 0), ("pretrainedResnet_quant.tflite", 12_501_632, 9, 0, 3),
            ("vww_96_int8.tflite", 7_489_664, 14, 13, 0),
        ] {
            var m = try TFLiteReaderTests.mlperf(file)
            let last = try XCTUnwrap(m.subgraphs[0].operators.popLast())
            XCTAssertEqual(m.opcode(of: last), TFLiteOp.softmax, file)
            m.subgraphs[0].outputs = [last.inputs[0]]
            let g = try TFLiteImporter.importModel(m, file: file)
            XCTAssertEqual(g.macs, macs, file)
            XCTAssertEqual(g.nodes.filter { if case .conv2d = $0.op { return true } else { return false } }.count, convs, file)
            XCTAssertEqual(
                g.nodes.filter { if case .depthwiseConv2d = $0.op { return true } else { return false } }.count, dws, file)
            XCTAssertEqual(g.nodes.filter { $0.op == .add }.count, adds, file)
            let inputs = Array(
                ImportStage.checkInputs(g, random: 1, seed: 2).enumerated().filter { [0, 3, 5, 8].contains($0.offset) }.map(
                    \.element))
            try assertHostCheckPasses(g, inputs: file.hasPrefix("kws") ? inputs : Array(inputs.prefix(2)), file)
        }
    }
}
