import XCTest
@testable import KDC

/// The C training kernels (Adam, ReLU backward, dropout) against plain Swift references of the
/// formulas they document, the skipped input gradients, and the trainer's per-layer updates
/// against one optimizer step after the whole backward pass.
final class TrainingKernelTests: XCTestCase {
    /// Adam/AdamW/SGD through `Optimizer` over 20,003 values (split over cores, with a tail)
    /// equal, bit for bit, element-by-element Swift loops of the same formulas.
    func testOptimizerMatchesScalarReference() {
        for kind in OptimizerKind.allCases {
            var rng = SeededRNG(seed: 11)
            let n = 20_003
            let p = Parameter(name: "w", value: randomTensor([n], &rng), decays: true)
            let opt = Optimizer(kind: kind, momentum: 0.9, weightDecay: 0.01)
            var w = p.value.data, m = [Float](repeating: 0, count: n), v = [Float](repeating: 0, count: n)
            let (b1, b2, eps): (Float, Float, Float) = (0.9, 0.999, 1e-8)
            for t in 1...3 {
                p.grad = randomTensor([n], &rng, lo: -2, hi: 2)
                let lr: Float = 0.01 / Float(t)
                opt.step([p], lr: lr)
                let c1 = 1 - Float(Foundation.pow(Double(b1), Double(t)))
                let c2 = 1 - Float(Foundation.pow(Double(b2), Double(t)))
                let l2: Float = kind == .adamw ? 0 : 0.01
                let decoupled: Float = kind == .adamw ? lr * 0.01 : 0
                for i in 0..<n {
                    let g = p.grad.data[i] + l2 * w[i]
                    if kind == .sgd {
                        m[i] = 0.9 * m[i] + g
                        w[i] -= lr * m[i]
                    } else {
                        m[i] = b1 * m[i] + (1 - b1) * g
                        v[i] = b2 * v[i] + (1 - b2) * g * g
                        w[i] -= decoupled * w[i] + (lr / c1) * m[i] / ((v[i] * (1 / c2)).squareRoot() + eps)
                    }
                }
                let differing = (0..<n).filter { p.value.data[$0].bitPattern != w[$0].bitPattern }
                XCTAssertEqual(differing.count, 0, "\(kind) step \(t): first differing index \(differing.first ?? -1)")
            }
        }
    }

    /// The gradient passes where 0 < y (and y < 6 for ReLU6), at the kinks and at infinity too.
    func testReLUBackwardSelectsByOutput() {
        let x = Tensor(shape: [1, 9], data: [-1, 0, 0.5, 5.999, 6, 7, .infinity, -.infinity, 3])
        let g = Tensor(shape: [1, 9], data: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        for (cap, want) in [(nil, [0, 0, 3, 4, 5, 6, 7, 0, 9]), (Float(6), [0, 0, 3, 4, 0, 0, 0, 0, 9])] as [(Float?, [Float])] {
            let layer = ReLULayer(name: "r", inputShape: [9], cap: cap)
            var ctx = PassContext(training: true)
            _ = layer.forward([x], context: &ctx)
            XCTAssertEqual(layer.backward(g)[0].data, want, "cap \(String(describing: cap))")
        }
    }

    /// Element i is kept when the 16-bit field i of the generator's words is ≥ rate·65536, scaled
    /// by 1/(1 − rate); a layer of n values draws ⌈n/4⌉ words.
    func testDropoutMaskFollowsTheRandomWords() throws {
        for n in [1, 4, 7, 4099] {
            let layer = try DropoutLayer(name: "d", inputShape: [n], rate: 0.3)
            var rng = SeededRNG(seed: UInt64(n))
            let x = randomTensor([1, n], &rng)
            var ctx = PassContext(training: true, rng: SeededRNG(seed: 5))
            let y = layer.forward([x], context: &ctx)
            var words = SeededRNG(seed: 5)
            var bits: [UInt64] = []
            for _ in 0..<((n + 3) / 4) { bits.append(words.next()) }
            let threshold = UInt64((Float(0.3) * 65536).rounded()), keep: Float = 1 / (1 - 0.3)
            var masks: [Float] = []
            for i in 0..<n {
                let field = (bits[i / 4] >> (16 * UInt64(i % 4))) & 0xffff
                let m: Float = field >= threshold ? keep : 0
                masks.append(m)
                XCTAssertEqual(y.data[i].bitPattern, (x.data[i] * m).bitPattern, "n \(n), element \(i)")
            }
            XCTAssertEqual(ctx.rng.next(), words.next(), "n \(n): the context's generator advanced by ⌈n/4⌉ words")
            XCTAssertEqual(
                layer.backward(Tensor(shape: [1, n], value: 1))[0].data, masks, "n \(n): backward multiplies by the mask")
            if n == 4099 { XCTAssertEqual(Double(masks.filter { $0 > 0 }.count) / Double(n), 0.7, accuracy: 0.03) }
        }
    }

    /// Without the input gradient, the parameter gradients are the same and no input gradient
    /// comes back; layers in front of the first trainable one are not run backward.
    func testSkippedInputGradientsKeepParameterGradients() throws {
        let specs = [
            GraphSpec.sequential(
                inputShape: [4, 4, 1], [.flatten, .dense(units: 5), .relu, .dropout(rate: 0.2), .dense(units: 3)]),
            GraphSpec.sequential(
                inputShape: [6, 6, 2],
                [
                    .conv2d(filters: 3, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), .relu,
                    .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid), .flatten, .dense(units: 3),
                ]),
        ]
        for spec in specs {
            var rng = SeededRNG(seed: 3)
            let x = randomTensor([4] + spec.inputShape, &rng)
            let g = randomTensor([4, 3], &rng)
            var grads: [[[Float]]] = []
            var returned: [Tensor?] = []
            var visited: [[Int]] = []
            for wantInput in [true, false] {
                let model = try Model(spec: spec, seed: 7)
                model.zeroGrad()
                var ctx = PassContext(training: true, rng: SeededRNG(seed: 9))
                _ = model.forward(x, context: &ctx)
                var seen: [Int] = []
                returned.append(model.backward(g, inputGradient: wantInput) { seen.append($0) })
                grads.append(model.parameters.map(\.grad.data))
                visited.append(seen)
            }
            XCTAssertEqual(grads[0], grads[1])
            XCTAssertEqual(returned[0]?.shape, [4] + spec.inputShape)
            XCTAssertNil(returned[1])
            XCTAssertEqual(visited[0], Array((0..<spec.nodes.count).reversed()))
            // The flatten in front of the first dense layer has nothing to do.
            let firstTrainable = spec.nodes.firstIndex { if case .flatten = $0.op { return false } else { return true } }!
            XCTAssertEqual(visited[1], Array((firstTrainable..<spec.nodes.count).reversed()))
        }
    }

