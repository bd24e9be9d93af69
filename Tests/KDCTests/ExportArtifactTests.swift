import Crypto
import Foundation
import XCTest
@testable import KDC

/// Artifact writer determinism, writer → reader round trip, rejected corruptions, C arrays.
final class ExportArtifactTests: XCTestCase {
    func testSameGraphGivesSameBytes() throws {
        let (g, _) = try ExportFixtures.cnn()
        let p = try MemoryPlanner.plan(g)
        for compress in [false, true] {
            let a = try ArtifactWriter.artifact(g, plan: p, compress: compress)
            let b = try ArtifactWriter.artifact(g, plan: try MemoryPlanner.plan(g), compress: compress)
            XCTAssertEqual(a, b)
        }
        // A second quantization from scratch also gives the same bytes.
        let (g2, _) = try ExportFixtures.cnn()
        XCTAssertEqual(
            try ArtifactWriter.artifact(g2, plan: try MemoryPlanner.plan(g2), compress: true),
            try ArtifactWriter.artifact(g, plan: p, compress: true))
    }

    func testHeaderFieldsAndLayout() throws {
        let (g, _) = try ExportFixtures.mlp()
        let p = try MemoryPlanner.plan(g)
        let a = try ArtifactWriter.artifact(g, plan: p, compress: false)
        let r = LEReader(a)
        XCTAssertEqual(Array(a[0..<4]), Array("KDCM".utf8))
        XCTAssertEqual(r.u16(4), 1); XCTAssertEqual(r.u16(6), 0); XCTAssertEqual(r.u16(8), 32); XCTAssertEqual(r.u16(10), 0)
        XCTAssertEqual(Int(r.u32(12)), a.count - 32); XCTAssertEqual(Int(r.u32(16)), a.count - 32)
        XCTAssertEqual(Int(r.u32(20)), p.arenaBytes)
        XCTAssertEqual(r.u32(24), kdcCRC32(Array(a[32...])))
        XCTAssertEqual(r.u32(28), kdcCRC32(Array(a[0..<28])))
        XCTAssertEqual(kdcCRC32(Array("123456789".utf8)), 0xCBF4_3926)
        // Body header: 4 tensors, 3 ops, tables back to back.
        XCTAssertEqual(r.u16(32), 4); XCTAssertEqual(r.u16(34), 3)
        XCTAssertEqual(r.u32(40), 24); XCTAssertEqual(r.u32(44), 24 + 4 * 32); XCTAssertEqual(r.u32(48), 24 + 4 * 32 + 3 * 48)
        // Weights: (20·32 + 32·16 + 16·10) int8 + 3 arrays of int32 per output channel.
        XCTAssertEqual(Int(r.u32(52)), 20 * 32 + 32 * 16 + 16 * 10 + 3 * 4 * (32 + 16 + 10))
        let compressed = try ArtifactWriter.artifact(g, plan: p, compress: true)
        XCTAssertEqual(LEReader(compressed).u16(6), 1)
        XCTAssertEqual(Int(LEReader(compressed).u32(16)), a.count - 32)
        XCTAssertLessThan(compressed.count, a.count)
    }

    /// `g` as an artifact read back shows it: tensors and nodes renamed, windows with explicit
    /// padding, no calibrated ranges, weight scales or fused-activation tags (the int8 clamp stays).
    static func deviceView(_ g: Graph) -> Graph {
        var d = g
        for i in d.tensors.indices {
            d.tensors[i].name = "t\(i)"
            d.tensors[i].quant?.calibratedRange = nil
        }
        for (i, n) in g.nodes.enumerated() {
            d.nodes[i].name = "op\(i)"
            d.nodes[i].activation = .none
            d.nodes[i].params = nil
            d.nodes[i].int8?.weights?.scales = []
            if let w = g.window(of: n) {
                let pad = Padding.explicit(top: w.padTop, left: w.padLeft)
                switch n.op {
                case let .conv2d(f, k, s, _): d.nodes[i].op = .conv2d(filters: f, kernel: k, stride: s, padding: pad)
                case let .depthwiseConv2d(k, s, _, m):
                    d.nodes[i].op = .depthwiseConv2d(kernel: k, stride: s, padding: pad, multiplier: m)
                case let .maxPool2d(k, s, _): d.nodes[i].op = .maxPool2d(pool: k, stride: s, padding: pad)
                case let .avgPool2d(k, s, _): d.nodes[i].op = .avgPool2d(pool: k, stride: s, padding: pad)
                default: break
                }
            }
        }
        return d
    }

