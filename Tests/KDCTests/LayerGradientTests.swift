import XCTest
@testable import KDC

/// Finite-difference checks of every layer's backward pass (inputs and parameters), and of whole
/// models with a residual connection and fan-out.
final class LayerGradientTests: XCTestCase {
    /// Random non-zero biases, so a bias bug cannot hide behind zeros.
    func randomize(_ p: Parameter, _ rng: inout SeededRNG) {
        for i in 0..<p.value.count { p.value.data[i] = rng.uniform() - 0.5 }
    }

    /// A tensor whose values are distinct and at least 0.05 apart (stable argmax under ±eps).
    func distinctTensor(_ shape: [Int], _ rng: inout SeededRNG) -> Tensor {
        let n = shape.reduce(1, *)
        return Tensor(shape: shape, data: rng.permutation(n).map { Float($0) * 0.05 - Float(n) * 0.025 })
    }

    func testConv2DGradient() throws {
        var rng = SeededRNG(seed: 21)
        let cases: [(h: Int, w: Int, c: Int, f: Int, k: Size2, s: Size2, p: Padding)] = [
            (5, 5, 2, 3, Size2(3, 3), Size2(1, 1), .same),
            (5, 5, 2, 3, Size2(3, 3), Size2(1, 1), .valid),
            (6, 5, 3, 2, Size2(3, 3), Size2(2, 2), .same),
            (7, 6, 2, 2, Size2(2, 3), Size2(2, 2), .valid),
            (5, 6, 1, 2, Size2(3, 2), Size2(2, 1), .same),
        ]
        for t in cases {
            let layer = try Conv2DLayer(
                name: "conv", inputShape: [t.h, t.w, t.c], filters: t.f, kernel: t.k,
                stride: t.s, padding: t.p, rng: &rng)
            randomize(layer.bias, &rng)
            gradCheck(layer, inputs: [randomTensor([2, t.h, t.w, t.c], &rng)], maxChecks: 40)
        }
    }

    func testConv2DGradientInChunks() throws {
        // A batch larger than one column chunk exercises the recomputed-im2col backward path.
        var rng = SeededRNG(seed: 22)
        let layer = try Conv2DLayer(
            name: "conv", inputShape: [4, 4, 2], filters: 2, kernel: Size2(3, 3),
            stride: Size2(1, 1), padding: .same, rng: &rng)
        randomize(layer.bias, &rng)
        let x = randomTensor([3, 4, 4, 2], &rng)
        var ctx = PassContext(training: true)
        let whole = layer.forward([x], context: &ctx)
        let g = randomTensor(whole.shape, &rng)
        let dx = layer.backward(g)[0]
        let dw = layer.weight.grad
        let chunked = try Conv2DLayer(
            name: "conv", inputShape: [4, 4, 2], filters: 2, kernel: Size2(3, 3),
            stride: Size2(1, 1), padding: .same, rng: &rng, maxColumnValues: 16 * 18)
        chunked.weight.value = layer.weight.value
        chunked.bias.value = layer.bias.value
        XCTAssertEqual(chunked.forward([x], context: &ctx), whole)
        let dx2 = chunked.backward(g)[0]
        for i in 0..<dx.count { XCTAssertEqual(dx.data[i], dx2.data[i], accuracy: 1e-5) }
        for i in 0..<dw.count { XCTAssertEqual(dw.data[i], chunked.weight.grad.data[i], accuracy: 1e-5) }
        gradCheck(chunked, inputs: [x], maxChecks: 30)
    }

    func testDepthwiseGradient() throws {
        var rng = SeededRNG(seed: 23)
        let cases: [(c: Int, m: Int, k: Size2, s: Size2, p: Padding)] = [
            (3, 1, Size2(3, 3), Size2(1, 1), .same),
            (2, 2, Size2(3, 3), Size2(2, 2), .same),
            (2, 2, Size2(2, 3), Size2(1, 2), .valid),
        ]
        for t in cases {
            let layer = try DepthwiseConv2DLayer(
                name: "dw", inputShape: [5, 5, t.c], kernel: t.k, stride: t.s,
                padding: t.p, multiplier: t.m, rng: &rng)
            randomize(layer.bias, &rng)
            gradCheck(layer, inputs: [randomTensor([2, 5, 5, t.c], &rng)], maxChecks: 40)
        }
    }

