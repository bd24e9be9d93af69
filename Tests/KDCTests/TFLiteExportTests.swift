import Foundation
import XCTest

@testable import KDC

/// Writing kdc's int8 student as a `.tflite` (`export.tflite`): the conversion to TFLite
/// arithmetic, the writer's round trip through kdc's importer, its refusals and the config
/// check. LiteRT's bytes are compared in `TFLiteOracleTests`.
final class TFLiteExportTests: XCTestCase {
    /// A kdc-quantized CNN without GLOBAL_AVERAGE_POOL: conv (ReLU) → depthwise (ReLU6) → 1×1
    /// conv → ADD (ReLU) → max pool → CLAMP (ReLU6) → average pool → flatten → dense.
    static func cnn(seed: UInt64 = 6) throws -> (Graph, Dataset) {
        let k3 = Size2(3, 3), s1 = Size2(1, 1), k2 = Size2(2, 2)
        let spec = GraphSpec(
            inputShape: [8, 8, 2],
            nodes: [
                NodeSpec(name: "conv1", op: .conv2d(filters: 4, kernel: k3, stride: s1, padding: .same), inputs: ["input"]),
                NodeSpec(name: "relu1", op: .relu, inputs: ["conv1"]),
                NodeSpec(
                    name: "dw", op: .depthwiseConv2d(kernel: k3, stride: Size2(2, 2), padding: .same, multiplier: 2),
                    inputs: ["relu1"]),
                NodeSpec(name: "relu2", op: .relu6, inputs: ["dw"]),
                NodeSpec(name: "c3", op: .conv2d(filters: 8, kernel: s1, stride: s1, padding: .valid), inputs: ["relu2"]),
                NodeSpec(name: "res", op: .add, inputs: ["relu2", "c3"]),
                NodeSpec(name: "relu3", op: .relu, inputs: ["res"]),
                NodeSpec(name: "mp", op: .maxPool2d(pool: k2, stride: k2, padding: .valid), inputs: ["relu3"]),
                NodeSpec(name: "clamp", op: .relu6, inputs: ["mp"]),
                NodeSpec(name: "ap", op: .avgPool2d(pool: k3, stride: s1, padding: .same), inputs: ["clamp"]),
                NodeSpec(name: "flat", op: .flatten, inputs: ["ap"]),
                NodeSpec(name: "fc", op: .dense(units: 5), inputs: ["flat"]),
            ])
        var rng = SeededRNG(seed: seed)
        let float = ExportFixtures.randomParams(try Graph(spec: spec), &rng)
        let d = ExportFixtures.data(shape: [8, 8, 2], count: 120, classes: 5, seed: seed + 100)
        return (try quantize(float, calibration: d.subset(Array(0..<100))), d)
    }

    /// TFLite arithmetic keeps every scale, zero point, weight and bias; conv and depthwise keep
    /// kdc's (M, e) (the same double expression), dense gets LiteRT's double scale, ReLU6 bounds
    /// are z + round(6/s) with the quotient in float32, and the flag is set.
    func testTFLiteArithmeticConversion() throws {
        let (g, _) = try Self.cnn()
        let t = try g.tfliteArithmetic()
        XCTAssertEqual(g.arithmetic, .kdc)
        XCTAssertEqual(t.arithmetic, .tflite)
        XCTAssertEqual(t.tensors, g.tensors)
        XCTAssertEqual(t.nodes.map(\.op), g.nodes.map(\.op))
        for (a, b) in zip(g.nodes, t.nodes) {
            let wa = a.int8?.weights, wb = b.int8?.weights
            XCTAssertEqual(wa?.values, wb?.values, a.name)
            XCTAssertEqual(wa?.bias, wb?.bias, a.name)
            XCTAssertEqual(wa?.scales, wb?.scales, a.name)
            let sIn = g[a.inputs[0]].quant!.scale, q = g[a.output].quant!
            switch a.op {
            case .conv2d, .depthwiseConv2d:
                XCTAssertEqual(wa?.multipliers, wb?.multipliers, a.name)
                XCTAssertEqual(wa?.shifts, wb?.shifts, a.name)
            case .dense:
                let w = try XCTUnwrap(wb)
                for c in w.bias.indices {
                    let s = TFLiteArithmetic.scale(low: w.multipliers[c], high: w.shifts[c])
                    XCTAssertEqual(s, Double(sIn) * Double(w.scales[c]) / Double(q.scale), a.name)
                }
            case .add:
                XCTAssertEqual(b.int8?.add, try TFLiteArithmetic.addParams(sIn, g[a.inputs[1]].quant!.scale, output: q.scale))
            default: break
            }
            if a.activation == .relu6 {
                XCTAssertEqual(b.int8?.actMax, min(127, q.zeroPoint + Int32((6 / q.scale).rounded())), a.name)
            }
        }
        XCTAssertEqual(t.nodes.filter { $0.op == .clamp }.count, 1)
    }

