import Foundation
import XCTest
@testable import KDC

/// Teacher logits against the labels of the transfer rows, on the digits sample: rows out of
/// order, shifted by one or with the class columns permuted are errors that give the agreement;
/// logits in order are accepted, probabilities are converted.
final class TeacherCheckTests: XCTestCase {
    struct Fixture {
        var dir: String
        var data: DataSplits
        var logits: Tensor
    }

    /// A small teacher trained once, its logits on the training split (the transfer set), in order.
    nonisolated(unsafe) static var shared: Fixture?

    func fixture() throws -> Fixture {
        if let f = Self.shared { return f }
        let dir = NSTemporaryDirectory() + "kdc-teachercheck-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let p = Pipeline(config: try config(teacher: PipelineTests.tinyTeacher), outDir: dir)
        let data = try p.loadData()
        let t = try p.train(p.config.teacher.model!, role: .teacher, data: data, seed: 1)
        let f = Fixture(dir: dir, data: data, logits: predictLogits(t.model, on: data.train))
        Self.shared = f
        return f
    }

    override class func tearDown() {
        if let d = shared?.dir { try? FileManager.default.removeItem(atPath: d) }
        super.tearDown()
    }

    func config(teacher: String, distill: String = "{temperature: 2, alpha: 0.5, baseline: false}") throws -> KDCConfig {
        try KDCConfig.parse(
            """
            seed: 3
            data: {format: csv, dir: \(PipelineTests.digitsDir), file: digits.csv.gz, shape: [8, 8, 1], classes: 10, normalize: scale}
            teacher:
              \(teacher)
            student:
              layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 10}]
              train: {epochs: 3, batch_size: 64, learning_rate: 0.005}
            distill: \(distill)
            """, file: "test.yaml", baseDirectory: NSTemporaryDirectory())
    }

    /// `teacher()` with `values` written as the logits file.
    func check(_ values: Tensor, name: String, baselineValidation: Double? = 0.95) throws -> TeacherCheck {
        let f = try fixture()
        let path = f.dir + "/" + name + ".npy"
        try writeNPY(path, shape: values.shape, values: values.data)
        let p = Pipeline(config: try config(teacher: "logits: \(path)"), outDir: f.dir)
        return try p.teacher(data: f.data, transfer: f.data.train, baselineValidation: baselineValidation).check
    }

    /// The rows of `t` in the order `rows` gives.
    func reorder(_ t: Tensor, rows: [Int]) -> Tensor {
        let k = t.shape[1]
        return Tensor(shape: t.shape, data: rows.flatMap { t.data[($0 * k)..<($0 * k + k)] })
    }

    func assertMisaligned(
        _ values: Tensor, name: String, _ extra: [String] = [], file: StaticString = #filePath, line: UInt = #line
    ) throws {
        XCTAssertThrowsError(try check(values, name: name), file: file, line: line) { e in
            guard case let KDCError.format(path, message) = e else { return XCTFail("\(e)", file: file, line: line) }
            XCTAssertTrue(path.hasSuffix(name + ".npy"), path, file: file, line: line)
            // The agreement figure, chance, the baseline, and how to line the rows up.
            let figure = try? NSRegularExpression(pattern: "on only [0-9]+\\.[0-9]% of the [0-9]+ labelled transfer rows")
            XCTAssertNotNil(
                figure?.firstMatch(in: message, range: NSRange(message.startIndex..., in: message)), message, file: file,
                line: line)
            for needle in ["chance", "baseline reaches 95.0%", "kdc data", "docs/DATA.md", "teacher.min_agreement"] + extra {
                XCTAssertTrue(message.contains(needle), "lacks '\(needle)': \(message)", file: file, line: line)
            }
        }
    }

    func testLogitsInOrderAreAccepted() throws {
        let f = try fixture()
        let c = try check(f.logits, name: "good")
        XCTAssertGreaterThan(c.agreement ?? 0, 0.8)
        XCTAssertEqual(c.labelledRows, f.data.train.count)
        XCTAssertEqual(c.chance, 0.1, accuracy: 0.01)
        XCTAssertEqual(c.minAgreement, 0.475, accuracy: 1e-9, "half the baseline's 95%")
        XCTAssertFalse(c.probabilitiesConverted)
        XCTAssertTrue(c.enforced)
    }

