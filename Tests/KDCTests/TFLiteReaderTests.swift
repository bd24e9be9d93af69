import Foundation
import XCTest
@testable import KDC

/// The TensorFlow Lite reader and writer on the six MLPerf Tiny files (../shared/models/mlperf-tiny,
/// whose README the facts below come from) and on malformed files.
final class TFLiteReaderTests: XCTestCase {
    /// The MLPerf Tiny folder: $KDC_MLPERF_TINY, else ../shared/models/mlperf-tiny beside the repository.
    static var mlperfDir: String {
        ProcessInfo.processInfo.environment["KDC_MLPERF_TINY"] ?? CLITests.repoRoot + "/../shared/models/mlperf-tiny"
    }

    /// Reads one of the MLPerf Tiny files; a missing file fails the test (it is not skipped).
    static func mlperf(_ name: String) throws -> TFLiteModel {
        let path = mlperfDir + "/" + name
        guard FileManager.default.fileExists(atPath: path) else {
            XCTFail(
                "\(path) is missing: the MLPerf Tiny models are expected in ../shared/models/mlperf-tiny (or $KDC_MLPERF_TINY)")
            throw KDCError.io(path: path, message: "missing")
        }
        return try TFLiteReader.read(path: path)
    }

    struct Facts {
        var file: String
        var input: (TFLiteTensorType, [Int32]), output: (TFLiteTensorType, [Int32])
        /// Input scale and zero point (int8 models).
        var inputQuant: (Float, Int64)?
        var ops: [String: Int]
        var macs: Int
    }

