import XCTest
@testable import KDC

final class CoreLayerTests: XCTestCase {
    func testDenseGradient() throws {
        var rng = SeededRNG(seed: 1)
        let layer = try DenseLayer(name: "d", inputShape: [2, 3], units: 4, rng: &rng)
        for i in 0..<layer.bias.value.count { layer.bias.value.data[i] = rng.uniform() - 0.5 }
        gradCheck(layer, inputs: [randomTensor([5, 2, 3], &rng)])
    }

    func testDenseForwardMatchesLoops() throws {
        var rng = SeededRNG(seed: 2)
        let layer = try DenseLayer(name: "d", inputShape: [3], units: 2, rng: &rng)
        layer.bias.value.data = [0.5, -1]
        let x = Tensor(shape: [2, 3], data: [1, 2, 3, -1, 0, 2])
        var ctx = PassContext(training: false)
        let y = layer.forward([x], context: &ctx)
        for r in 0..<2 {
            for j in 0..<2 {
                var s = layer.bias.value.data[j]
                for i in 0..<3 { s += x.data[r * 3 + i] * layer.weight.value.data[i * 2 + j] }
                XCTAssertEqual(y.data[r * 2 + j], s, accuracy: 1e-5)
            }
        }
    }

    func testReLUAndReLU6Gradient() {
        var rng = SeededRNG(seed: 3)
        // Values kept away from the kinks at 0 and 6, where the derivative is undefined.
        var x = randomTensor([4, 6], &rng, lo: -8, hi: 8)
        for i in 0..<x.count where abs(x.data[i]) < 0.1 || abs(x.data[i] - 6) < 0.1 { x.data[i] += 0.3 }
        gradCheck(ReLULayer(name: "relu", inputShape: [6]), inputs: [x])
        gradCheck(ReLULayer(name: "relu6", inputShape: [6], cap: 6), inputs: [x])
    }

    func testSoftmaxCrossEntropyGradient() {
        var rng = SeededRNG(seed: 4)
        let logits = randomTensor([3, 5], &rng, lo: -3, hi: 3)
        let labels: [Int32] = [0, 4, 2]
        let (_, g) = softmaxCrossEntropy(logits, labels: labels[...])
        let eps: Float = 1e-2
        for i in 0..<logits.count {
            var p = logits, m = logits
            p.data[i] += eps
            m.data[i] -= eps
            let num =
                (softmaxCrossEntropy(p, labels: labels[...]).loss - softmaxCrossEntropy(m, labels: labels[...]).loss) / (2 * eps)
            XCTAssertEqual(g.data[i], num, accuracy: 2e-3)
        }
    }

    func testModelChainShapesAndCounts() throws {
        // input → dense a → relu → dense b; gradients reach the input and every parameter..
        let spec = GraphSpec(
            inputShape: [4],
            nodes: [
                NodeSpec(name: "a", op: .dense(units: 4), inputs: ["input"]),
                NodeSpec(name: "r", op: .relu, inputs: ["a"]),
                NodeSpec(name: "b", op: .dense(units: 3), inputs: ["r"]),
            ])
        let model = try Model(spec: spec, seed: 5)
        var rng = SeededRNG(seed: 6)
        let x = randomTensor([2, 4], &rng)
        var ctx = PassContext(training: true)
        let y = model.forward(x, context: &ctx)
        XCTAssertEqual(y.shape, [2, 3])
        let dx = model.backward(Tensor(shape: [2, 3], value: 1))
        XCTAssertEqual(dx?.shape, [2, 4])
        XCTAssertEqual(model.parameterCount, 4 * 4 + 4 + 4 * 3 + 3)
        XCTAssertEqual(model.macs, 16 + 12)
    }

    func testUnknownInputIsAnError() {
        let spec = GraphSpec(inputShape: [4], nodes: [NodeSpec(name: "a", op: .dense(units: 4), inputs: ["nope"])])
        XCTAssertThrowsError(try Model(spec: spec, seed: 1)) { error in
            XCTAssertTrue("\(error)".contains("'nope'"), "\(error)")
        }
    }
}

final class BLASTests: XCTestCase {
    /// Large products are split by rows over the cores; every transpose combination must match a
    /// plain triple loop.
    func testSplitSgemmMatchesLoopsForEveryTranspose() {
        var rng = SeededRNG(seed: 21)
        let (m, n, k) = (130, 400, 330)  // m·n·k above the split threshold (2^24), m split unevenly
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = randomTensor(ta ? [k, m] : [m, k], &rng).data
            let b = randomTensor(tb ? [n, k] : [k, n], &rng).data
            var c = [Float](repeating: 1, count: m * n)
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    c.withUnsafeMutableBufferPointer { cp in
                        BLAS.sgemm(
                            transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: ap.baseAddress!,
                            b: bp.baseAddress!, beta: 2, c: cp.baseAddress!)
                    }
                }
            }
            for i in stride(from: 0, to: m, by: 7) {
                for j in stride(from: 0, to: n, by: 5) {
                    var s = 0.0
                    for p in 0..<k {
                        s += Double(ta ? a[p * m + i] : a[i * k + p]) * Double(tb ? b[j * k + p] : b[p * n + j])
                    }
                    XCTAssertEqual(Double(c[i * n + j]), 0.5 * s + 2, accuracy: 1e-3, "transA \(ta) transB \(tb) at \(i),\(j)")
                }
            }
        }
    }
}
