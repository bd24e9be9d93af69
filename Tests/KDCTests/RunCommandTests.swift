import Foundation
import KDCTarget
import XCTest

@testable import KDC

/// `kdc run`: the C runtime on the host, on the inputs of an NPY file, against the Swift int8
/// reference byte for byte (int8 and float32 inputs, int8 and float32 outputs), and its errors.
/// Needs a C compiler (`cc`, or `$CC`): without one these fail with the compiler hint.
final class RunCommandTests: XCTestCase {
    /// Exports `g` (compressed, with its stored twin) into a new folder.
    func exported(_ g: Graph, name: String) throws -> (dir: String, result: ExportResult) {
        let dir = try ExportFixtures.tempDir("run")
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        return (dir, try export(g, normalization: .identity, to: dir, name: name, compress: true))
    }

    /// The samples of `data` as float32 inputs (already normalized) and as the int8 inputs Swift
    /// quantizes them to.
    func inputs(_ g: Graph, _ data: Dataset) -> (float: [Float], int8: [[Int8]]) {
        (data.x, g.quantizedInputs(data))
    }

    func readInt8(_ path: String) throws -> (shape: [Int], values: [Int8]) {
        let a = try readNPY(path)
        XCTAssertEqual(a.type, .int8, path)
        return (a.shape, try XCTUnwrap(a.integers).map { Int8($0) })
    }

    func checkModel(_ g: Graph, _ data: Dataset, name: String) throws {
        let (dir, r) = try exported(g, name: name)
        let (floats, int8) = inputs(g, data)
        let interp = Int8Interpreter()
        let want = Array(int8.map { interp.run(g, input: $0) }.joined())
        let n = data.count, shape = [n] + g.inputShape, k = g[g.input].count
        try writeNPY(dir + "/in8.npy", shape: shape, int8: Array(int8.joined()))
        try writeNPY(dir + "/inf.npy", shape: shape, values: floats)
        try writeNPY(dir + "/inflat.npy", shape: [n, k], values: floats)
        let outShape = [n] + g.outputShape
        for artifact in [r.artifactPath, try XCTUnwrap(r.storedArtifactPath)] {
            for input in ["in8", "inf", "inflat"] {
                let out = dir + "/\(input).out.npy"
                let res = try ArtifactRun.run(artifactPath: artifact, inputPath: dir + "/\(input).npy", outputPath: out)
                XCTAssertEqual(res.samples, n)
                XCTAssertEqual(res.inputType, input == "in8" ? .int8 : .float32)
                XCTAssertEqual(res.outputShape, outShape)
                XCTAssertFalse(res.floatOutput)
                let got = try readInt8(out)
                XCTAssertEqual(got.shape, outShape)
                XCTAssertEqual(got.values.count, want.count)
                let diff = zip(got.values, want).filter { $0 != $1 }.count
                XCTAssertEqual(diff, 0, "\(name) \(artifact) \(input): \(diff) output bytes differ from Int8Interpreter")
            }
        }
        // Float output (a graph with floatOutput): kdc_output_to_float of the same bytes, which is
        // Swift's dequantize bit for bit.
        var a = try ArtifactReader.read(path: r.artifactPath)
        a.graph.floatOutput = true
        let out = dir + "/float.out.npy"
        let res = try ArtifactRun.run(
            a, artifactPath: r.artifactPath, inputPath: dir + "/inf.npy", outputPath: out, runtimeDirectory: nil)
        XCTAssertTrue(res.floatOutput)
        let f = try readNPY(out)
        XCTAssertEqual(f.type, .float32)
        XCTAssertEqual(f.shape, outShape)
        let wantF = g.dequantize(want)
        XCTAssertEqual(f.values.map(\.bitPattern), wantF.map(\.bitPattern))
    }

    func testMLPMatchesInterpreterByteForByte() throws {
        let (g, d) = try ExportFixtures.mlp()
        try checkModel(g, d, name: "mlp")
    }