    // The README's table.
    static let facts: [Facts] = [
        Facts(
            file: "kws_ref_model.tflite", input: (.int8, [1, 49, 10, 1]), output: (.int8, [1, 12]), inputQuant: (0.5847, 83),
            ops: ["CONV_2D": 5, "DEPTHWISE_CONV_2D": 4, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1],
            macs: 2_656_768),
        Facts(
            file: "kws_ref_model_float32.tflite", input: (.float32, [1, 49, 10, 1]), output: (.float32, [1, 12]), inputQuant: nil,
            ops: ["CONV_2D": 5, "DEPTHWISE_CONV_2D": 4, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1],
            macs: 2_656_768),
        Facts(
            file: "pretrainedResnet_quant.tflite", input: (.int8, [1, 32, 32, 3]), output: (.int8, [1, 10]),
            inputQuant: (1.0, -128),
            ops: ["CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1],
            macs: 12_501_632),
        Facts(
            file: "pretrainedResnet.tflite", input: (.float32, [1, 32, 32, 3]), output: (.float32, [1, 10]), inputQuant: nil,
            ops: ["CONV_2D": 9, "ADD": 3, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1],
            macs: 12_501_632),
        Facts(
            file: "vww_96_int8.tflite", input: (.int8, [1, 96, 96, 3]), output: (.int8, [1, 2]), inputQuant: (1.0 / 255, -128),
            ops: [
                "CONV_2D": 14, "DEPTHWISE_CONV_2D": 13, "AVERAGE_POOL_2D": 1, "RESHAPE": 1, "FULLY_CONNECTED": 1, "SOFTMAX": 1,
            ],
            macs: 7_489_664),
        Facts(
            file: "ad01_int8.tflite", input: (.int8, [1, 640]), output: (.int8, [1, 640]), inputQuant: (0.3910, 89),
            ops: ["FULLY_CONNECTED": 10], macs: 264_192),
    ]

    /// MACs from the shapes, as the README counts them: conv = output elements × kh × kw × cin
    /// (weights OHWI), depthwise = output elements × kh × kw, fully connected = outputs × inputs.
    static func macs(_ m: TFLiteModel) -> Int {
        let g = m.subgraphs[0]
        var total = 0
        for op in g.operators {
            let out = g.tensors[Int(op.outputs[0])].count
            switch m.opcode(of: op) {
            case TFLiteOp.conv2d:
                let w = g.tensors[Int(op.inputs[1])].shape
                total += out * Int(w[1] * w[2] * w[3])
            case TFLiteOp.depthwiseConv2d:
                let w = g.tensors[Int(op.inputs[1])].shape
                total += out * Int(w[1] * w[2])
            case TFLiteOp.fullyConnected:
                total += out * Int(g.tensors[Int(op.inputs[1])].shape[1])
            default: break
            }
        }
        return total
    }

    func testMLPerfTinyFilesMatchTheirREADME() throws {
        for f in Self.facts {
            let m = try Self.mlperf(f.file)
            XCTAssertEqual(m.version, 3, f.file)
            XCTAssertEqual(m.subgraphs.count, 1, f.file)
            let g = m.subgraphs[0]
            XCTAssertEqual(g.inputs.count, 1, f.file)
            XCTAssertEqual(g.outputs.count, 1, f.file)
            let x = g.tensors[Int(g.inputs[0])], y = g.tensors[Int(g.outputs[0])]
            XCTAssertEqual(x.type, f.input.0, f.file)
            XCTAssertEqual(x.shape, f.input.1, f.file)
            XCTAssertEqual(y.type, f.output.0, f.file)
            XCTAssertEqual(y.shape, f.output.1, f.file)
            if let (s, z) = f.inputQuant {
                let q = try XCTUnwrap(x.quantization, f.file)
                XCTAssertEqual(q.scale.count, 1, f.file)
                XCTAssertEqual(q.scale[0], s, accuracy: 5e-5, f.file)
                XCTAssertEqual(q.zeroPoint, [z], f.file)
            } else {
                XCTAssertTrue(x.quantization?.scale.isEmpty ?? true, f.file)
            }
            var ops: [String: Int] = [:]
            for op in g.operators { ops[m.operatorCodes[Int(op.opcodeIndex)].name, default: 0] += 1 }
            XCTAssertEqual(ops, f.ops, f.file)
            XCTAssertEqual(Self.macs(m), f.macs, f.file)
            // Every constant tensor's buffer has the bytes its type and shape need (the reader checks it).
            for t in g.tensors where !m.buffers[Int(t.buffer)].data.isEmpty {
                XCTAssertEqual(m.buffers[Int(t.buffer)].data.count, t.count * (t.type.byteWidth ?? 0), "\(f.file) \(t.name)")
            }
        }
    }

    func testOptionsOfTheKeywordSpottingModel() throws {
        let m = try Self.mlperf("kws_ref_model.tflite")
        let g = m.subgraphs[0]
        guard case let .conv2d(c) = g.operators[0].options else { return XCTFail("operator 0: \(g.operators[0].options)") }
        XCTAssertEqual(c.strideH, 2)
        XCTAssertEqual(c.strideW, 2)
        XCTAssertEqual(c.activation, .relu)
        XCTAssertEqual(c.dilationH, 1)
        let dw = g.operators.compactMap { op -> TFLiteDepthwiseConv2DOptions? in
            if case let .depthwiseConv2d(o) = op.options { return o }
            return nil
        }
        XCTAssertEqual(dw.count, 4)
        XCTAssertTrue(dw.allSatisfy { $0.depthMultiplier == 1 && $0.padding == .same && $0.activation == .relu })
        // Per-channel weights: one scale per output channel, along dimension 0 (conv OHWI) or 3 (depthwise).
        let w = g.tensors[Int(g.operators[0].inputs[1])]
        XCTAssertEqual(w.quantization?.scale.count, Int(w.shape[0]))
        XCTAssertEqual(w.quantization?.quantizedDimension, 0)
        let softmax = try XCTUnwrap(g.operators.last)
        XCTAssertEqual(softmax.options, .softmax(beta: 1))
        XCTAssertEqual(m.operatorCodes[Int(softmax.opcodeIndex)].code, TFLiteOp.softmax)
    }

    func testEffectiveOpcodeIsTheLargerField() {
        // Files before schema 3a: only the byte field; after: both, the byte one capped at 127.
        XCTAssertEqual(TFLiteOperatorCode(deprecatedBuiltinCode: 3, builtinCode: 0).code, 3)
        XCTAssertEqual(TFLiteOperatorCode(deprecatedBuiltinCode: 127, builtinCode: 150).code, 150)
        XCTAssertEqual(TFLiteOperatorCode(deprecatedBuiltinCode: 127, builtinCode: 150).name, "GELU")
        XCTAssertEqual(TFLiteOperatorCode(builtin: 114).name, "QUANTIZE")
        XCTAssertEqual(TFLiteOp.name(9999), "BUILTIN_OP_9999")
    }

    // MARK: - Writer

    func testWriteThenReadGivesTheModelBackForEveryMLPerfFile() throws {
        for f in Self.facts {
            let m = try Self.mlperf(f.file)
            let bytes = TFLiteWriter.write(m)
            XCTAssertEqual(Array(bytes[4..<8]), Array("TFL3".utf8), f.file)
            let back = try TFLiteReader.read(bytes: bytes, file: f.file + " (written)")
            XCTAssertEqual(back, m, f.file)
            XCTAssertEqual(TFLiteWriter.write(back), bytes, "\(f.file): the writer is not deterministic")
            // Within a few percent of the converter's size (same content, different padding).
            let original = try Data(contentsOf: URL(fileURLWithPath: Self.mlperfDir + "/" + f.file)).count
            XCTAssertLessThan(abs(bytes.count - original), original / 10 + 4096, f.file)
        }
    }

    /// The builder aligns every scalar to its size from the start of the file, as FlatBuffers'
    /// verifier (which LiteRT runs) requires: checked on buffer data (16) and 8-byte zero points.
    func testWriterAlignsScalarsAndBufferData() throws {
        let bytes = TFLiteWriter.write(Self.tinyModel())
        let r = FlatBufferReader(bytes: bytes, file: "tiny")
        let root = try r.root(identifier: "TFL3")
        XCTAssertEqual(root.pos % 4, 0)
        let buffers = try XCTUnwrap(root.tables(4, "buffers") { _, t in try t.vector(0, "data", width: 1) })
        for case let v? in buffers { XCTAssertEqual(v.start % 16, 0) }
        let zp = try XCTUnwrap(
            root.tables(2, "subgraphs") { _, sg in
                try sg.tables(0, "tensors") { _, t in try t.table(4, "quantization")?.vector(3, "zero_point", width: 8) }
            })
        for case let v? in zp.flatMap({ $0 ?? [] }) { XCTAssertEqual(v.start % 8, 0) }
    }

    // MARK: - Malformed files

    /// A two-operator int8 model: conv 3x3 (per-channel weights) on [1,4,4,2], then a fully connected layer.
    static func tinyModel(
        weights: [UInt8] = [UInt8](repeating: 1, count: 54), inputShape: [Int32] = [1, 4, 4, 2],
        weightScales: [Float] = [0.1, 0.2, 0.3]
    ) -> TFLiteModel {
        let q = { (s: Float, z: Int64) in TFLiteQuantization(scale: [s], zeroPoint: [z]) }
        let tensors = [
            TFLiteTensor(shape: inputShape, type: .int8, name: "input", quantization: q(0.5, -1)),
            TFLiteTensor(
                shape: [3, 3, 3, 2], type: .int8, buffer: 1, name: "conv/w",
                quantization: TFLiteQuantization(scale: weightScales, zeroPoint: weightScales.map { _ in 0 })),
            TFLiteTensor(
                shape: [3], type: .int32, buffer: 2, name: "conv/b",
                quantization: TFLiteQuantization(scale: [0.05, 0.1, 0.15], zeroPoint: [0, 0, 0])),
            TFLiteTensor(shape: [1, 4, 4, 3], type: .int8, name: "conv", quantization: q(0.25, -128)),
            TFLiteTensor(shape: [2, 48], type: .int8, buffer: 3, name: "fc/w", quantization: q(0.01, 0)),
            TFLiteTensor(shape: [1, 2], type: .int8, name: "fc", quantization: q(0.125, 3)),
        ]
        let ops = [
            TFLiteOperator(
                opcodeIndex: 0, inputs: [0, 1, 2], outputs: [3],
                options: .conv2d(TFLiteConv2DOptions(padding: .same, strideW: 1, strideH: 1, activation: .relu))),
            TFLiteOperator(
                opcodeIndex: 1, inputs: [3, 4, -1], outputs: [5],
                options: .fullyConnected(TFLiteFullyConnectedOptions(activation: .none))),
        ]
        return TFLiteModel(
            operatorCodes: [
                TFLiteOperatorCode(builtin: TFLiteOp.conv2d, version: 3), TFLiteOperatorCode(builtin: TFLiteOp.fullyConnected),
            ],
            subgraphs: [TFLiteSubGraph(tensors: tensors, inputs: [0], outputs: [5], operators: ops, name: "main")],
            description: "kdc test model",
            buffers: [
                TFLiteBuffer(), TFLiteBuffer(weights), TFLiteBuffer([UInt8](repeating: 0, count: 12)),
                TFLiteBuffer([UInt8](repeating: 2, count: 96)),
            ])
    }

    /// The message reading `bytes` gives.
    func message(_ bytes: [UInt8]) -> String {
        do {
            _ = try TFLiteReader.read(bytes: bytes, file: "bad.tflite")
            return "(no error)"
        } catch {
            return "\(error)"
        }
    }

    func assertMessage(_ bytes: [UInt8], _ parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        let m = message(bytes)
        for p in parts { XCTAssertTrue(m.contains(p), "'\(p)' not in: \(m)", file: file, line: line) }
        XCTAssertTrue(m.hasPrefix("bad.tflite: "), m, file: file, line: line)
    }

    func testTinyModelRoundTrips() throws {
        let m = Self.tinyModel()
        XCTAssertEqual(try TFLiteReader.read(bytes: TFLiteWriter.write(m), file: "tiny"), m)
    }

    func testTruncatedFiles() throws {
        let good = TFLiteWriter.write(Self.tinyModel())
        assertMessage(Array(good.prefix(6)), ["file is 6 bytes, too short for a FlatBuffers header"])
        // Cut anywhere: always an error, never a trap, and it names the file.
        for n in stride(from: 8, to: good.count, by: 7) {
            let m = message(Array(good.prefix(n)))
            XCTAssertTrue(m.hasPrefix("bad.tflite: "), "cut at \(n): \(m)")
        }
        assertMessage(Array(good.prefix(good.count / 2)), ["points past the end (file is \(good.count / 2) bytes)"])
    }

    func testOffsetsPastTheEnd() throws {
        var b = TFLiteWriter.write(Self.tinyModel())
        b.replaceSubrange(0..<4, with: le32(0x7fff_fff0))
        assertMessage(b, ["model: table at offset 2147483632 (4 bytes) points past the end (file is \(b.count) bytes)"])
    }

    func testVtableOutside() throws {
        var b = TFLiteWriter.write(Self.tinyModel())
        let root = Int(FlatBufferReader(bytes: b, file: "").u32(0))
        b.replaceSubrange(root..<(root + 4), with: le32(UInt32(root + 1000)))
        assertMessage(b, ["model: vtable at offset -1000 points outside the file (file is \(b.count) bytes)"])
    }

    func testWrongIdentifier() {
        var b = TFLiteWriter.write(Self.tinyModel())
        b.replaceSubrange(4..<8, with: Array("TFL2".utf8))
        assertMessage(b, ["file identifier is 'TFL2'", "expected 'TFL3'"])
    }

    func testBufferTooShortForItsTensor() {
        let b = TFLiteWriter.write(Self.tinyModel(weights: [UInt8](repeating: 1, count: 50)))
        assertMessage(b, ["model.subgraphs[0].tensors[1] 'conv/w': buffer 1 holds 50 bytes, int8 [3, 3, 3, 2] needs 54"])
    }

    func testNegativeDimension() {
        let b = TFLiteWriter.write(Self.tinyModel(inputShape: [1, -4, 4, 2]))
        assertMessage(b, ["model.subgraphs[0].tensors[0] 'input'.shape: dimension 1 is -4 in [1, -4, 4, 2]"])
    }

    func testPerChannelScaleCountMismatch() {
        let b = TFLiteWriter.write(Self.tinyModel(weightScales: [0.1, 0.2]))
        assertMessage(
            b, ["model.subgraphs[0].tensors[1] 'conv/w'.quantization: 2 per-channel scales but dimension 0 of [3, 3, 3, 2] is 3"])
    }

    func testIndicesOutOfRange() {
        var m = Self.tinyModel()
        m.subgraphs[0].operators[1].inputs[1] = 17
        assertMessage(
            TFLiteWriter.write(m),
            ["operators[1] (FULLY_CONNECTED).inputs[1]: tensor index 17 is out of range (the subgraph has 6 tensors"])
        m = Self.tinyModel()
        m.subgraphs[0].operators[0].opcodeIndex = 5
        assertMessage(TFLiteWriter.write(m), ["operators[0].opcode_index: 5 is out of range (the model has 2 operator codes)"])
        m = Self.tinyModel()
        m.subgraphs[0].tensors[4].buffer = 9
        assertMessage(TFLiteWriter.write(m), ["tensors[4] 'fc/w'.buffer: 9 is out of range (the model has 4 buffers)"])
    }

    /// Every byte of a small file replaced by each of a few values: an error or a model, never a trap.
    func testSingleByteMutationsNeverTrap() {
        let good = TFLiteWriter.write(Self.tinyModel())
        var errors = 0
        for i in 0..<good.count {
            for v: UInt8 in [0, 0x7f, 0x80, 0xff] where good[i] != v {
                var b = good
                b[i] = v
                if let m = try? TFLiteReader.read(bytes: b, file: "mutated") {
                    // A model read from a mutated file writes and reads back to itself.
                    let again = TFLiteWriter.write(m)
                    XCTAssertEqual(TFLiteWriter.write((try? TFLiteReader.read(bytes: again, file: "again")) ?? m), again)
                } else {
                    errors += 1
                }
            }
        }
        XCTAssertGreaterThan(errors, 100)
    }
}

extension TFLiteReaderTests {
    /// The fuzz target's small seeds (fuzz/tflite/seeds, from gen_seeds.swift): the valid ones read,
    /// including a buffer in the schema 3c offset/size form; the mutated ones are errors.
    func testFuzzSeeds() throws {
        let dir = CLITests.repoRoot + "/fuzz/tflite/seeds/"
        func bytes(_ n: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + n))) }
        for n in ["all_ops.tflite", "gelu_code.tflite", "per_channel.tflite", "buffer_offset_form.tflite"] {
            XCTAssertNoThrow(try TFLiteReader.read(bytes: bytes(n), file: n), n)
        }
        let offsetForm = try TFLiteReader.read(bytes: bytes("buffer_offset_form.tflite"), file: "")
        let inline = try TFLiteReader.read(bytes: bytes("all_ops.tflite"), file: "")
        XCTAssertEqual(offsetForm.buffers[1].data, (0..<54).map { UInt8($0) })
        XCTAssertEqual(offsetForm, inline)
        let gelu = try TFLiteReader.read(bytes: bytes("gelu_code.tflite"), file: "")
        XCTAssertEqual(gelu.operatorCodes.last?.name, "GELU")
        for n in ["truncated.tflite", "vtable_outside.tflite", "root_past_end.tflite"] {
            XCTAssertThrowsError(try TFLiteReader.read(bytes: bytes(n), file: n), n)
        }
    }
}

