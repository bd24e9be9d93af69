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

    static let tinyTeacher =
        "layers: [flatten, {op: dense, units: 64}, relu, {op: dense, units: 10}]\n  train: {epochs: 10, batch_size: 64, learning_rate: 0.005}"

    func config(
        teacher: String = PipelineTests.tinyTeacher, distill: String = "{temperature: 4, alpha: 0.1, baseline: false}",
        studentEpochs: Int = 10
    ) throws -> KDCConfig {
        let text = """
            seed: 3
            data: {format: csv, dir: \(PipelineTests.digitsDir), file: digits.csv.gz, shape: [8, 8, 1], classes: 10, normalize: scale}
            teacher:
              \(teacher)
            student:
              layers: [flatten, {op: dense, units: 16}, relu, {op: dense, units: 10}]
              train: {epochs: \(studentEpochs), batch_size: 64, learning_rate: 0.005}
            distill: \(distill)
            export: {name: tiny, compress: true}
            """
        return try KDCConfig.parse(text, file: "test.yaml", baseDirectory: NSTemporaryDirectory())
    }

    /// With the search, the baseline and ship: best (the defaults), over a small grid.
    func testSameConfigAndSeedGiveTheSameArtifactByteForByte() throws {
        let cfg = try config(distill: "{search: {temperatures: [1, 4], alphas: [0.1, 0.9]}}")
        XCTAssertNil(cfg.distill.temperature)
        let a = try tempDir(), b = try tempDir()
        let ra = try Pipeline(config: cfg, outDir: a).build()
        let rb = try Pipeline(config: cfg, outDir: b).build()
        XCTAssertEqual(ra.checks.host.mismatches, 0)
        XCTAssertEqual(ra.checks.stored?.mismatches, 0)
        XCTAssertEqual(ra.distillation.search?.trials.count, 4 + 2)
        XCTAssertEqual(ra.distillation.setting, rb.distillation.setting)
        XCTAssertEqual(
            ra.distillation.search?.trials.map(\.validationLoss), rb.distillation.search?.trials.map(\.validationLoss))
        XCTAssertEqual(ra.export.sha256, rb.export.sha256)
        XCTAssertEqual(
            FileManager.default.contents(atPath: ra.export.artifactPath),
            FileManager.default.contents(atPath: rb.export.artifactPath))
        XCTAssertEqual(
            FileManager.default.contents(atPath: a + "/student.safetensors"),
            FileManager.default.contents(atPath: b + "/student.safetensors"))
    }

    /// The chosen setting is the final round's best on validation; the report lists every run.
    func testSearchChoosesTheBestValidationSetting() throws {
        let dir = try tempDir()
        let cfg = try config(distill: "{alpha: auto, temperature: auto, baseline: true, ship: distilled}", studentEpochs: 9)
        let r = try Pipeline(config: cfg, outDir: dir).runDistillation(baseline: true)
        let search = try XCTUnwrap(r.search)
        XCTAssertEqual(search.rounds.map(\.settings), [12, 4, 2])
        XCTAssertEqual(search.rounds.map(\.epochs), [1, 3, 9])
        XCTAssertEqual(search.usedEpochs, 12 + 12 + 18)
        XCTAssertEqual(search.trials.count, 18)
        let finals = search.trials.filter { $0.round == 3 }
        let best = finals.max {
            ValidationScore(accuracy: $1.validationAccuracy, loss: $1.validationLoss).beats(
                .init(accuracy: $0.validationAccuracy, loss: $0.validationLoss))
        }!
        XCTAssertEqual(r.setting, DistillSetting(temperature: best.temperature, alpha: best.alpha))
        XCTAssertEqual(r.student.report.validationAccuracy, best.validationAccuracy, "the shipped run is the final round's")
        XCTAssertEqual(r.student.report.epochs, 9)
        XCTAssertEqual(r.report.distill?.chosenBy, "search")
        XCTAssertEqual(r.report.distill?.temperature, best.temperature)
        let json = String(decoding: try r.report.json(), as: UTF8.self)
        for key in ["\"trials\"", "\"validation_accuracy\"", "\"planned_epochs\"", "\"shipped\"", "\"teacher_check\""] {
            XCTAssertTrue(json.contains(key), key)
        }
        XCTAssertTrue(r.summary.contains("T \\ α"), r.summary)
    }

    /// A teacher that knows little (one epoch) and soft targets alone: the baseline wins on
    /// validation, ships, and the summary says so in bold.
    func testShipBestShipsTheBaselineWhenDistillationLoses() throws {
        let dir = try tempDir()
        let weak =
            "layers: [flatten, {op: dense, units: 8}, relu, {op: dense, units: 10}]\n  train: {epochs: 1, batch_size: 256, learning_rate: 0.001}"
        let cfg = try config(teacher: weak, distill: "{temperature: 1, alpha: 0, baseline: true}")
        let r = try Pipeline(config: cfg, outDir: dir).runDistillation(baseline: true)
        XCTAssertLessThan(r.student.report.validationAccuracy ?? 1, r.baseline?.report.validationAccuracy ?? 0)
        XCTAssertEqual(r.decision.model, "baseline")
        XCTAssertEqual(r.report.shipped?.distilledBeatsBaseline, false)
        XCTAssertTrue(r.summary.contains("**the distilled student does not beat the hard-label baseline"), r.summary)
        XCTAssertTrue(r.summary.contains("shipped: the baseline student"), r.summary)
        // student.safetensors is the baseline.
        let (shipped, _) = try Checkpoint.load(dir + "/student.safetensors")
        XCTAssertEqual(predictLogits(shipped, on: r.data.test).data, predictLogits(r.baseline!.model, on: r.data.test).data)
        XCTAssertEqual(r.baseline?.report.checkpoint, dir + "/student.safetensors")
        XCTAssertNil(r.student.report.checkpoint)
    }

    /// distill.search.max_epochs: a plan over it is cut to fit and the report says how; a bound
    /// too small for any search is a config error before anything is trained.
    func testTheSearchStaysWithinItsBound() throws {
        let dir = try tempDir()
        let cut = try config(distill: "{baseline: false, search: {max_epochs: 30}}", studentEpochs: 9)
        let r = try Pipeline(config: cut, outDir: dir).runDistillation(baseline: false)
        let search = try XCTUnwrap(r.search)
        XCTAssertEqual(search.plannedEpochs, 42)
        XCTAssertLessThanOrEqual(search.usedEpochs, 30)
        XCTAssertEqual(search.trials.reduce(0) { $0 + $1.epochs }, search.usedEpochs)
        XCTAssertTrue(search.cut?.contains("max_epochs 30") ?? false, search.cut ?? "no cut")
        XCTAssertEqual(search.trials.last?.epochs, 9, "the winner still gets the full schedule")
        let tooSmall = try config(teacher: "logits: /nonexistent.npy", distill: "{search: {max_epochs: 20}}", studentEpochs: 9)
        XCTAssertThrowsError(try Pipeline(config: tooSmall, outDir: dir).runDistillation(baseline: true)) { e in
            guard case let KDCError.config(file, key, message) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(file, "test.yaml")
            XCTAssertEqual(key, "distill.search.max_epochs")
            XCTAssertTrue(message.contains("at least 21"), message)
        }
    }

    func testAnEmptyValidationSplitWithAutoIsAConfigError() throws {
        let text = """
            data: {format: csv, dir: \(PipelineTests.digitsDir), file: digits.csv.gz, shape: [8, 8, 1], classes: 10, split: {validation: 0}}
            teacher: {logits: t.npy}
            student: {layers: [flatten, {op: dense, units: 10}]}
            """
        XCTAssertThrowsError(try KDCConfig.parse(text, file: "v.yaml")) { e in
            guard case let KDCError.config(file, key, message) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(file, "v.yaml")
            XCTAssertEqual(key, "distill.temperature")
            XCTAssertTrue(message.contains("data.split.validation") && message.contains("hint"), message)
        }
    }

    func testTeacherLogitsFromAnNPYFile() throws {
        let dir = try tempDir()
        // A teacher trained "elsewhere": its logits on the training split, in order.
        let base = Pipeline(config: try config(), outDir: dir)
        let data = try base.loadData()
        let source = try base.teacher(data: data, transfer: data.train).source
        guard case let .model(teacher) = source else { return XCTFail("expected a trained teacher") }
        let logits = predictLogits(teacher, on: data.train)
        try writeNPY(dir + "/logits.npy", shape: logits.shape, values: logits.data)

        let fromFile = Pipeline(config: try config(teacher: "logits: \(dir)/logits.npy"), outDir: dir)
        let r = try fromFile.runDistillation(baseline: false)
        XCTAssertNil(r.teacher, "no teacher model when only logits are given")
        XCTAssertGreaterThan(r.teacherCheck.agreement ?? 0, 0.8)
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
        // auto: T is searched, α is 0 (there are no labels for the hard-label term).
        let auto = try config(
            distill: "{baseline: false, search: {temperatures: [1, 2]}, transfer: {format: npy, x: \(dir)/transfer_x.npy}}",
            studentEpochs: 2)
        let ra = try Pipeline(config: auto, outDir: dir).runDistillation(baseline: false)
        XCTAssertEqual(ra.search?.trials.map(\.alpha), [0, 0])
        // With alpha > 0 the hard-label term needs labels the transfer set does not have.
        let hard = try config(
            distill: "{temperature: 2, alpha: 0.5, baseline: false, transfer: {format: npy, x: \(dir)/transfer_x.npy}}")
        XCTAssertThrowsError(try Pipeline(config: hard, outDir: dir).runDistillation(baseline: false)) { e in
            XCTAssertTrue("\(e)".contains("alpha"), "\(e)")
        }
    }
}