    /// The trainer updates each layer as soon as its backward pass is done; that gives the same
    /// weights, bit for bit, as one optimizer step after the whole pass.
    func testPerLayerUpdatesEqualOneStepAfterBackward() throws {
        var rng = SeededRNG(seed: 21)
        let n = 48
        let data = Dataset(
            name: "toy", sampleShape: [6, 6, 1], x: (0..<(n * 36)).map { _ in rng.uniform() },
            labels: (0..<n).map { Int32($0 % 3) }, numClasses: 3)
        let spec = GraphSpec.sequential(
            inputShape: [6, 6, 1],
            [
                .conv2d(filters: 4, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same),
                .batchNorm(epsilon: 1e-3, momentum: 0.9),
                .relu, .flatten, .dense(units: 8), .relu, .dropout(rate: 0.25), .dense(units: 3),
            ])
        for kind in OptimizerKind.allCases {
            var s = TrainSettings()
            s.epochs = 2
            s.batchSize = 16
            s.optimizer = kind
            s.weightDecay = 0.01
            s.learningRate = 0.01
            let fused = try Model(spec: spec, seed: 4)
            try Trainer(model: fused, settings: s, seed: 8).fit(train: data, validation: nil)

            // The same run written out: zero, forward, loss, whole backward, then one step.
            let plain = try Model(spec: spec, seed: 4)
            let opt = Optimizer(kind: kind, momentum: s.momentum, weightDecay: s.weightDecay)
            var shuffle = SeededRNG(seed: 8, stream: "shuffle")
            var ctx = PassContext(training: true, rng: SeededRNG(seed: 8, stream: "dropout"))
            let steps = n / s.batchSize
            for epoch in 0..<s.epochs {
                let order = shuffle.permutation(n)
                for step in 0..<steps {
                    let idx = order[(step * s.batchSize)..<((step + 1) * s.batchSize)]
                    plain.zeroGrad()
                    let logits = plain.forward(data.batch(idx), context: &ctx)
                    let (_, g) = softmaxCrossEntropy(logits, labels: idx.map { data.labels[$0] }[...])
                    plain.backward(g)
                    opt.step(
                        plain.parameters,
                        lr: s.schedule.rate(
                            base: s.learningRate, epoch: epoch,
                            fraction: Double(step) / Double(steps), epochs: s.epochs))
                }
            }
            for (a, b) in zip(fused.parameters, plain.parameters) {
                XCTAssertEqual(a.value.data.map(\.bitPattern), b.value.data.map(\.bitPattern), "\(kind) \(a.name)")
            }
        }
    }
}
