import Foundation
import XCTest
@testable import KDC

/// A whole `kdc build` on generated multichannel time series (not real sensor data): three
/// classes of noisy sinusoids at different frequencies over three channels of different offsets
/// and scales, written as NPY; a conv1d teacher and student, distillation, int8, the artifact,
/// the `.tflite` and the host check of the C runtime.
final class SeriesPipelineTests: XCTestCase {
    /// `n` recordings of `t` steps, 3 channels; class k oscillates with period [24, 12, 6][k]
    /// steps, a random phase per recording and channel, channel c = 10·c + (c + 1)·sin + noise.
    static func writeSinusoids(_ dir: String, n: Int, t: Int, seed: UInt64) throws {
        var rng = SeededRNG(seed: seed)
        var x: [Float] = [], y: [Int64] = []
        let periods: [Float] = [24, 12, 6]
        for i in 0..<n {
            let k = i % 3
            let phase = (0..<3).map { _ in rng.uniform() * 2 * Float.pi }
            for s in 0..<t {
                for c in 0..<3 {
                    let wave = sin(2 * Float.pi * Float(s) / periods[k] + phase[c])
                    x.append(10 * Float(c) + Float(c + 1) * wave + 0.3 * rng.normal())
                }
            }
            y.append(Int64(k))
        }
        try writeBytes(dir, "x.npy", npyBytes(shape: [n, t, 3], float32: x))
        try writeBytes(dir, "y.npy", npyBytes(shape: [n], int64: y))
    }

    /// Writes the sinusoids into a fresh folder (removed after the test) and builds them into
    /// `<folder>/out`; returns the folder and the result.
    func build() throws -> (dir: String, result: BuildResult) {
        let dir = try makeTempDir()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        try Self.writeSinusoids(dir, n: 90, t: 64, seed: 11)
        let text = """
            seed: 1
            data:
              format: series
              dir: \(dir)
              train_x: x.npy
              train_y: y.npy
              channels: 3
              window: {length: 24, stride: 8}
              classes: 3
              split: {test: 0.25, validation: 0.2, seed: 2}
            teacher:
              layers:
                - {op: conv1d, filters: 12, kernel: 5}
                - relu
                - {op: max_pool1d, pool: 2}
                - {op: conv1d, filters: 12, kernel: 3}
                - relu
                - flatten
                - {op: dense, units: 3}
              train: {epochs: 20, batch_size: 32, learning_rate: 0.01}
            student:
              layers:
                - {op: conv1d, filters: 6, kernel: 5, stride: 2}
                - relu
                - {op: depthwise_conv1d, kernel: 3}
                - relu
                - {op: avg_pool1d, pool: 2}
                - flatten
                - {op: dense, units: 3}
              train: {epochs: 20, batch_size: 32, learning_rate: 0.01}
            distill: {temperature: 2, alpha: 0.5, baseline: false}
            export: {name: motion, compress: true, tflite: true}
            """
        let cfg = try KDCConfig.parse(text, file: dir + "/config.yaml", baseDirectory: dir)
        XCTAssertEqual(cfg.data.shape, [24, 1, 3])
        return (dir, try Pipeline(config: cfg, outDir: dir + "/out").build())
    }