    func testShuffledRowsAreAnError() throws {
        let f = try fixture()
        var rng = SeededRNG(seed: 9)
        try assertMisaligned(reorder(f.logits, rows: rng.permutation(f.data.train.count)), name: "shuffled")
    }

    func testRowsShiftedByOneAreAnError() throws {
        let f = try fixture()
        let n = f.data.train.count
        try assertMisaligned(reorder(f.logits, rows: (0..<n).map { ($0 + 1) % n }), name: "shifted", ["shifted"])
    }

    func testPermutedClassColumnsAreAnError() throws {
        let f = try fixture()
        let k = 10
        var t = f.logits
        for r in 0..<(t.count / k) { for j in 0..<k { t.data[r * k + j] = f.logits.data[r * k + (k - 1 - j)] } }
        try assertMisaligned(t, name: "columns", ["class columns", "label 0 → column 9"])
    }

    func testProbabilitiesAreConvertedToLogProbabilities() throws {
        let f = try fixture()
        let probs = softmax(f.logits, temperature: 1)
        let c = try check(probs, name: "probs")
        XCTAssertTrue(c.probabilitiesConverted)
        XCTAssertGreaterThan(c.agreement ?? 0, 0.8)
        let converted = try XCTUnwrap(logitsFromProbabilities(probs))
        // log-probabilities are the logits up to a constant per row: the softmax is the same.
        let back = softmax(converted, temperature: 1)
        for i in stride(from: 0, to: probs.count, by: 97) { XCTAssertEqual(back.data[i], probs.data[i], accuracy: 1e-5) }
        // Logits are not probabilities.
        XCTAssertNil(logitsFromProbabilities(f.logits))
    }

    func testTheThresholdIsConfigurableAndZeroTurnsTheCheckOff() throws {
        let f = try fixture()
        var rng = SeededRNG(seed: 10)
        let shuffled = reorder(f.logits, rows: rng.permutation(f.data.train.count))
        let path = f.dir + "/shuffled-ok.npy"
        try writeNPY(path, shape: shuffled.shape, values: shuffled.data)
        let off = Pipeline(config: try config(teacher: "logits: \(path)\n  min_agreement: 0"), outDir: f.dir)
        let c = try off.teacher(data: f.data, transfer: f.data.train).check
        XCTAssertEqual(c.minAgreement, 0)
        XCTAssertEqual(c.rule, "teacher.min_agreement")
        XCTAssertLessThan(c.agreement ?? 1, 0.3)
        // The automatic rule without a baseline: clearly above chance.
        XCTAssertEqual(TeacherCheck.autoThreshold(chance: 0.1, baselineValidation: nil), 0.2, accuracy: 1e-12)
        XCTAssertEqual(TeacherCheck.autoThreshold(chance: 0.5, baselineValidation: nil), 0.625, accuracy: 1e-12)
        XCTAssertEqual(TeacherCheck.autoThreshold(chance: 0.1, baselineValidation: 0.9), 0.45, accuracy: 1e-12)
    }

    /// A logits teacher through the whole distillation: its row in the summary and the report.
    func testALogitsTeacherHasARowInTheSummaryAndTheReport() throws {
        let f = try fixture()
        let path = f.dir + "/run.npy"
        try writeNPY(path, shape: f.logits.shape, values: f.logits.data)
        let cfg = try config(teacher: "logits: \(path)", distill: "{temperature: 2, alpha: 0.5, baseline: true}")
        let r = try Pipeline(config: cfg, outDir: f.dir).runDistillation(baseline: true)
        let row = try XCTUnwrap(r.summary.split(separator: "\n").first { $0.hasPrefix("teacher ") })
        XCTAssertTrue(row.contains(fmtPct(r.teacherCheck.agreement)), String(row))
        XCTAssertTrue(row.contains("—"), "unknown test accuracy: \(row)")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: try r.report.json()) as? [String: Any])
        let teacher = try XCTUnwrap(json["teacher"] as? [String: Any])
        XCTAssertNotNil(teacher["transfer_accuracy"])
        XCTAssertNil(teacher["float_accuracy"])
        let check = try XCTUnwrap(json["teacher_check"] as? [String: Any])
        XCTAssertEqual(check["source"] as? String, "logits")
        XCTAssertEqual(
            check["baseline_validation_accuracy"] as? Double ?? -1, r.baseline?.report.validationAccuracy ?? -2, accuracy: 1e-12,
            "the baseline was trained before the check")
    }
}
