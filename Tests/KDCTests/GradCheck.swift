import XCTest
@testable import KDC

/// Central finite-difference check of a layer's backward pass.
///
/// The scalar loss is L = Σ r ⊙ forward(x) for a fixed random r, summed in Double. The analytic
/// gradients come from `backward(r)`; the numeric ones perturb each input and parameter value by
/// ±eps. Entries are compared with |a − n| ≤ atol + rtol·max(|a|, |n|).
func gradCheck(
    _ layer: Layer, inputs: [Tensor], training: Bool = true, eps: Float = 1e-2,
    atol: Double = 2e-3, rtol: Double = 2e-2, seed: UInt64 = 7, maxChecks: Int = 60,
    file: StaticString = #filePath, line: UInt = #line
) {
    var rng = SeededRNG(seed: seed)
    func run(_ xs: [Tensor]) -> Tensor {
        // A fresh context per call with the same seed, so dropout masks repeat.
        var ctx = PassContext(training: training, rng: SeededRNG(seed: 99))
        return layer.forward(xs, context: &ctx)
    }
    let y0 = run(inputs)
    let r = Tensor(shape: y0.shape, data: (0..<y0.count).map { _ in rng.uniform() * 2 - 1 })
    func loss(_ xs: [Tensor]) -> Double {
        let y = run(xs)
        var s = 0.0
        for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
        return s
    }
    for p in layer.parameters { p.zeroGrad() }
    _ = run(inputs)
    let dx = layer.backward(r)
    XCTAssertEqual(dx.count, inputs.count, "one gradient per input", file: file, line: line)
    let paramGrads = layer.parameters.map { $0.grad }

    func compare(_ what: String, _ analytic: Float, _ numeric: Double) {
        let a = Double(analytic)
        let ok = abs(a - numeric) <= atol + rtol * max(abs(a), abs(numeric))
        XCTAssertTrue(ok, "\(layer.name) \(what): analytic \(a) vs numeric \(numeric)", file: file, line: line)
    }
    for (k, x) in inputs.enumerated() {
        for i in pick(x.count, maxChecks, &rng) {
            var plus = inputs, minus = inputs
            plus[k].data[i] += eps
            minus[k].data[i] -= eps
            compare("d input\(k)[\(i)]", dx[k].data[i], (loss(plus) - loss(minus)) / Double(2 * eps))
        }
    }
    for (pi, p) in layer.parameters.enumerated() where p.trainable {
        for i in pick(p.value.count, maxChecks, &rng) {
            let orig = p.value.data[i]
            p.value.data[i] = orig + eps
            let lp = loss(inputs)
            p.value.data[i] = orig - eps
            let lm = loss(inputs)
            p.value.data[i] = orig
            compare("d \(p.name)[\(i)]", paramGrads[pi].data[i], (lp - lm) / Double(2 * eps))
        }
    }
}

/// Up to `k` distinct indices in 0..<n (all of them when n ≤ k).
func pick(_ n: Int, _ k: Int, _ rng: inout SeededRNG) -> [Int] {
    n <= k ? Array(0..<n) : Array(rng.permutation(n).prefix(k))
}

/// A tensor of `shape` with uniform values in [lo, hi).
func randomTensor(_ shape: [Int], _ rng: inout SeededRNG, lo: Float = -1, hi: Float = 1) -> Tensor {
    Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in lo + (hi - lo) * rng.uniform() })
}