    func testPoolGradients() throws {
        var rng = SeededRNG(seed: 24)
        let cases: [(h: Int, w: Int, k: Size2, s: Size2, p: Padding)] = [
            (4, 4, Size2(2, 2), Size2(2, 2), .valid),
            (5, 5, Size2(2, 2), Size2(2, 2), .same),
            (5, 6, Size2(3, 3), Size2(2, 2), .same),  // overlapping windows
            (6, 5, Size2(3, 2), Size2(1, 2), .valid),  // stride ≠ pool
        ]
        for t in cases {
            let x = distinctTensor([2, t.h, t.w, 2], &rng)
            gradCheck(
                try MaxPool2DLayer(name: "max", inputShape: [t.h, t.w, 2], pool: t.k, stride: t.s, padding: t.p),
                inputs: [x])
            gradCheck(
                try AvgPool2DLayer(name: "avg", inputShape: [t.h, t.w, 2], pool: t.k, stride: t.s, padding: t.p),
                inputs: [x])
        }
        gradCheck(try GlobalAvgPoolLayer(name: "gap", inputShape: [3, 4, 3]), inputs: [randomTensor([2, 3, 4, 3], &rng)])
    }

    func testBatchNormGradientTraining() throws {
        var rng = SeededRNG(seed: 25)
        for shape in [[3, 3, 2], [4]] {
            let bn = try BatchNormLayer(name: "bn", inputShape: shape, epsilon: 1e-3, momentum: 0.99)
            randomize(bn.gamma, &rng)
            randomize(bn.beta, &rng)
            bn.gamma.value.data = bn.gamma.value.data.map { $0 + 1 }
            gradCheck(bn, inputs: [randomTensor([3] + shape, &rng, lo: -2, hi: 2)], training: true, eps: 1e-2)
        }
    }

    func testBatchNormGradientInference() throws {
        var rng = SeededRNG(seed: 26)
        let bn = try BatchNormLayer(name: "bn", inputShape: [2, 2, 3], epsilon: 1e-3, momentum: 0.9)
        randomize(bn.gamma, &rng)
        randomize(bn.beta, &rng)
        bn.runningMean.value = randomTensor([3], &rng)
        bn.runningVar.value = randomTensor([3], &rng, lo: 0.5, hi: 2)
        gradCheck(bn, inputs: [randomTensor([2, 2, 2, 3], &rng)], training: false)
    }

    func testLeakyReLUGradient() throws {
        var rng = SeededRNG(seed: 28)
        for alpha in [Float(0.2), 0.01, 0] {
            let layer = LeakyReLULayer(name: "leaky", inputShape: [3, 4, 2], alpha: alpha)
            // At least 0.05 from the kink at 0 (the finite differences step 0.01 each way).
            var x = randomTensor([2, 3, 4, 2], &rng)
            for i in 0..<x.count { x.data[i] = x.data[i] < 0 ? x.data[i] - 0.05 : x.data[i] + 0.05 }
            gradCheck(layer, inputs: [x])
            var ctx = PassContext(training: false)
            let y = layer.forward([x], context: &ctx)
            for i in 0..<x.count { XCTAssertEqual(y.data[i], x.data[i] >= 0 ? x.data[i] : alpha * x.data[i]) }
        }
    }

    func testDropoutAndAddGradients() throws {
        var rng = SeededRNG(seed: 27)
        let drop = try DropoutLayer(name: "drop", inputShape: [3, 4], rate: 0.4)
        gradCheck(drop, inputs: [randomTensor([2, 3, 4], &rng)], training: true)
        gradCheck(drop, inputs: [randomTensor([2, 3, 4], &rng)], training: false)
        let add = try AddLayer(name: "add", inputShapes: [[2, 3], [2, 3]])
        gradCheck(add, inputs: [randomTensor([2, 2, 3], &rng), randomTensor([2, 2, 3], &rng)])
    }