    func testCNNWithEveryOpMatchesInterpreterByteForByte() throws {
        let (g, d) = try ExportFixtures.everyOp()
        try checkModel(g, d, name: "cnn")
    }

    /// float32 inputs are quantized by the runtime's `kdc_quantize` (`kdc_input_from_float`):
    /// x / scale divided in float, rounded half away from zero, plus the zero point, clamped; NaN
    /// gives the zero point. Checked on every int8 level, the half-way points between them nudged
    /// by one ulp either way, out-of-range values, infinities and NaN; Swift's `quantizeInput`
    /// gives the same bytes (it divided in Double until this test found 130 differences).
    func testFloatInputsQuantizeAsTheRuntimeDoes() throws {
        let (g, _) = try ExportFixtures.mlp()
        let (dir, r) = try exported(g, name: "q")
        let q = g.inputQuant, k = g[g.input].count
        var xs: [Float] = [-1e30, 1e30, -1000, 1000, .infinity, -.infinity, .nan, 0, -0.0]
        for level in -140...140 {
            for frac: Float in [0, 0.25, 0.5, 0.75] {
                let v = (Float(level - Int(q.zeroPoint)) + frac) * q.scale
                xs += [v, v.nextUp, v.nextDown]
            }
        }
        while xs.count % k != 0 { xs.append(0) }
        let n = xs.count / k
        try writeNPY(dir + "/x.npy", shape: [n, k], values: xs)
        let saved = dir + "/saved.bin"
        try Data().write(to: URL(fileURLWithPath: dir + "/o.bin"))
        _ = try HostRun.run(
            artifactPath: r.artifactPath, inputPath: dir + "/x.npy",
            inputOffset: try NPYHeader.read(dir + "/x.npy").header.dataOffset,
            count: n, input: .float32, outputPath: dir + "/o.bin", output: .int8, saveInputsPath: saved)
        let c = try XCTUnwrap(FileManager.default.contents(atPath: saved)).map { Int8(bitPattern: $0) }
        func mirror(_ x: Float) -> Int8 {
            var v = x / q.scale
            if v.isNaN { v = 0 }
            v = min(max(v, -1000), 1000)
            let r = Int32(v.rounded(.toNearestOrAwayFromZero)) + q.zeroPoint
            return Int8(min(max(r, -128), 127))
        }
        XCTAssertEqual(c, xs.map(mirror))
        XCTAssertEqual(g.quantizeInput(xs), c, "Swift's quantizeInput and the runtime's kdc_quantize")
    }

    /// 10,000 inputs in one process, streamed.
    func testTenThousandInputs() throws {
        let (g, _) = try ExportFixtures.mlp()
        let (dir, r) = try exported(g, name: "big")
        let n = 10_000, k = g[g.input].count
        var rng = SeededRNG(seed: 9)
        let x = (0..<(n * k)).map { _ in Int8(truncatingIfNeeded: rng.int(below: 256)) }
        try writeNPY(dir + "/in.npy", shape: [n, k], int8: x)
        let t0 = Date()
        let res = try ArtifactRun.run(artifactPath: r.artifactPath, inputPath: dir + "/in.npy", outputPath: dir + "/out.npy")
        let seconds = Date().timeIntervalSince(t0)
        XCTAssertEqual(res.samples, n)
        let got = try readInt8(dir + "/out.npy")
        XCTAssertEqual(got.shape, [n, 10])
        let interp = Int8Interpreter()
        for s in stride(from: 0, to: n, by: 997) {
            XCTAssertEqual(Array(got.values[(s * 10)..<((s + 1) * 10)]), interp.run(g, input: Array(x[(s * k)..<((s + 1) * k)])))
        }
        print("kdc run: \(n) inputs in \(String(format: "%.2f", seconds)) s (harness cached or compiled)")
        XCTAssertLessThan(seconds, 60)
    }

