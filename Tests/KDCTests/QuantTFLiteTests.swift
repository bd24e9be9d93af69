import Foundation
import XCTest

@testable import KDC

/// TensorFlow Lite arithmetic (docs/QUANTIZATION.md §8): the Swift reference on golden values
/// computed from the spec in exact integers (`python3 Tests/golden/gen_tflite_golden.py`, whose
/// ADD and SOFTMAX rows were also run through LiteRT 2.3.0's reference kernels), a hand-built
/// graph of every op through the C runtime, and LiteRT itself on the MLPerf Tiny models.
final class QuantTFLiteTests: XCTestCase {
    struct Golden: Decodable {
        struct Add: Decodable {
            var scales: [Float]
            var zero_points: [Int32]
            var params: [Int32]
            var a: [Int8]
            var b: [Int8]
            var y: [Int8]
        }
        struct Softmax: Decodable {
            var scale: Float
            var beta: Float
            var params: [Int32]
            var x: [[Int8]]
            var y: [[Int8]]
        }
        var mbqm: [[Int64]]
        var scale: [[Int64]]
        var add: [Add]
        var softmax: [Softmax]
    }

    static func golden() throws -> Golden {
        let path = CLITests.repoRoot + "/Tests/golden/tflite_golden.json"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path), "\(path) is missing")
        return try JSONDecoder().decode(Golden.self, from: data)
    }

    /// Written-out ties: where TFLite's two roundings, kdc's one and the exact value part ways.
    func testHandCheckedRoundings() {
        let half = Int32(1 << 30)
        // 3·0.5 = 1.5: SRDHM rounds the tie toward +∞ (2), so does kdc (away from zero: 2)
        XCTAssertEqual(TFLiteArithmetic.mbqm(3, half, 0), 2)
        XCTAssertEqual(FixedPoint.requant(3, half, 0), 2)
        // −3·0.5 = −1.5: TFLite −1, kdc −2
        XCTAssertEqual(TFLiteArithmetic.mbqm(-3, half, 0), -1)
        XCTAssertEqual(FixedPoint.requant(-3, half, 0), -2)
        // 5·0.25 = 1.25: SRDHM gives 3 (5·0.5 = 2.5 rounded up), RDBPOT 3/2 = 1.5 → 2; kdc 1
        XCTAssertEqual(TFLiteArithmetic.srdhm(5, half), 3)
        XCTAssertEqual(TFLiteArithmetic.rdbpot(3, 1), 2)
        XCTAssertEqual(TFLiteArithmetic.mbqm(5, half, -1), 2)
        XCTAssertEqual(FixedPoint.requant(5, half, -1), 1)
        // a left shift first: 1000·2^2·0.5 = 2000; one that wraps: 2^29·2^3 = 2^32 ≡ 0
        XCTAssertEqual(TFLiteArithmetic.mbqm(1000, half, 2), 2000)
        XCTAssertEqual(TFLiteArithmetic.mbqm(1 << 29, half, 3), 0)
        XCTAssertEqual(TFLiteArithmetic.srdhm(.min, .min), .max)
        // FULLY_CONNECTED: the binary64 product, ties away from zero
        XCTAssertEqual(TFLiteArithmetic.scaleRound(-3, 0.5), -2)
        XCTAssertEqual(TFLiteArithmetic.scaleRound(5, 0.25), 1)
        XCTAssertEqual(TFLiteArithmetic.scaleRound(.max, 0x1p40), .max)
        XCTAssertEqual(TFLiteArithmetic.scaleRound(.min, 0x1p40), .min)
        // 7·fl(2.5/7) is 2.5 in binary64 though not exactly: rounds to 3 as LiteRT does
        let s = 2.5 / 7.0
        XCTAssertEqual(7 * s, 2.5)
        XCTAssertEqual(TFLiteArithmetic.scaleRound(7, s), 3)
        let w = TFLiteArithmetic.scaleWords(s)
        XCTAssertEqual(TFLiteArithmetic.scale(low: w.low, high: w.high), s)
        XCTAssertTrue(TFLiteArithmetic.scaleIsValid(low: 0, high: 0))
        XCTAssertFalse(TFLiteArithmetic.scaleIsValid(low: 0, high: Int32(bitPattern: 0xbff0_0000)))  // −1
        XCTAssertFalse(TFLiteArithmetic.scaleIsValid(low: 0, high: 0x7ff0_0000))  // +∞
    }

    func testMultiplierGoldenTable() throws {
        let g = try Self.golden()
        XCTAssertGreaterThan(g.mbqm.count, 200)
        for r in g.mbqm {
            XCTAssertEqual(Int64(TFLiteArithmetic.mbqm(Int32(r[0]), Int32(r[1]), Int32(r[2]))), r[3], "mbqm\(r[0..<3])")
        }
    }

    func testFullyConnectedScaleGoldenTable() throws {
        let g = try Self.golden()
        XCTAssertGreaterThan(g.scale.count, 200)
        for r in g.scale {
            let s = TFLiteArithmetic.scale(low: Int32(r[1]), high: Int32(r[2]))
            XCTAssertEqual(Int64(TFLiteArithmetic.scaleRound(Int32(r[0]), s)), r[3], "scaleRound(\(r[0]), \(s))")
        }
    }

    /// ADD's parameters as TFLite derives them, and its outputs, through the interpreter.
    func testAddGolden() throws {
        for c in try Self.golden().add {
            let p = try TFLiteArithmetic.addParams(c.scales[0], c.scales[1], output: c.scales[2])
            XCTAssertEqual(
                [p.input1Multiplier, p.input1Shift, p.input2Multiplier, p.input2Shift, p.outputMultiplier, p.outputShift],
                c.params, "scales \(c.scales)")
            let n = c.a.count
            let t = (0..<3).map {
                GraphTensor(
                    name: "t\($0)", shape: [n], type: .int8, quant: QuantParams(scale: c.scales[$0], zeroPoint: c.zero_points[$0])
                )
            }
            var g = Graph(
                tensors: t, nodes: [GraphNode(name: "add", op: .add, inputs: [TensorID(0), TensorID(1)], output: TensorID(2))],
                input: TensorID(0), output: TensorID(2))
            g.nodes[0].int8 = Int8Params(add: p)
            g.arithmetic = .tflite
            XCTAssertEqual(Int8Interpreter.execute(g.nodes[0], [c.a, c.b], g), c.y, "scales \(c.scales)")
        }
    }

    func testSoftmaxGolden() throws {
        for c in try Self.golden().softmax {
            let p = try TFLiteArithmetic.softmaxParams(beta: c.beta, inputScale: c.scale)
            XCTAssertEqual([p.multiplier, p.leftShift, p.diffMin], c.params, "scale \(c.scale) beta \(c.beta)")
            for (x, y) in zip(c.x, c.y) {
                XCTAssertEqual(TFLiteArithmetic.softmax(x, depth: x.count, p), y, "scale \(c.scale) input \(x)")
            }
        }
    }

    /// The hand-built `.tflite` graph of every op: the C runtime equals the Swift interpreter on
    /// 120 inputs, the artifact carries the TFLite flag, and it reads back to the same graph
    /// arithmetic and outputs.
    func testEveryOpGraphRunsTheSameInTheCRuntime() throws {
        let (g, d) = try TFLiteFixtures.everyOp()
        XCTAssertEqual(
            Set(g.nodes.compactMap { DeviceOp($0.op) }), Set(DeviceOp.allCases).subtracting([.leakyRelu]),
            "every op but LEAKY_RELU (which has no TFLite form)")
        let dir = try ExportFixtures.tempDir("tflite-everyop")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: .identity, to: dir, name: "tfl", compress: true)
        let a = try ArtifactReader.read(path: r.artifactPath)
        XCTAssertEqual(a.flags, Int(ArtifactFormat.flagTFLite))
        XCTAssertEqual(a.graph.arithmetic, .tflite)
        let interp = Int8Interpreter()
        var differ = 0
        for x in g.quantizedInputs(d) where interp.run(a.graph, input: x) != interp.run(g, input: x) { differ += 1 }
        XCTAssertEqual(differ, 0, "the graph read back computes differently")
        // The same weights in kdc arithmetic give other bytes somewhere (the modes differ).
        var kdcMode = g
        kdcMode.arithmetic = .kdc
        kdcMode.nodes[8].int8!.weights!.multipliers = [Int32](repeating: 1 << 30, count: 10)
        kdcMode.nodes[8].int8!.weights!.shifts = [Int32](repeating: -4, count: 10)
        let inputs = g.quantizedInputs(d)
        XCTAssertTrue(inputs.contains { interp.runAll(kdcMode, input: $0)[1] != interp.runAll(g, input: $0)[1] })
        for path in [r.artifactPath, try XCTUnwrap(r.storedArtifactPath)] {
            let c = try hostCheck(path, g, d, repeats: 1)
            XCTAssertEqual(c.samples, 120)
            XCTAssertEqual(c.mismatches, 0, "\(path): first mismatch \(String(describing: c.firstMismatch))")
            XCTAssertEqual(c.macs, g.macs)
        }
    }

    /// Float input and output edges travel in the header and come back.
    func testFloatEdgeFlagsRoundTrip() throws {
        var (g, _) = try TFLiteFixtures.everyOp()
        g.floatInput = true
        g.floatOutput = true
        let plan = try MemoryPlanner.plan(g)
        let bytes = try ArtifactWriter.artifact(g, plan: plan, compress: false)
        XCTAssertEqual(Int(bytes[ArtifactFormat.Header.flags]), 2 | 4 | 8)
        let a = try ArtifactReader.parse(bytes)
        XCTAssertTrue(a.graph.floatInput && a.graph.floatOutput)
        XCTAssertEqual(a.graph.arithmetic, .tflite)
        var bad = bytes
        bad[ArtifactFormat.Header.flags] = 32  // bit 5: unknown (bit 4 is the input stage)
        let crc = kdcCRC32(Array(bad[0..<28]))
        for i in 0..<4 { bad[28 + i] = UInt8((crc >> UInt32(8 * i)) & 0xff) }
        XCTAssertThrowsError(try ArtifactReader.parse(bad)) { e in
            XCTAssertTrue("\(e)".contains("header.flags"), "\(e)")
        }
    }

    /// LiteRT 2.3.0's reference kernels against kdc's TFLite formulas, op by op, on the four
    /// MLPerf Tiny int8 models and the constructed one-op models (scripts/tflite_rounding.py
    /// --check). Needs the project venv (`make venv`, made by `make test`) and the models.
    func testLiteRTReferenceKernelsFollowTheSpec() throws {
        let python = CLITests.repoRoot + "/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw XCTSkip("no project venv (\(python)): run `make venv` to compare with LiteRT")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-W", "ignore", CLITests.repoRoot + "/scripts/tflite_rounding.py", "--check", "--random", "4"]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        XCTAssertTrue(text.contains("equals LiteRT's reference kernels on every op"), text)
    }
}