    func testRoundTripThroughTheReader() throws {
        for (g, data) in [try ExportFixtures.mlp(), try ExportFixtures.cnn()] {
            let p = try MemoryPlanner.plan(g)
            for compress in [false, true] {
                let bytes = try ArtifactWriter.artifact(g, plan: p, compress: compress)
                let d = try ArtifactReader.parse(bytes)
                XCTAssertEqual(d.compressed, compress)
                XCTAssertEqual(d.arenaBytes, p.arenaBytes)
                XCTAssertEqual(d.placements.map(\.arenaOffset), p.offsets)
                XCTAssertEqual(d.placements.map(\.byteSize), g.tensors.map(\.count))
                XCTAssertTrue(d.placements.allSatisfy { $0.dims.first == 1 })
                // The graph read back is the graph written, as the device sees it.
                XCTAssertEqual(d.graph, Self.deviceView(g))
                // ... so writing it again gives the same bytes, and it computes the same outputs.
                let p2 = try MemoryPlanner.plan(d.graph)
                XCTAssertEqual(p2.offsets, p.offsets)
                XCTAssertEqual(try ArtifactWriter.artifact(d.graph, plan: p2, compress: compress), bytes)
                for s in 0..<5 {
                    let x = g.quantizeInput(Array(data.x[(s * data.sampleSize)..<((s + 1) * data.sampleSize)]))
                    XCTAssertEqual(Int8Interpreter().run(d.graph, input: x), Int8Interpreter().run(g, input: x))
                }
            }
        }
    }

    /// The reader rejects `bytes` with a format error whose message starts with `field`.
    func assertRejects(_ bytes: [UInt8], _ field: String, line: UInt = #line) {
        XCTAssertThrowsError(try ArtifactReader.parse(bytes, file: "bad.kdc"), line: line) { e in
            guard case let KDCError.format(file, message) = e else { return XCTFail("not a format error: \(e)", line: line) }
            XCTAssertEqual(file, "bad.kdc", line: line)
            XCTAssertTrue(message.hasPrefix(field), "expected '\(field)…', got '\(message)'", line: line)
        }
    }

    /// Rewrites a stored artifact's body with `edit` and fixes both CRCs, so only the
    /// structural check under test can fail.
    func patched(_ a: [UInt8], _ edit: (inout [UInt8]) -> Void) -> [UInt8] {
        var body = Array(a[32...])
        edit(&body)
        return try! ArtifactWriter.artifact(rawBody: body, arenaBytes: Int(LEReader(a).u32(20)), compress: false)
    }

    func testRejectsCorruptions() throws {
        let (g, _) = try ExportFixtures.cnn()
        let p = try MemoryPlanner.plan(g)
        let a = try ArtifactWriter.artifact(g, plan: p, compress: false)
        let z = try ArtifactWriter.artifact(g, plan: p, compress: true)
        XCTAssertNoThrow(try ArtifactReader.parse(a)); XCTAssertNoThrow(try ArtifactReader.parse(z))
        func flip(_ x: [UInt8], _ i: Int, _ bit: UInt8 = 1) -> [UInt8] { var y = x; y[i] ^= bit; return y }
        assertRejects(Array(a[0..<20]), "header")
        assertRejects(flip(a, 0), "header.magic")
        assertRejects(flip(a, 4), "header.version")
        assertRejects(flip(a, 13), "header.header_crc32")  // stored length changed, CRC now wrong
        assertRejects(Array(a.dropLast(5)), "header.stored_body_bytes")
        assertRejects(Array(z.dropLast(1)), "header.stored_body_bytes")
        // Bit flips anywhere in the body: the body CRC catches them.
        for i in stride(from: 32, to: a.count, by: max(1, a.count / 17)) { assertRejects(flip(a, i, 0x10), "header.body_crc32") }
        // Compressed: a flipped bit in the zlib stream is a zlib error or a CRC mismatch.
        XCTAssertThrowsError(try ArtifactReader.parse(flip(z, 40)))
        XCTAssertThrowsError(try ArtifactReader.parse(flip(z, z.count - 1)))
        // Structural errors behind valid CRCs name their field.
        let t0 = 24, op0 = 24 + 32 * g.tensors.count
        assertRejects(patched(a) { $0[t0] = 5 }, "tensor 0.rank")
        assertRejects(
            patched(a) {
                $0[t0 + 16] = 200; $0[t0 + 17] = 0; $0[t0 + 18] = 0; $0[t0 + 19] = 0
            }, "tensor 0.zero_point")
        assertRejects(patched(a) { $0[t0 + 23] = 0x7f }, "tensor 0.arena_offset")
        assertRejects(
            patched(a) {
                $0[t0 + 12] = 0; $0[t0 + 13] = 0; $0[t0 + 14] = 0x80; $0[t0 + 15] = 0x7f
            }, "tensor 0.scale")
        assertRejects(patched(a) { $0[op0] = 42 }, "op 0.opcode")
        assertRejects(
            patched(a) {
                $0[op0 + 4] = 0xfe; $0[op0 + 5] = 0xff
            }, "op 0 (CONV_2D).input0")
        assertRejects(patched(a) { $0[op0 + 20] = 3 }, "op 0 (CONV_2D).pad_top")  // pad_top 3 >= k_h 3
        assertRejects(patched(a) { $0[op0 + 44] = 1 }, "op 0 (CONV_2D).params")
        assertRejects(
            patched(a) {
                $0[op0 + 1] = 100; $0[op0 + 2] = 0
            }, "op 0 (CONV_2D).act_min")
        assertRejects(patched(a) { $0[op0 + 8] = UInt8(g.input.index) }, "op 0 (CONV_2D).output")
        assertRejects(
            patched(a) {
                $0[20] = 0xff; $0[21] = 0xff; $0[22] = 0xff; $0[23] = 0x7f
            }, "body.const_offset")
        assertRejects(patched(a) { $0[16] += 2 }, "body.offsets")
        assertRejects(
            patched(a) {
                $0[0] = 0; $0[1] = 0
            }, "body.n_tensors")
        // The first conv's multiplier 0x3fffffff (< 2^30) is out of range.
        let mOff = Int(LEReader(Array(a[32...])).u32(16)) + Int(LEReader(Array(a[32...])).u32(op0 + 36))
        assertRejects(
            patched(a) {
                $0[mOff] = 0xff; $0[mOff + 1] = 0xff; $0[mOff + 2] = 0xff; $0[mOff + 3] = 0x3f
            }, "op 0 (CONV_2D).multiplier")
    }

