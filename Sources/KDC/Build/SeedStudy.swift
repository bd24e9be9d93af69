import Foundation

/// Teacher / baseline / distilled test accuracy over several student seeds (one teacher), in
/// float and in int8: every seed's students are quantized and run on the test split the way
/// `kdc build` does the shipped one (`Pipeline.int8Accuracy`).
public struct SeedStudy: Codable, Sendable {
    public var seeds: [UInt64]
    public var teacherAccuracy: Double?
    /// The setting every seed's distilled student was trained with.
    public var temperature: Float?
    public var alpha: Float?
    /// Float test accuracy per seed.
    public var baseline: [Double]
    public var distilled: [Double]
    /// Test accuracy of the student the ship policy picks for each seed, and which it was.
    public var shipped: [Double] = []
    public var shippedModels: [String] = []
    /// int8 test accuracy per seed (nil in a study written before kdc recorded it).
    public var baselineInt8: [Double]? = nil
    public var distilledInt8: [Double]? = nil
    public var shippedInt8: [Double]? = nil

    /// Mean and sample standard deviation.
    public static func stats(_ x: [Double]) -> (mean: Double, sd: Double) {
        let m = x.reduce(0, +) / Double(max(x.count, 1))
        let v = x.count > 1 ? x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1) : 0
        return (m, v.squareRoot())
    }

    /// "97.44% ± 1.17" (mean ± sample standard deviation, in points), "—" for none.
    public static func cell(_ x: [Double]?) -> String {
        guard let x, !x.isEmpty else { return "—" }
        let s = stats(x)
        return String(format: "%.2f%% ± %.2f", s.mean * 100, s.sd * 100)
    }

    /// One row per student (baseline, distilled, shipped): float and int8 mean ± sd, then each
    /// seed's float / int8 accuracy; a line with the teacher, the setting and the seeds.
    public var table: String {
        func perSeed(_ f: [Double], _ q: [Double]?) -> String {
            f.indices.map { i in
                String(format: "%.2f", f[i] * 100)
                    + (q.flatMap { i < $0.count ? String(format: " / %.2f", $0[i] * 100) : nil } ?? "")
            }.joined(separator: ", ")
        }
        let seedList = seeds.map(String.init).joined(separator: ", ")
        var t =
            "| student | float test | int8 test | per seed \(seedList) (float / int8) |\n| --- | --- | --- | --- |\n"
        t +=
            "| baseline (hard labels) | \(Self.cell(baseline)) | \(Self.cell(baselineInt8)) | \(perSeed(baseline, baselineInt8)) |\n"
        t += "| distilled | \(Self.cell(distilled)) | \(Self.cell(distilledInt8)) | \(perSeed(distilled, distilledInt8)) |\n"
        if !shipped.isEmpty {
            t +=
                "| shipped | \(Self.cell(shipped)) | \(Self.cell(shippedInt8)) | \(perSeed(shipped, shippedInt8))"
                + (shippedModels.isEmpty ? "" : " (\(shippedModels.joined(separator: ", ")))") + " |\n"
        }
        let setting = temperature.map { t in "T \(fmtNumber(t)), α \(alpha.map(fmtNumber) ?? "?")" } ?? "—"
        t += "teacher \(fmtPct(teacherAccuracy)) (float test), \(setting), seeds \(seedList)\n"
        return t
    }
}

extension Pipeline {
    /// The seed study of `kdc distill --seeds`: `runDistillation` with `distill.compare_seeds`
    /// set to `seeds` and the baseline on (the setting is chosen once, with the config's seed).
    public func seedStudy(seeds: [UInt64]) throws -> (study: SeedStudy, result: DistillationResult) {
        var cfg = config
        cfg.distill.compareSeeds = seeds
        let p = Pipeline(config: cfg, outDir: outDir, observer: observer)
        p.transaction = transaction  // its checkpoints belong to this pipeline's output set
        let r = try p.runDistillation(baseline: true)
        guard let study = r.comparison else {
            throw KDCError.training(message: "the seed study produced no comparison")
        }
        return (study, r)
    }

    /// int8 test accuracy of `model` as `kdc build` would ship it: the same quantization
    /// (`quantizedGraphs`: calibration, the front end's input scale, the config's arithmetic)
    /// and the Swift int8 reference on every test sample (no per-layer SQNR). Nil when no test
    /// sample is labelled.
    public func int8Accuracy(_ model: Model, data: DataSplits) throws -> Double? {
        let (float, graph) = try quantizedGraphs(model, data: data)
        return quantizationReport(float: float, quantized: graph, test: data.test, layerSamples: 0).int8Accuracy
    }
}