    /// Checks dL/dx of a whole model at a few input entries and a few entries of each given
    /// parameter, with L = Σ r ⊙ model(x) in training mode (deterministic: no dropout here).
    func modelGradCheck(
        _ model: Model, _ x: Tensor, params: [Parameter], checks: Int = 6, eps: Float = 1e-2,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        var rng = SeededRNG(seed: 31)
        func run(_ x: Tensor) -> Tensor {
            var ctx = PassContext(training: true)
            return model.forward(x, context: &ctx)
        }
        let y0 = run(x)
        let r = randomTensor(y0.shape, &rng)
        func loss(_ x: Tensor) -> Double {
            let y = run(x)
            return (0..<y.count).reduce(0.0) { $0 + Double(y.data[$1]) * Double(r.data[$1]) }
        }
        model.zeroGrad()
        _ = run(x)
        guard let dx = model.backward(r) else { return XCTFail("no input gradient", file: file, line: line) }
        let grads = params.map { $0.grad }
        func compare(_ what: String, _ a: Float, _ n: Double) {
            XCTAssertTrue(
                abs(Double(a) - n) <= 2e-3 + 2e-2 * max(abs(Double(a)), abs(n)),
                "\(what): analytic \(a) vs numeric \(n)", file: file, line: line)
        }
        for i in pick(x.count, checks, &rng) {
            var p = x, m = x
            p.data[i] += eps
            m.data[i] -= eps
            compare("d input[\(i)]", dx.data[i], (loss(p) - loss(m)) / Double(2 * eps))
        }
        for (k, p) in params.enumerated() {
            for i in pick(p.value.count, checks, &rng) {
                let v = p.value.data[i]
                p.value.data[i] = v + eps
                let lp = loss(x)
                p.value.data[i] = v - eps
                let lm = loss(x)
                p.value.data[i] = v
                compare("d \(p.name)[\(i)]", grads[k].data[i], (lp - lm) / Double(2 * eps))
            }
        }
    }

    func testResidualModelGradient() throws {
        // conv → bn → relu → conv → add(skip from the first conv) → gap → dense.
        let same = Padding.same
        let spec = GraphSpec(
            inputShape: [5, 5, 2],
            nodes: [
                NodeSpec(
                    name: "c1", op: .conv2d(filters: 3, kernel: Size2(3, 3), stride: Size2(1, 1), padding: same),
                    inputs: ["input"]),
                NodeSpec(name: "bn", op: .batchNorm(epsilon: 1e-3, momentum: 0.99), inputs: ["c1"]),
                NodeSpec(name: "r", op: .relu, inputs: ["bn"]),
                NodeSpec(
                    name: "c2", op: .conv2d(filters: 3, kernel: Size2(3, 3), stride: Size2(1, 1), padding: same), inputs: ["r"]),
                NodeSpec(name: "sum", op: .add, inputs: ["c2", "c1"]),
                NodeSpec(name: "gap", op: .globalAvgPool, inputs: ["sum"]),
                NodeSpec(name: "out", op: .dense(units: 4), inputs: ["gap"]),
            ])
        let model = try Model(spec: spec, seed: 3)
        XCTAssertEqual(model.outputShape, [4])
        XCTAssertEqual(model.macs, 25 * 3 * 18 + 25 * 3 + 25 * 3 * 27 + 3 * 4)
        var rng = SeededRNG(seed: 4)
        let x = randomTensor([3, 5, 5, 2], &rng)
        let c1 = model.layers[0] as! Conv2DLayer, bn = model.layers[1] as! BatchNormLayer
        modelGradCheck(model, x, params: [c1.weight, c1.bias, bn.gamma])
    }

    func testFanOutGradientsAreSummed() throws {
        // p is read by both q and r; dL/dp must be the sum of both paths.
        let k = Size2(3, 3), s = Size2(1, 1)
        let spec = GraphSpec(
            inputShape: [4, 4, 1],
            nodes: [
                NodeSpec(name: "p", op: .conv2d(filters: 2, kernel: k, stride: s, padding: .same), inputs: ["input"]),
                NodeSpec(name: "q", op: .conv2d(filters: 2, kernel: k, stride: s, padding: .same), inputs: ["p"]),
                NodeSpec(name: "r", op: .depthwiseConv2d(kernel: k, stride: s, padding: .valid, multiplier: 1), inputs: ["p"]),
                NodeSpec(name: "qp", op: .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid), inputs: ["q"]),
                NodeSpec(name: "sum", op: .add, inputs: ["qp", "r"]),
                NodeSpec(name: "flat", op: .flatten, inputs: ["sum"]),
            ])
        let model = try Model(spec: spec, seed: 8)
        var rng = SeededRNG(seed: 9)
        let x = randomTensor([2, 4, 4, 1], &rng)
        let p = model.layers[0] as! Conv2DLayer
        modelGradCheck(model, x, params: [p.weight, p.bias], checks: 8)
    }
}

