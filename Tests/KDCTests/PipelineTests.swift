import Foundation
import XCTest
@testable import KDC

/// The pipeline on the bundled digits data with tiny models and few epochs.
final class PipelineTests: XCTestCase {
    static let digitsDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples/digits").path

    func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "kdc-pipe-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: d) }
        return d
    }

    func config(
        teacher: String =
            "layers: [flatten, {op: dense, units: 64}, relu, {op: dense, units: 10}]\n  train: {epochs: 10, batch_size: 64, learning_rate: 0.005}",
        distill: String = "{temperature: 4, alpha: 0.1, baseline: false}"
    ) throws -> KDCConfig {
        let text = """
            seed: 3
            data: {format: csv, dir: \(PipelineTests.digitsDir), file: digits.csv.gz, shape: [8, 8, 1], classes: 10, normalize: scale}
            teacher:
              \(teacher)
            student:
              layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 10}]
              train: {epochs: 10, batch_size: 64, learning_rate: 0.005}
            distill: \(distill)
            export: {name: tiny, compress: true}
            """
        return try KDCConfig.parse(text, file: "test.yaml", baseDirectory: NSTemporaryDirectory())
    }

    func testSameConfigAndSeedGiveTheSameArtifactByteForByte() throws {
        let cfg = try config()
        let a = try tempDir(), b = try tempDir()
        let ra = try Pipeline(config: cfg, outDir: a).build()
        let rb = try Pipeline(config: cfg, outDir: b).build()
        XCTAssertEqual(ra.checks.host.mismatches, 0)
        XCTAssertEqual(ra.checks.stored?.mismatches, 0)
        XCTAssertEqual(ra.export.sha256, rb.export.sha256)
        XCTAssertEqual(
            FileManager.default.contents(atPath: ra.export.artifactPath),
            FileManager.default.contents(atPath: rb.export.artifactPath))
        XCTAssertEqual(
            FileManager.default.contents(atPath: a + "/student.safetensors"),
            FileManager.default.contents(atPath: b + "/student.safetensors"))
    }

    func testTeacherLogitsFromAnNPYFile() throws {
        let dir = try tempDir()
        // A teacher trained "elsewhere": its logits on the training split, in order.
        let base = Pipeline(config: try config(), outDir: dir)
        let data = try base.loadData()
        let (source, _) = try base.teacher(data: data, transfer: data.train)
        guard case let .model(teacher) = source else { return XCTFail("expected a trained teacher") }
        let logits = predictLogits(teacher, on: data.train)
        try writeNPY(dir + "/logits.npy", shape: logits.shape, values: logits.data)

        let fromFile = Pipeline(config: try config(teacher: "logits: \(dir)/logits.npy"), outDir: dir)
        let r = try fromFile.runDistillation(baseline: false)
        XCTAssertNil(r.teacher, "no teacher model when only logits are given")
        XCTAssertGreaterThan(r.student.report.floatAccuracy ?? 0, 0.5)

        // Logits for a different number of samples are refused with the file named.
        try writeNPY(dir + "/short.npy", shape: [10, 10], values: [Float](repeating: 0, count: 100))
        XCTAssertThrowsError(
            try Pipeline(config: try config(teacher: "logits: \(dir)/short.npy"), outDir: dir)
                .runDistillation(baseline: false)
        ) { e in
            XCTAssertTrue("\(e)".contains("short.npy") && "\(e)".contains("[10, 10]"), "\(e)")
        }
    }

    func testUnlabelledTransferSet() throws {
        let dir = try tempDir()
        let data = try Pipeline(config: try config(), outDir: dir).loadData()
        // 500 training images, un-normalized back to 0...16, without labels.
        let raw = data.train.subset(Array(0..<500)).x.map { $0 * data.normalization.std[0] }
        try writeNPY(dir + "/transfer_x.npy", shape: [500, 8, 8, 1], values: raw)
        let soft = try config(
            distill: "{temperature: 2, alpha: 0, baseline: false, transfer: {format: npy, x: \(dir)/transfer_x.npy}}")
        let r = try Pipeline(config: soft, outDir: dir).runDistillation(baseline: false)
        XCTAssertEqual(r.report.distill?.transferSamples, 500)
        XCTAssertGreaterThan(r.student.report.floatAccuracy ?? 0, 0.5, "soft targets alone teach the student")
        // With alpha > 0 the hard-label term needs labels the transfer set does not have.
        let hard = try config(
            distill: "{temperature: 2, alpha: 0.5, baseline: false, transfer: {format: npy, x: \(dir)/transfer_x.npy}}")
        XCTAssertThrowsError(try Pipeline(config: hard, outDir: dir).runDistillation(baseline: false)) { e in
            XCTAssertTrue("\(e)".contains("alpha"), "\(e)")
        }
    }
}