    /// Errors: a message naming the file and what was expected, and OUT.npy left as it was.
    func testErrorsLeaveThePreviousOutput() throws {
        let (g, d) = try ExportFixtures.mlp()
        let (dir, r) = try exported(g, name: "e")
        let out = dir + "/out.npy"
        let previous = Data("previous".utf8)
        try previous.write(to: URL(fileURLWithPath: out))
        let good = dir + "/good.npy"
        try writeNPY(good, shape: [d.count, 20], values: d.x)
        try writeNPY(dir + "/f64.npy", shape: [2, 20], int64: [Int64](repeating: 0, count: 40))
        try writeNPY(dir + "/shape.npy", shape: [2, 4, 5], values: [Float](repeating: 0, count: 40))
        try writeNPY(dir + "/one.npy", shape: [20], values: [Float](repeating: 0, count: 20))
        var trunc = npyBytes(shape: [3, 20], int8: [Int8](repeating: 1, count: 60))
        trunc.removeLast(7)
        try Data(trunc).write(to: URL(fileURLWithPath: dir + "/trunc.npy"))
        var bad = try XCTUnwrap(FileManager.default.contents(atPath: try XCTUnwrap(r.storedArtifactPath)))
        bad[100] ^= 1
        try bad.write(to: URL(fileURLWithPath: dir + "/bad.kdc"))
        let cases: [(artifact: String, input: String, output: String, expect: [String])] = [
            (dir + "/none.kdc", good, out, ["none.kdc", "cannot read the artifact"]),
            (r.artifactPath, dir + "/none.npy", out, ["none.npy", "file not found"]),
            (r.artifactPath, dir + "/f64.npy", out, ["f64.npy", "dtype '<i8' (int64)", "int8 ('|i1'", "float32 ('<f4'"]),
            (r.artifactPath, dir + "/shape.npy", out, ["shape.npy", "shape [2, 4, 5]", "expected [N, 20]"]),
            (r.artifactPath, dir + "/one.npy", out, ["one.npy", "shape [20]", "x[np.newaxis]"]),
            (r.artifactPath, dir + "/trunc.npy", out, ["trunc.npy", "needs 60 data bytes", "holds 53"]),
            (dir + "/bad.kdc", good, out, ["bad.kdc", "KDC_ERR_BODY_CRC (body CRC mismatch)", "header.body_crc32"]),
            (r.artifactPath, good, dir + "/nofolder/out.npy", ["nofolder", "does not exist"]),
        ]
        for c in cases {
            XCTAssertThrowsError(try ArtifactRun.run(artifactPath: c.artifact, inputPath: c.input, outputPath: c.output)) { e in
                for needle in c.expect { XCTAssertTrue("\(e)".contains(needle), "\(c): '\(e)' lacks '\(needle)'") }
            }
            XCTAssertEqual(FileManager.default.contents(atPath: out), previous, "\(c.input): OUT.npy was changed")
            let stray = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp-") }
            XCTAssertEqual(stray, [], "temporary files left behind")
        }
    }

    /// The real binary: a run, its line on stdout, and an error with exit status 1.
    func testCommandLine() throws {
        let (g, d) = try ExportFixtures.mlp()
        let (dir, r) = try exported(g, name: "cli")
        try writeNPY(dir + "/in.npy", shape: [d.count, 20], values: d.x)
        let ok = try CLITests.runKDC(["run", r.artifactPath, "--input", dir + "/in.npy", "--output", dir + "/out.npy"])
        XCTAssertEqual(ok.status, 0, ok.err)
        XCTAssertTrue(ok.out.contains("ran \(d.count) float32 inputs through the C runtime (host)"), ok.out)
        let got = try readInt8(dir + "/out.npy")
        let interp = Int8Interpreter()
        XCTAssertEqual(got.values, Array(g.quantizedInputs(d).map { interp.run(g, input: $0) }.joined()))
        let bad = try CLITests.runKDC(["run", r.artifactPath, "--input", dir + "/none.npy", "--output", dir + "/o2.npy"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.contains("none.npy: file not found"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/o2.npy"))
    }
}
