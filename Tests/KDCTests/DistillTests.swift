import XCTest
@testable import KDC

final class DistillTests: XCTestCase {
    func testSoftLossAndGradientVanishWhenStudentEqualsTeacher() {
        var rng = SeededRNG(seed: 11)
        let z = randomTensor([4, 10], &rng, lo: -5, hi: 5)
        let unlabelled = [Int32](repeating: -1, count: 4)
        for t: Float in [1, 4, 20] {
            let (loss, g) = distillationLoss(
                student: z, teacher: z, labels: unlabelled[...],
                settings: DistillSettings(temperature: t, alpha: 0))
            XCTAssertEqual(loss, 0, accuracy: 1e-6, "T=\(t)")
            XCTAssertLessThan(g.data.map { abs($0) }.max()!, 1e-6, "T=\(t)")
        }
    }

    func testGradientMatchesFiniteDifferences() {
        var rng = SeededRNG(seed: 12)
        let labels: [Int32] = [3, -1, 0]
        for (t, a) in [(Float(1), Float(0.5)), (4, 0.1), (20, 0), (2, 1)] {
            let s = randomTensor([3, 5], &rng, lo: -4, hi: 4)
            let te = randomTensor([3, 5], &rng, lo: -4, hi: 4)
            let settings = DistillSettings(temperature: t, alpha: a)
            let (_, g) = distillationLoss(student: s, teacher: te, labels: labels[...], settings: settings)
            let eps: Float = 1e-2
            for i in 0..<s.count {
                var p = s, m = s
                p.data[i] += eps
                m.data[i] -= eps
                let lp = distillationLoss(student: p, teacher: te, labels: labels[...], settings: settings).loss
                let lm = distillationLoss(student: m, teacher: te, labels: labels[...], settings: settings).loss
                let num = (lp - lm) / (2 * eps)
                XCTAssertEqual(g.data[i], num, accuracy: 3e-3 + 2e-2 * abs(num), "T=\(t) alpha=\(a) index \(i)")
            }
        }
    }

    func testTSquaredKeepsSoftGradientScaleComparable() {
        // Without the T² factor the soft gradient shrinks roughly as 1/T² for large T
        // (Hinton et al. 2015, section 2.1). With it, the norms at T = 1, 4, 20 stay within a
        // small factor of each other, while 1/T² alone would span a factor of 400.
        var rng = SeededRNG(seed: 13)
        let s = randomTensor([64, 10], &rng, lo: -2, hi: 2)
        let te = randomTensor([64, 10], &rng, lo: -2, hi: 2)
        let none = [Int32](repeating: -1, count: 64)
        var norms: [Float] = []
        for t: Float in [1, 4, 20] {
            let g = distillationLoss(
                student: s, teacher: te, labels: none[...],
                settings: DistillSettings(temperature: t, alpha: 0)
            ).grad
            norms.append(g.data.reduce(0) { $0 + $1 * $1 }.squareRoot())
        }
        let ratio = norms.max()! / norms.min()!
        XCTAssertLessThan(ratio, 4, "soft gradient norms at T=1,4,20: \(norms)")
    }

    func testAlphaOneIsCrossEntropy() {
        var rng = SeededRNG(seed: 14)
        let s = randomTensor([3, 4], &rng), te = randomTensor([3, 4], &rng)
        let labels: [Int32] = [1, 2, 0]
        let d = distillationLoss(
            student: s, teacher: te, labels: labels[...], settings: DistillSettings(temperature: 3, alpha: 1))
        let ce = softmaxCrossEntropy(s, labels: labels[...])
        XCTAssertEqual(d.loss, ce.loss, accuracy: 1e-5)
        for i in 0..<s.count { XCTAssertEqual(d.grad.data[i], ce.grad.data[i], accuracy: 1e-6) }
    }

    func testStableForExtremeLogits() {
        let z = Tensor(shape: [1, 3], data: [1000, -1000, 0])
        let te = Tensor(shape: [1, 3], data: [-1000, 1000, 5])
        let none: [Int32] = [-1]
        let (loss, g) = distillationLoss(
            student: z, teacher: te, labels: none[...], settings: DistillSettings(temperature: 1, alpha: 0))
        XCTAssertTrue(loss.isFinite)
        XCTAssertTrue(g.data.allSatisfy { $0.isFinite })
        let p = softmax(z, temperature: 1)
        XCTAssertEqual(p.data[0], 1, accuracy: 1e-6)
    }
}