extension TFLiteReaderTests {
    /// Offsets that make the same data be decoded over and over (2,000 buffer entries pointing at
    /// one 64 KiB buffer) hit the decode budget instead of taking gigabytes.
    func testSharedDataHitsTheDecodeBudget() throws {
        var m = Self.tinyModel()
        m.buffers += [TFLiteBuffer]((0..<2000).map { _ in TFLiteBuffer() })
        m.buffers.append(TFLiteBuffer([UInt8](repeating: 7, count: 65536)))
        var b = TFLiteWriter.write(m)
        let r = FlatBufferReader(bytes: b, file: "")
        let vec = try XCTUnwrap(try r.root(identifier: "TFL3").vector(4, "buffers", width: 4))
        let lastSlot = vec.start + 4 * (vec.count - 1)
        let big = lastSlot + Int(r.u32(lastSlot))
        for i in 4..<(vec.count - 1) {
            let slot = vec.start + 4 * i
            b.replaceSubrange(slot..<(slot + 4), with: le32(UInt32(big - slot)))
        }
        assertMessage(b, ["model.buffers[", "decode more than 8 times its \(b.count) bytes"])
    }

    /// A vtable entry that puts a field past the end of its table.
    func testFieldOutsideItsTable() throws {
        var b = TFLiteWriter.write(Self.tinyModel())
        let r = FlatBufferReader(bytes: b, file: "")
        let root = try r.root(identifier: "TFL3")
        // Field 0 (version) of the root table: its vtable entry says offset 0xfff0.
        b.replaceSubrange((root.vt + 4)..<(root.vt + 6), with: [0xf0, 0xff])
        assertMessage(b, ["model.version: field offset 65520 (4 bytes) lies outside its table of \(root.size) bytes"])
    }
}