    /// `.tflite` bytes of the converted graph, read back and imported by `TFLiteImporter` (what
    /// `kdc import` runs), are the same graph: same ops, tensors, quantization and parameters.
    func testInt8ExportRoundTripsThroughTheImporter() throws {
        let (g, d) = try Self.cnn()
        let t = try g.tfliteArithmetic()
        let m = try TFLiteExporter.int8Model(t)
        XCTAssertEqual(
            m.operatorCodes.map { "\($0.name) v\($0.version)" },
            [
                "CONV_2D v3", "DEPTHWISE_CONV_2D v3", "ADD v2", "MAX_POOL_2D v2", "RELU6 v2", "AVERAGE_POOL_2D v2", "RESHAPE v1",
                "FULLY_CONNECTED v4",
            ])
        let sg = m.subgraphs[0]
        let dwWeights = sg.tensors[Int(sg.operators[1].inputs[1])]
        XCTAssertEqual(dwWeights.shape, [1, 3, 3, 8])
        XCTAssertEqual(dwWeights.quantization?.quantizedDimension, 3)
        XCTAssertEqual(sg.tensors[Int(sg.operators[1].inputs[2])].type, .int32)
        let back = try TFLiteImporter.importModel(TFLiteReader.read(bytes: TFLiteWriter.write(m), file: "m"), file: "m")
        XCTAssertTrue(TFLiteExporter.sameModel(back, t))
        XCTAssertEqual(back.tensors.map(\.name), t.tensors.map(\.name))
        for i in 0..<8 {
            let x = t.quantizeInput(Array(d.x[(i * 128)..<((i + 1) * 128)]))
            XCTAssertEqual(Int8Interpreter().run(back, input: x), Int8Interpreter().run(t, input: x))
        }
        // A float input and output edge: QUANTIZE first, DEQUANTIZE last.
        var f = t
        f.floatInput = true
        f.floatOutput = true
        let mf = try TFLiteExporter.int8Model(f)
        XCTAssertEqual(mf.operatorCodes.first?.name, "QUANTIZE")
        XCTAssertEqual(mf.opcode(of: mf.subgraphs[0].operators.last!), TFLiteOp.dequantize)
        let backF = try TFLiteImporter.importModel(mf, file: "f")
        XCTAssertTrue(backF.floatInput && backF.floatOutput)
        XCTAssertTrue(TFLiteExporter.sameModel(backF, f))
    }