    /// SOFTMAX is an op of TFLite-mode artifacts only (docs/FORMAT.md 3.3): the writer refuses it
    /// in a kdc-arithmetic graph, the reader in an artifact whose header lacks the TFLite flag
    /// (as kdc_init does, KDC_ERR_OPCODE: the runtime's malformed table has the row too).
    func testSoftmaxIsTFLiteModeOnly() throws {
        let sm = try TFLiteArithmetic.softmaxParams(beta: 1, inputScale: 0.1)
        var g = Graph(
            tensors: [
                GraphTensor(name: "x", shape: [3, 10], type: .int8, quant: QuantParams(scale: 0.1, zeroPoint: 4)),
                GraphTensor(name: "p", shape: [3, 10], type: .int8, quant: QuantParams(scale: 1.0 / 256, zeroPoint: -128)),
            ],
            nodes: [
                GraphNode(
                    name: "softmax", op: .softmax(beta: 1), inputs: [TensorID(0)], output: TensorID(1),
                    int8: Int8Params(softmax: sm))
            ], input: TensorID(0), output: TensorID(1))
        g.arithmetic = .tflite
        let plan = try MemoryPlanner.plan(g)
        let a = try ArtifactWriter.artifact(g, plan: plan, compress: false)
        XCTAssertEqual(LEReader(a).u16(6), Int(ArtifactFormat.flagTFLite))
        let d = try ArtifactReader.parse(a)
        XCTAssertEqual(d.graph.arithmetic, .tflite)
        XCTAssertEqual(d.graph.nodes.map(\.int8?.softmax), [sm])
        // The writer: the same graph in kdc's arithmetic.
        var k = g
        k.arithmetic = .kdc
        XCTAssertThrowsError(try ArtifactWriter.artifact(k, plan: plan, compress: false)) { e in
            guard case let KDCError.graph(layer, message) = e else { return XCTFail("not a graph error: \(e)") }
            XCTAssertEqual(layer, "softmax")
            XCTAssertTrue(message.hasPrefix("SOFTMAX exists in TFLite-arithmetic artifacts only"), message)
            XCTAssertTrue(message.contains("hint:"), message)
        }
        // The reader: the TFLite artifact's body under a header without the flag (CRCs valid).
        let body = Array(a[32...])
        let flags: UInt16 = ArtifactFormat.flagFloatInput | ArtifactFormat.flagFloatOutput
        for f in [0, flags] {
            let bad = try ArtifactWriter.artifact(rawBody: body, arenaBytes: plan.arenaBytes, compress: false, flags: f)
            assertRejects(bad, "op 0 (SOFTMAX).opcode: SOFTMAX exists in TFLite-arithmetic artifacts only")
        }
        XCTAssertNoThrow(
            try ArtifactReader.parse(
                try ArtifactWriter.artifact(
                    rawBody: body, arenaBytes: plan.arenaBytes, compress: true, flags: ArtifactFormat.flagTFLite | flags)))
    }

