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
}
