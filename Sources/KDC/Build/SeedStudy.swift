import Foundation

/// Teacher / baseline / distilled test accuracy over several student seeds (one teacher).
public struct SeedStudy: Codable, Sendable {
    public var seeds: [UInt64]
    public var teacherAccuracy: Double?
    public var baseline: [Double]
    public var distilled: [Double]

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
        var t = "| teacher | baseline (hard labels) | distilled | seeds |\n| --- | --- | --- | --- |\n"
        t +=
            "| \(fmtPct(teacherAccuracy)) | \(cell(baseline)) | \(cell(distilled)) | \(seeds.map(String.init).joined(separator: ", ")) |\n"
        t +=
            "per seed (baseline → distilled): "
            + zip(baseline, distilled).map { String(format: "%.2f → %.2f", $0 * 100, $1 * 100) }.joined(separator: ", ") + "\n"
        return t
    }
}

extension Pipeline {
    /// Gets the teacher once (with the config's seed), then for each seed trains the student by
    /// distillation and, with the same recipe and seed, on hard labels alone.
    public func seedStudy(seeds: [UInt64]) throws -> SeedStudy {
        guard let sc = config.student else {
            throw KDCError.config(file: config.file, key: "student", message: "the config defines no student")
        }
        let data = try loadData()
        var transfer = data.train
        if let src = config.distill.transfer {
            transfer = try loadTransfer(
                src, like: config.data, normalization: data.normalization, baseDirectory: config.baseDirectory)
        }
        let (source, teacher) = try self.teacher(data: data, transfer: transfer)
        var study = SeedStudy(seeds: seeds, teacherAccuracy: teacher?.report.floatAccuracy, baseline: [], distilled: [])
        for seed in seeds {
            stage("seed \(seed)", detail: "distilled and baseline students")
            let d = try distill(sc, teacher: source, transfer: transfer, data: data, seed: seed)
            let b = try train(sc, role: .baseline, data: data, seed: seed)
            study.distilled.append(d.report.floatAccuracy ?? 0)
            study.baseline.append(b.report.floatAccuracy ?? 0)
        }
        return study
    }
}