    func testCArrayFiles() throws {
        let (g, _) = try ExportFixtures.mlp()
        let dir = try ExportFixtures.tempDir("carray")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let norm = Normalization(mean: [0.5], std: [0.25])
        let r = try export(g, normalization: norm, to: dir, name: "mlp_model", compress: true)
        let h = try String(contentsOfFile: r.headerPath, encoding: .utf8)
        let c = try String(contentsOfFile: r.sourcePath, encoding: .utf8)
        XCTAssertTrue(h.contains("#define MLP_MODEL_ARTIFACT_BYTES \(r.bytes)u"), h)
        XCTAssertTrue(h.contains("#define MLP_MODEL_ARENA_BYTES \(r.arenaTotalBytes)u"))
        XCTAssertTrue(h.contains("#define MLP_MODEL_UNPACK_BYTES \(r.rawBytes)u"))
        XCTAssertTrue(h.contains("#define MLP_MODEL_INPUT_BYTES 20u"))
        XCTAssertTrue(h.contains("#define MLP_MODEL_OUTPUT_BYTES 10u"))
        XCTAssertTrue(h.contains("#define MLP_MODEL_INPUT_ZERO_POINT (\(g.inputQuant.zeroPoint))"))
        XCTAssertTrue(h.contains("#define MLP_MODEL_INPUT_SCALE \(CArrayEmitter.cFloat(g.inputQuant.scale))"))
        XCTAssertEqual(Float(String(CArrayEmitter.cFloat(g.inputQuant.scale).dropLast())), g.inputQuant.scale)
        XCTAssertTrue(h.contains("extern const uint8_t mlp_model_artifact[MLP_MODEL_ARTIFACT_BYTES];"))
        XCTAssertTrue(c.contains("__attribute__((aligned(4)))"))
        XCTAssertTrue(c.contains("const float mlp_model_norm_mean[MLP_MODEL_NORM_CHANNELS] = {0.5f};"), c.suffix(300).description)
        XCTAssertTrue(c.contains("const float mlp_model_norm_std[MLP_MODEL_NORM_CHANNELS] = {0.25f};"))
        // The array's bytes are the artifact's bytes.
        let hex = c.components(separatedBy: "= {\n")[1].components(separatedBy: "};")[0]
        let bytes = hex.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\n" }).map { UInt8($0.dropFirst(2), radix: 16)! }
        XCTAssertEqual(bytes, [UInt8](FileManager.default.contents(atPath: r.artifactPath)!))
        // Uncompressed export: UNPACK_BYTES 0, no stored twin.
        let s = try export(g, normalization: norm, to: dir, name: "plain", compress: false)
        XCTAssertNil(s.storedArtifactPath)
        XCTAssertEqual(s.bytes, s.rawBytes)
        XCTAssertTrue(try String(contentsOfFile: s.headerPath, encoding: .utf8).contains("#define PLAIN_UNPACK_BYTES 0u"))
        XCTAssertThrowsError(try export(g, normalization: norm, to: dir, name: "9bad-name", compress: false))
    }

    func testExportResult() throws {
        let (g, _) = try ExportFixtures.cnn()
        let dir = try ExportFixtures.tempDir("export")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try export(g, normalization: Normalization(mean: [0.1, 0.2], std: [1, 2]), to: dir, name: "cnn", compress: true)
        let main = [UInt8](FileManager.default.contents(atPath: r.artifactPath)!)
        let stored = [UInt8](FileManager.default.contents(atPath: try XCTUnwrap(r.storedArtifactPath))!)
        XCTAssertEqual(main.count, r.bytes); XCTAssertEqual(stored.count, r.rawBytes)
        XCTAssertEqual(r.sha256, SHA256.hash(data: Data(main)).map { String(format: "%02x", $0) }.joined())
        XCTAssertEqual(r.sha256.count, 64)
        let dz = try ArtifactReader.read(path: r.artifactPath), ds = try ArtifactReader.read(path: r.storedArtifactPath!)
        XCTAssertTrue(dz.compressed); XCTAssertFalse(ds.compressed)
        XCTAssertEqual(dz.rawBody, ds.rawBody)
        XCTAssertEqual(r.weightsBytes, ds.constBytes)
        let w = g.nodes.reduce(0) { $0 + ($1.int8?.weights.map { $0.values.count + 12 * $0.bias.count } ?? 0) }
        XCTAssertGreaterThanOrEqual(r.weightsBytes, w); XCTAssertLessThan(r.weightsBytes, w + 4 * g.nodes.count)
        XCTAssertEqual(r.arenaBytes, ds.arenaBytes)
        XCTAssertLessThanOrEqual(r.lowerBound, r.arenaBytes)
        // No temporary files left behind.
        XCTAssertEqual(
            Set(try FileManager.default.contentsOfDirectory(atPath: dir)), ["cnn.kdc", "cnn.stored.kdc", "cnn.h", "cnn.c"])
        // Exporting again gives identical files.
        let again = try export(
            g, normalization: Normalization(mean: [0.1, 0.2], std: [1, 2]), to: dir, name: "cnn", compress: true)
        XCTAssertEqual(again.sha256, r.sha256)
    }
}