final class SeedStudyTests: XCTestCase {
    func testMeanAndSampleStandardDeviation() {
        let s = SeedStudy.stats([0.96, 0.97, 0.98])
        XCTAssertEqual(s.mean, 0.97, accuracy: 1e-12)
        XCTAssertEqual(s.sd, 0.01, accuracy: 1e-12)
        XCTAssertEqual(SeedStudy.stats([0.5]).sd, 0)
    }

    /// `samples/digits/config.yaml` cut to a few epochs, T and α fixed, seeds 0 and 1: the study
    /// records int8 test accuracy per seed for both students, the config seed's figures are the
    /// int8 accuracy `kdc build`'s quantize stage gives the same model, and the table shows them.
    func testSeedStudyRecordsInt8AccuracyPerSeed() throws {
        var cfg = try KDCConfig.load(path: CLITests.repoRoot + "/samples/digits/config.yaml")
        cfg.teacher.model?.train.epochs = 2
        cfg.student?.train.epochs = 4
        cfg.distill.temperature = 4
        cfg.distill.alpha = 0.5
        let dir = NSTemporaryDirectory() + "kdc-seedstudy-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Pipeline(config: cfg, outDir: dir)
        let (study, r) = try p.seedStudy(seeds: [0, 1])
        XCTAssertEqual(study.seeds, [0, 1])
        for q in [study.baselineInt8, study.distilledInt8, study.shippedInt8] {
            let q = try XCTUnwrap(q)
            XCTAssertEqual(q.count, 2)
            // Every figure is a count of the test images over their number, above chance.
            let n = Double(r.data.test.count)
            for a in q {
                XCTAssertGreaterThan(a, 0.3)
                XCTAssertEqual(a * n, (a * n).rounded(), accuracy: 1e-6)
            }
        }
        // Seed 0 is the config's seed: its students are the ones runDistillation returns.
        let d8 = try XCTUnwrap(p.quantize(r.student.model, data: r.data).report.int8Accuracy)
        let b8 = try XCTUnwrap(p.quantize(XCTUnwrap(r.baseline).model, data: r.data).report.int8Accuracy)
        XCTAssertEqual(study.distilledInt8?[0], d8)
        XCTAssertEqual(study.baselineInt8?[0], b8)
        XCTAssertEqual(study.shippedInt8?[0], r.decision.shipsBaseline ? b8 : d8)
        // int8 stays close to float for each seed (a broken int8 path would not).
        for i in 0..<2 {
            XCTAssertEqual(study.distilledInt8![i], study.distilled[i], accuracy: 0.05)
            XCTAssertEqual(study.baselineInt8![i], study.baseline[i], accuracy: 0.05)
        }
        let table = study.table
        XCTAssertTrue(
            table.contains("| distilled | \(SeedStudy.cell(study.distilled)) | \(SeedStudy.cell(study.distilledInt8)) |"), table)
        XCTAssertTrue(table.contains(String(format: "%.2f / %.2f", study.baseline[1] * 100, study.baselineInt8![1] * 100)), table)
        XCTAssertTrue(r.summary.contains("int8: baseline"), r.summary)
    }

    func testTableOfAStudyWithoutInt8() {
        let s = SeedStudy(
            seeds: [0, 1], teacherAccuracy: 0.99, temperature: 4, alpha: 0.5, baseline: [0.97, 0.98],
            distilled: [0.98, 0.99])
        XCTAssertTrue(s.table.contains("| baseline (hard labels) | 97.50% ± 0.71 | — | 97.00, 98.00 |"), s.table)
        // A report.json written before the int8 fields still decodes.
        let json = #"{"seeds":[0],"baseline":[0.5],"distilled":[0.6],"shipped":[],"shippedModels":[]}"#
        let back = try? JSONDecoder().decode(SeedStudy.self, from: Data(json.utf8))
        XCTAssertEqual(back?.distilled, [0.6])
        XCTAssertNil(back?.distilledInt8)
    }
}
