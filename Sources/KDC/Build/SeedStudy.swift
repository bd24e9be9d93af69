import Foundation

/// Teacher / baseline / distilled test accuracy over several student seeds (one teacher).
public struct SeedStudy: Codable, Sendable {
    public var seeds: [UInt64]
    public var teacherAccuracy: Double?
    /// The setting every seed's distilled student was trained with.
    public var temperature: Float?
    public var alpha: Float?
    public var baseline: [Double]
    public var distilled: [Double]
    /// Test accuracy of the student the ship policy picks for each seed, and which it was.
    public var shipped: [Double] = []
    public var shippedModels: [String] = []

    /// Mean and sample standard deviation.
    public static func stats(_ x: [Double]) -> (mean: Double, sd: Double) {
        let m = x.reduce(0, +) / Double(max(x.count, 1))
        let v = x.count > 1 ? x.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(x.count - 1) : 0
        return (m, v.squareRoot())
    }

    public var table: String {
        func cell(_ x: [Double]) -> String {
            let s = SeedStudy.stats(x)
            return String(format: "%.2f%% ± %.2f", s.mean * 100, s.sd * 100)
        }
        let setting = temperature.map { t in "T \(fmtNumber(t)), α \(alpha.map(fmtNumber) ?? "?")" } ?? "—"
        var t =
            "| teacher | baseline (hard labels) | distilled | shipped | T, α | seeds |\n| --- | --- | --- | --- | --- | --- |\n"
        t +=
            "| \(fmtPct(teacherAccuracy)) | \(cell(baseline)) | \(cell(distilled)) | \(shipped.isEmpty ? "—" : cell(shipped)) | "
            + "\(setting) | \(seeds.map(String.init).joined(separator: ", ")) |\n"
        t +=
            "per seed (baseline → distilled"
            + (shippedModels.isEmpty ? "" : "; shipped") + "): "
            + baseline.indices.map { i in
                String(format: "%.2f → %.2f", baseline[i] * 100, distilled[i] * 100)
                    + (i < shippedModels.count ? " (\(shippedModels[i]))" : "")
            }.joined(separator: ", ") + "\n"
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
}