/// The parallel paths (batch split over the cores) must give what per-sample passes give.
final class LayerParallelTests: XCTestCase {
    /// Runs `layer` on the whole batch and on each sample alone; compares outputs, input
    /// gradients and accumulated parameter gradients.
    func assertBatchEqualsPerSample(_ layer: Layer, _ x: Tensor, file: StaticString = #filePath, line: UInt = #line) {
        var rng = SeededRNG(seed: 41)
        var ctx = PassContext(training: true)
        for p in layer.parameters { p.zeroGrad() }
        let y = layer.forward([x], context: &ctx)
        let g = randomTensor(y.shape, &rng)
        let dx = layer.backward(g)[0]
        let batchGrads = layer.parameters.map { $0.grad }
        for p in layer.parameters { p.zeroGrad() }
        let n = x.batch, yi = y.itemCount, xi = x.itemCount
        for s in 0..<n {
            let ys = layer.forward([x.slice(batch: s, count: 1)], context: &ctx)
            let dxs = layer.backward(g.slice(batch: s, count: 1))[0]
            // sgemm may block a batch differently from one sample: equal up to rounding.
            let dy = (0..<yi).map { abs(y.data[s * yi + $0] - ys.data[$0]) }.max()!
            let ddx = (0..<xi).map { abs(dx.data[s * xi + $0] - dxs.data[$0]) }.max()!
            XCTAssertLessThan(dy, 1e-5, "\(layer.name): output of sample \(s)", file: file, line: line)
            XCTAssertLessThan(ddx, 1e-5, "\(layer.name): dx of sample \(s)", file: file, line: line)
        }
        for (p, bg) in zip(layer.parameters, batchGrads) where p.trainable {
            let d = (0..<p.grad.count).map { abs(bg.data[$0] - p.grad.data[$0]) }.max()!
            XCTAssertLessThan(d, 1e-3, p.name, file: file, line: line)
        }
    }

    func testBigBatchesMatchPerSamplePasses() throws {
        var rng = SeededRNG(seed: 42)
        // Big enough that every layer below (forward and backward) takes the concurrent path.
        let x = randomTensor([64, 16, 16, 16], &rng)
        assertBatchEqualsPerSample(
            try DepthwiseConv2DLayer(
                name: "dw", inputShape: [16, 16, 16], kernel: Size2(3, 3),
                stride: Size2(1, 1), padding: .same, multiplier: 2, rng: &rng), x)
        assertBatchEqualsPerSample(
            try MaxPool2DLayer(
                name: "max", inputShape: [16, 16, 16], pool: Size2(2, 2),
                stride: Size2(2, 2), padding: .valid), x)
        assertBatchEqualsPerSample(
            try AvgPool2DLayer(
                name: "avg", inputShape: [16, 16, 16], pool: Size2(3, 3),
                stride: Size2(1, 1), padding: .same), x)
        let conv = try Conv2DLayer(
            name: "conv", inputShape: [16, 16, 16], filters: 8, kernel: Size2(3, 3),
            stride: Size2(1, 1), padding: .same, rng: &rng)
        assertBatchEqualsPerSample(conv, x)
    }

    func testSmallCNNLearnsAToyTask() throws {
        // Class 0: horizontal stripes; class 1: vertical stripes (a local pattern that survives
        // global average pooling); plus noise.
        var rng = SeededRNG(seed: 43)
        let n = 64
        var xs: [Float] = [], labels: [Int32] = []
        for i in 0..<n {
            let label = Int32(i % 2)
            for y in 0..<8 {
                for x in 0..<8 {
                    let bright = (label == 0 ? y : x) % 2 == 0
                    xs.append((bright ? 1 : 0) + 0.3 * (rng.uniform() - 0.5))
                }
            }
            labels.append(label)
        }
        let data = Dataset(name: "toy", sampleShape: [8, 8, 1], x: xs, labels: labels, numClasses: 2)
        let spec = GraphSpec.sequential(
            inputShape: [8, 8, 1],
            [
                .conv2d(filters: 4, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same),
                .batchNorm(epsilon: 1e-3, momentum: 0.9),
                .relu, .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid), .dropout(rate: 0.1),
                .depthwiseConv2d(kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same, multiplier: 1), .relu,
                .globalAvgPool, .dense(units: 2),
            ])
        var settings = TrainSettings()
        settings.epochs = 10
        settings.batchSize = 16
        settings.learningRate = 1e-2
        let model = try Model(spec: spec, seed: 1)
        let history = try Trainer(model: model, settings: settings, seed: 2).fit(train: data, validation: data)
        XCTAssertLessThan(history.last!.loss, history.first!.loss * 0.7, "\(history.map(\.loss))")
        XCTAssertGreaterThan(history.last!.validationAccuracy ?? 0, 0.9)
    }
}