    func testConv1dStudentBuildsFromSeriesToACheckedArtifact() throws {
        let (dir, r) = try build()
        let out = dir + "/out"

        // Splits by recording: 90 recordings, 8 per class held out for test (0.25 · 30, rounded),
        // 4 per class of the 22 left for validation (0.2 · 22); (64 − 24) / 8 + 1 = 6 windows each.
        let series = try XCTUnwrap(r.distillation.data.series)
        XCTAssertEqual([series.trainRecordings, series.validationRecordings, series.testRecordings], [54, 12, 24])
        XCTAssertEqual(series.trainStepsDropped, 0)
        XCTAssertEqual(r.distillation.data.test.count, 24 * 6)
        XCTAssertEqual(r.distillation.data.train.count, 54 * 6)

        // Accuracy: chance is 1/3; the classes differ clearly in frequency (seed 11 gave int8
        // 92.4%, float 93.1%; data seeds 1, 2 and 3 gave int8 98.6%, 95.1%, 93.8%).
        let int8 = try XCTUnwrap(r.quantized.report.int8Accuracy)
        XCTAssertGreaterThan(int8, 0.8, "int8 test accuracy \(int8)")
        XCTAssertGreaterThan(try XCTUnwrap(r.distillation.student.report.floatAccuracy), 0.8)
        XCTAssertEqual(r.checks.host.samples, 144)
        XCTAssertEqual(r.checks.hostMismatches, 0, "the C runtime computes the Swift int8 reference's bytes")
        XCTAssertEqual(try XCTUnwrap(r.checks.host.accuracy), int8, accuracy: 1e-9)
        XCTAssertNotNil(r.tflite, "the .tflite of the conv1d student was written and read back")

        // The normalization goes with the model and into report.json.
        let norm = r.distillation.data.normalization
        XCTAssertEqual(r.quantized.graph.inputStage, .sensor(SensorNormalization(mean: norm.mean, std: norm.std)))
        for c in 0..<3 {
            XCTAssertEqual(norm.mean[c], 10 * Float(c), accuracy: 0.3, "channel \(c) offset")
            // std of (c + 1)·sin + noise: √((c + 1)² / 2 + 0.09).
            XCTAssertEqual(norm.std[c], (Float((c + 1) * (c + 1)) / 2 + 0.09).squareRoot(), accuracy: 0.15)
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/report.json")))
        let dataset = try XCTUnwrap((json as? [String: Any])?["dataset"] as? [String: Any])
        let s = try XCTUnwrap(dataset["series"] as? [String: Any])
        XCTAssertEqual(s["window_length"] as? Int, 24)
        XCTAssertEqual(s["window_stride"] as? Int, 8)
        XCTAssertEqual(s["channels"] as? Int, 3)
        let n = try XCTUnwrap(s["normalization"] as? [String: Any])
        XCTAssertEqual((n["mean"] as? [Double])?.map(Float.init), norm.mean)
        XCTAssertEqual((n["std"] as? [Double])?.map(Float.init), norm.std)
        XCTAssertEqual(n["std_floor"] as? Double, 1e-6)
        XCTAssertEqual(dataset["sample_shape"] as? [Int], [24, 1, 3])
    }

    /// The `.tflite` of the conv1d student in LiteRT's reference kernels gives the bytes of the
    /// `.kdc` in the C runtime (`kdc run`) on every test window. Needs the project venv
    /// (`make venv`); without it the test skips, saying so.
    func testConv1dStudentTFLiteGivesTheArtifactsBytesInLiteRT() throws {
        guard FileManager.default.isExecutableFile(atPath: LiteRT.python) else {
            throw XCTSkip("no project venv (\(LiteRT.python)): run `make venv` to compare the conv1d .tflite with LiteRT")
        }
        let (dir, r) = try build()
        let q = r.quantized.graph
        let inputs = q.quantizedInputs(r.distillation.data.test)
        XCTAssertEqual(inputs.count, 144)
        let x = dir + "/q.npy"
        try writeBytes(dir, "q.npy", npyBytes(shape: [inputs.count] + q.inputShape, int8: inputs.flatMap { $0 }))
        let run = try CLITests.runKDC(["run", r.export.artifactPath, "--input", x, "--output", dir + "/kdc.npy"])
        XCTAssertEqual(run.status, 0, run.err)
        try LiteRT.script("litert_oracle.py", [try XCTUnwrap(r.tflite?.path), "--input", x, "--output", dir + "/litert.npy"])
        let k = try readNPY(dir + "/kdc.npy"), l = try readNPY(dir + "/litert.npy")
        XCTAssertEqual(k.count, 144 * 3)
        XCTAssertEqual(k.shape, l.shape)
        XCTAssertEqual(k.values, l.values, "LiteRT's reference kernels and kdc's runtime differ")
        XCTAssertEqual(k.values.map { Int8($0) }, r.quantized.testOutputs.flatMap { $0 }, "and both are the Swift int8 reference")
    }
}
