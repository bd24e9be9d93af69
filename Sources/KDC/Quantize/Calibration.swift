import Foundation

/// Activation range calibration over the rewritten float graph (docs/QUANTIZATION.md).
enum Calibration {
    /// Histogram bins per tensor for the percentile and mse methods.
    static let bins = 2048
    /// Shrink factors tried by the mse method: 1.00, 0.99, ..., 0.20.
    static let mseGrid: [Double] = (0...80).map { 1.0 - Double($0) * 0.01 }

    /// (min, max) of every tensor of the lowered float graph `g` (indexed by tensor id), each
    /// range containing 0. One pass for minmax; the other methods take a second pass filling a
    /// histogram over the observed [min, max].
    static func ranges(
        _ g: Graph, data: Dataset, method: CalibrationMethod,
        percentile: Double
    ) throws -> [(min: Float, max: Float)] {
        guard data.count > 0 else {
            throw KDCError.data(file: data.name, message: "the calibration set is empty; hint: give at least one sample")
        }
        guard data.sampleSize == g[g.input].count else {
            throw KDCError.data(
                file: data.name, message: "calibration samples have shape \(data.sampleShape), the model expects \(g.inputShape)")
        }
        let names = g.tensors.indices
        var lo = [Float](repeating: 0, count: g.tensors.count), hi = lo  // ranges always contain 0
        let sample = { (i: Int) in Array(data.x[(i * data.sampleSize)..<((i + 1) * data.sampleSize)]) }
        for i in 0..<data.count {
            for (n, v) in g.runFloat(sample(i)).enumerated() {
                for x in v where x.isFinite { if x < lo[n] { lo[n] = x }; if x > hi[n] { hi[n] = x } }
            }
        }
        if method == .minmax { return names.map { (lo[$0], hi[$0]) } }
        guard percentile > 50, percentile <= 100 else {
            throw KDCError.budget(message: "calibration percentile \(percentile) must be in (50, 100]; hint: 99.99 is typical")
        }
        var hist = [[Double]](repeating: [Double](repeating: 0, count: bins), count: g.tensors.count)
        for i in 0..<data.count {
            for (n, v) in g.runFloat(sample(i)).enumerated() {
                let a = Double(lo[n]), w = Double(hi[n]) - a
                guard w > 0 else { continue }
                for x in v where x.isFinite {
                    let b = Int((Double(x) - a) / w * Double(bins))
                    hist[n][min(max(b, 0), bins - 1)] += 1
                }
            }
        }
        return names.map { n in
            let a = Double(lo[n]), b = Double(hi[n])
            guard b > a else { return (lo[n], hi[n]) }
            let h = hist[n]
            let r = method == .percentile ? percentileRange(h, a, b, percentile) : mseRange(h, a, b)
            return (Float(min(r.0, 0)), Float(max(r.1, 0)))
        }
    }

    /// The (100 − p)-th and p-th percentiles from a histogram over [a, b] (bin edges, outward).
    static func percentileRange(_ h: [Double], _ a: Double, _ b: Double, _ p: Double) -> (Double, Double) {
        let total = h.reduce(0, +)
        let width = (b - a) / Double(h.count)
        let tail = total * (100 - p) / 100
        var lo = a, hi = b
        var c = 0.0
        for i in 0..<h.count { c += h[i]; if c > tail { lo = a + Double(i) * width; break } }
        c = 0
        for i in stride(from: h.count - 1, through: 0, by: -1) {
            c += h[i]; if c > tail { hi = a + Double(i + 1) * width; break }
        }
        return (lo, hi)
    }

    /// The shrunk range α·[a, b] (α on `mseGrid`) with the least quantization squared error,
    /// each bin represented by its centre; ties keep the larger α.
    static func mseRange(_ h: [Double], _ a: Double, _ b: Double) -> (Double, Double) {
        let width = (b - a) / Double(h.count)
        var best = (a, b), bestErr = Double.infinity
        for alpha in mseGrid {
            let (s, z) = Quant.activationParams(min: Float(alpha * a), max: Float(alpha * b))
            let sd = Double(s), zd = Double(z)
            var err = 0.0
            for i in 0..<h.count where h[i] > 0 {
                let v = a + (Double(i) + 0.5) * width
                let q = min(max((v / sd).rounded() + zd, -128), 127)
                let d = v - sd * (q - zd)
                err += d * d * h[i]
            }
            if err < bestErr { bestErr = err; best = (alpha * a, alpha * b) }
        }
        return best
    }
}