    /// What the writer refuses: kdc arithmetic, a multiplier LiteRT would not derive, clamp
    /// bounds it would not derive, GLOBAL_AVERAGE_POOL and LEAKY_RELU (no TFLite op with kdc's
    /// arithmetic).
    func testInt8ExportRefusals() throws {
        let (g, _) = try Self.cnn()
        XCTAssertThrowsError(try TFLiteExporter.int8Model(g)) { e in
            XCTAssertTrue("\(e)".contains("follows kdc's arithmetic"), "\(e)")
        }
        var t = try g.tfliteArithmetic()
        t.nodes[0].int8!.weights!.multipliers[2] += 1
        XCTAssertThrowsError(try TFLiteExporter.int8Model(t)) { e in
            XCTAssertTrue("\(e)".hasPrefix("layer 'conv1': channel 2's multiplier differ from what TFLite derives"), "\(e)")
        }
        t = try g.tfliteArithmetic()
        t.nodes[1].int8!.actMax -= 1
        XCTAssertThrowsError(try TFLiteExporter.int8Model(t)) { e in
            XCTAssertTrue("\(e)".hasPrefix("layer 'dw': output clamp"), "\(e)")
        }
        let (withGAP, _) = try ExportFixtures.cnn()
        XCTAssertThrowsError(try withGAP.tfliteArithmetic()) { e in
            XCTAssertTrue("\(e)".hasPrefix("layer 'gap': global_avg_pool has no TFLite op"), "\(e)")
        }
        let (withLeaky, _) = try ExportFixtures.everyOp()
        XCTAssertThrowsError(try withLeaky.tfliteArithmetic()) { e in
            XCTAssertTrue("\(e)".contains("leaky_relu"), "\(e)")
        }
    }

    /// `export.tflite`: a boolean, false by default, in the effective config; a student with a
    /// layer TFLite cannot compute as kdc is an error at config time naming the layer and op.
    func testConfigKey() throws {
        func parse(_ student: String, _ export: String) throws -> KDCConfig {
            try KDCConfig.parse(
                """
                data: {format: csv, file: d.csv, shape: [8, 8, 1], classes: 10}
                teacher: {checkpoint: t.safetensors}
                student:
                  layers: \(student)
                export: \(export)
                """, file: "/cfg/c.yaml", baseDirectory: "/cfg")
        }
        let mlp = "[flatten, {op: dense, units: 10}]"
        XCTAssertFalse(try parse(mlp, "{name: m}").export.tflite)
        let c = try parse(mlp, "{tflite: true}")
        XCTAssertTrue(c.export.tflite)
        XCTAssertTrue(c.yaml().contains("  tflite: true\n"), c.yaml())
        XCTAssertThrowsError(try parse(mlp, "{tflite: 3}")) { e in
            XCTAssertTrue("\(e)".hasPrefix("/cfg/c.yaml: export.tflite: "), "\(e)")
        }
        let gap = "[{op: conv2d, filters: 4, kernel: 3}, global_avg_pool, {op: dense, units: 10}]"
        XCTAssertNoThrow(try parse(gap, "{tflite: false}"))
        XCTAssertThrowsError(try parse(gap, "{tflite: true}")) { e in
            XCTAssertTrue(
                "\(e)".hasPrefix(
                    "/cfg/c.yaml: student.layers[1]: global_avg_pool ('global_avg_pool1') has no TensorFlow Lite op"),
                "\(e)")
            XCTAssertTrue("\(e)".contains("hint: use {op: avg_pool2d, pool: [H, W]} then flatten"), "\(e)")
        }
        XCTAssertThrowsError(try parse("[flatten, {op: leaky_relu, alpha: 0.1}, {op: dense, units: 10}]", "{tflite: true}")) {
            e in
            XCTAssertTrue("\(e)".hasPrefix("/cfg/c.yaml: student.layers[1]: leaky_relu"), "\(e)")
        }
    }

    /// `report.json` → `artifact` has `tflite_path` and `tflite_bytes`, null without the export.
    func testReportKeys() throws {
        var a = ArtifactSection(
            path: "o/m.kdc", bytes: 10, rawBytes: 12, sha256: "00", compressed: true, storedPath: nil, cHeader: "o/m.h",
            cSource: "o/m.c")
        var r = BuildReport(config: "c.yaml", seed: 0)
        r.artifact = a
        var json = String(decoding: try r.json(), as: UTF8.self)
        XCTAssertTrue(json.contains("\"tflite_path\" : null"), json)
        XCTAssertTrue(json.contains("\"tflite_bytes\" : null"), json)
        a.tflitePath = "o/m.tflite"
        a.tfliteBytes = 99
        r.artifact = a
        json = String(decoding: try r.json(), as: UTF8.self)
        XCTAssertTrue(json.contains("\"tflite_path\" : \"o/m.tflite\""), json)
        XCTAssertTrue(json.contains("\"tflite_bytes\" : 99"), json)
    }
}
