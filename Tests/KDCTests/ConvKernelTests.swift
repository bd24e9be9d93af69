import XCTest

@testable import KDC

/// The direct convolution kernels (Sources/CKDCKernels/conv.c) against Swift loops of the
/// fused multiply-add chains they document, bit for bit; the conv2d + ReLU fusion of `Model`;
/// and training run twice giving the same checkpoint bytes.
final class ConvKernelTests: XCTestCase {
    /// (h, w, cin, filters, kernel, stride, padding): channel counts that take every block width
    /// of the vector code (64, 32, 16, 8) and the portable tail, single input channels, strides.
    let cases: [(h: Int, w: Int, c: Int, f: Int, k: Size2, s: Size2, p: Padding)] = [
        (9, 8, 1, 8, Size2(3, 3), Size2(1, 1), .same),
        (7, 7, 8, 16, Size2(3, 3), Size2(1, 1), .same),
        (6, 9, 32, 64, Size2(3, 3), Size2(1, 1), .same),
        (6, 6, 16, 120, Size2(3, 3), Size2(1, 1), .valid),
        (8, 7, 3, 13, Size2(3, 2), Size2(2, 2), .same),
        (9, 8, 5, 24, Size2(2, 4), Size2(2, 3), .valid),
    ]

    /// The value of x at padded position (y, x) of sample s: 0 outside the input.
    func tap(_ x: Tensor, _ s: Int, _ y: Int, _ xx: Int, _ c: Int) -> Float {
        let (h, w, cin) = (x.shape[1], x.shape[2], x.shape[3])
        guard y >= 0, y < h, xx >= 0, xx < w else { return 0 }
        return x.data[((s * h + y) * w + xx) * cin + c]
    }

    func testForwardAndWeightGradientAreTheDocumentedChains() throws {
        var rng = SeededRNG(seed: 31)
        for t in cases {
            let layer = try Conv2DLayer(
                name: "conv", inputShape: [t.h, t.w, t.c], filters: t.f, kernel: t.k, stride: t.s, padding: t.p,
                rng: &rng)
            layer.bias.value = randomTensor([t.f], &rng)
            let g = layer.geometry, n = 5
            let x = randomTensor([n, t.h, t.w, t.c], &rng)
            for relu in [false, true] {
                layer.fusedReLU = relu
                var ctx = PassContext(training: true)
                let y = layer.forward([x], context: &ctx)
                var want = [Float](repeating: 0, count: y.count)
                for s in 0..<n {
                    for oy in 0..<g.oh {
                        for ox in 0..<g.ow {
                            for f in 0..<t.f {
                                var acc = layer.bias.value.data[f]
                                for ky in 0..<g.kh {
                                    for kx in 0..<g.kw {
                                        for c in 0..<t.c {
                                            let v = tap(x, s, oy * g.sh - g.padTop + ky, ox * g.sw - g.padLeft + kx, c)
                                            acc.addProduct(v, layer.weight.value.data[((ky * g.kw + kx) * t.c + c) * t.f + f])
                                        }
                                    }
                                }
                                want[((s * g.oh + oy) * g.ow + ox) * t.f + f] = relu ? max(acc, 0) : acc
                            }
                        }
                    }
                }
                let differing = (0..<want.count).filter { y.data[$0].bitPattern != want[$0].bitPattern }
                XCTAssertEqual(differing.count, 0, "forward \(t) relu \(relu): first at \(differing.first ?? -1)")

                // Weight and bias gradients: one chain per chunk of the batch (chunks of
                // ⌈n/4⌉ samples), the chunk sums added to the zero gradient in order.
                layer.weight.zeroGrad()
                layer.bias.zeroGrad()
                let gy = randomTensor(y.shape, &rng)
                _ = layer.backward(gy, inputGradients: false)
                let per = (n + 3) / 4
                var dw = [Float](repeating: 0, count: layer.weight.value.count)
                var db = [Float](repeating: 0, count: t.f)
                for c0 in stride(from: 0, to: n, by: per) {
                    var pw = [Float](repeating: 0, count: dw.count), pb = [Float](repeating: 0, count: t.f)
                    for s in c0..<min(n, c0 + per) {
                        for oy in 0..<g.oh {
                            for ox in 0..<g.ow {
                                for f in 0..<t.f {
                                    let gv = gy.data[((s * g.oh + oy) * g.ow + ox) * t.f + f]
                                    pb[f] += gv
                                    for ky in 0..<g.kh {
                                        for kx in 0..<g.kw {
                                            for c in 0..<t.c {
                                                let v = tap(
                                                    x, s, oy * g.sh - g.padTop + ky, ox * g.sw - g.padLeft + kx, c)
                                                pw[((ky * g.kw + kx) * t.c + c) * t.f + f].addProduct(v, gv)
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    for i in dw.indices { dw[i] += pw[i] }
                    for i in db.indices { db[i] += pb[i] }
                }
                XCTAssertEqual(layer.weight.grad.data.map(\.bitPattern), dw.map(\.bitPattern), "dW \(t)")
                XCTAssertEqual(layer.bias.grad.data.map(\.bitPattern), db.map(\.bitPattern), "db \(t)")
            }
        }
    }

    /// The input gradient (the flipped-kernel convolution at stride 1, sgemm and col2im at larger
    /// strides) against a double-precision sum of g·W over the windows holding each input value.
    func testInputGradientMatchesTheAdjoint() throws {
        var rng = SeededRNG(seed: 32)
        for t in cases {
            let layer = try Conv2DLayer(
                name: "conv", inputShape: [t.h, t.w, t.c], filters: t.f, kernel: t.k, stride: t.s, padding: t.p,
                rng: &rng)
            let g = layer.geometry, n = 3
            let x = randomTensor([n, t.h, t.w, t.c], &rng)
            var ctx = PassContext(training: true)
            let y = layer.forward([x], context: &ctx)
            let gy = randomTensor(y.shape, &rng)
            let dx = layer.backward(gy)[0]
            var want = [Double](repeating: 0, count: x.count)
            for s in 0..<n {
                for oy in 0..<g.oh {
                    for ox in 0..<g.ow {
                        for ky in 0..<g.kh {
                            for kx in 0..<g.kw {
                                let iy = oy * g.sh - g.padTop + ky, ix = ox * g.sw - g.padLeft + kx
                                guard iy >= 0, iy < t.h, ix >= 0, ix < t.w else { continue }
                                for c in 0..<t.c {
                                    for f in 0..<t.f {
                                        want[((s * t.h + iy) * t.w + ix) * t.c + c] +=
                                            Double(gy.data[((s * g.oh + oy) * g.ow + ox) * t.f + f])
                                            * Double(layer.weight.value.data[((ky * g.kw + kx) * t.c + c) * t.f + f])
                                    }
                                }
                            }
                        }
                    }
                }
            }
            XCTAssertEqual(dx.shape, x.shape)
            let worst = zip(dx.data, want).map { abs(Double($0) - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-4, "dx \(t)")
        }
    }

    /// A conv2d read only by a ReLU applies it itself, and a max pool reading only a ReLU applies
    /// its gradient mask; outputs and every gradient are the same bits as with the layers
    /// separate. A conv2d followed by ReLU6 is left alone.
    func testConvReLUFusionChangesNoValue() throws {
        var rng = SeededRNG(seed: 33)
        let spec = GraphSpec.sequential(
            inputShape: [8, 8, 2],
            [
                .conv2d(filters: 8, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), .relu,
                .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid),
                .conv2d(filters: 16, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), .relu6,
                .flatten, .dense(units: 3),
            ])
        let fused = try Model(spec: spec, seed: 3)
        let plain = try Model(spec: spec, seed: 3)
        let convs = plain.layers.compactMap { $0 as? Conv2DLayer }
        XCTAssertEqual(fused.layers.compactMap { ($0 as? Conv2DLayer)?.fusedReLU }, [true, false])
        XCTAssertEqual(fused.layers.compactMap { ($0 as? MaxPool2DLayer)?.masksReLUGradient }, [true])
        for c in convs { c.fusedReLU = false }
        for p in plain.layers.compactMap({ $0 as? MaxPool2DLayer }) { p.masksReLUGradient = false }
        for r in plain.layers.compactMap({ $0 as? ReLULayer }) {
            r.inputRectified = false
            r.gradientMasked = false
        }
        let x = randomTensor([6, 8, 8, 2], &rng)
        var c1 = PassContext(training: true), c2 = PassContext(training: true)
        let y1 = fused.forward(x, context: &c1), y2 = plain.forward(x, context: &c2)
        XCTAssertEqual(y1.data.map(\.bitPattern), y2.data.map(\.bitPattern))
        let g = randomTensor(y1.shape, &rng)
        let d1 = fused.backward(g)!, d2 = plain.backward(g)!
        XCTAssertEqual(d1.data.map(\.bitPattern), d2.data.map(\.bitPattern))
        for (a, b) in zip(fused.parameters, plain.parameters) {
            XCTAssertEqual(a.grad.data.map(\.bitPattern), b.grad.data.map(\.bitPattern), a.name)
        }
    }

    /// Max pooling 2x2 / 2 (the vector path at 8 and 16 channels, with a tail at 11) and 3x3 / 2
    /// (the general loop) against loops: forward, argmax, and the gradient with and without the
    /// ReLU mask applied in the pool.
    func testMaxPoolForwardAndBackwardMatchLoops() throws {
        var rng = SeededRNG(seed: 35)
        for (c, k, h) in [(8, 2, 6), (16, 2, 8), (11, 2, 6), (16, 3, 7)] {
            let pool = try MaxPool2DLayer(
                name: "mp", inputShape: [h, h, c], pool: Size2(k, k), stride: Size2(2, 2), padding: .valid)
            let g = pool.geometry, n = 3
            let x = randomTensor([n, h, h, c], &rng)
            for masked in [false, true] {
                pool.masksReLUGradient = masked
                var ctx = PassContext(training: true)
                let y = pool.forward([x], context: &ctx)
                let gy = randomTensor(y.shape, &rng)
                let dx = pool.backward(gy)[0]
                var wantY = [Float](repeating: 0, count: y.count), wantDx = [Float](repeating: 0, count: x.count)
                for s in 0..<n {
                    for oy in 0..<g.oh {
                        for ox in 0..<g.ow {
                            for ch in 0..<c {
                                var best = -Float.infinity, at = 0
                                for ky in 0..<k {
                                    for kx in 0..<k {
                                        let i = ((s * h + oy * 2 + ky) * h + ox * 2 + kx) * c + ch
                                        if x.data[i] > best { (best, at) = (x.data[i], i) }
                                    }
                                }
                                let j = ((s * g.oh + oy) * g.ow + ox) * c + ch
                                wantY[j] = best
                                wantDx[at] += masked && !(best > 0) ? 0 : gy.data[j]
                            }
                        }
                    }
                }
                XCTAssertEqual(y.data, wantY, "forward c \(c) k \(k)")
                XCTAssertEqual(dx.data.map(\.bitPattern), wantDx.map(\.bitPattern), "backward c \(c) k \(k) masked \(masked)")
            }
        }
    }

    /// The same seed gives the same checkpoint bytes: a small CNN trained twice (conv kernels
    /// split over the cores, shift augmentation, dropout, Adam).
    func testCNNTrainingIsDeterministic() throws {
        var rng = SeededRNG(seed: 34)
        let n = 300
        let data = Dataset(
            name: "toy", sampleShape: [12, 12, 1], x: (0..<(n * 144)).map { _ in rng.uniform() },
            labels: (0..<n).map { Int32($0 % 4) }, numClasses: 4)
        let spec = GraphSpec.sequential(
            inputShape: [12, 12, 1],
            [
                .conv2d(filters: 8, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), .relu,
                .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid),
                .conv2d(filters: 16, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), .relu,
                .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid),
                .flatten, .dropout(rate: 0.25), .dense(units: 4),
            ])
        var s = TrainSettings()
        s.epochs = 2
        s.batchSize = 64
        s.augmentShift = 1
        func trained() throws -> Data {
            let m = try Model(spec: spec, seed: 5)
            try Trainer(model: m, settings: s, seed: 6).fit(train: data, validation: nil)
            return try Checkpoint.encode(m, normalization: .identity)
        }
        let a = try trained(), b = try trained()
        XCTAssertEqual(a, b)
        XCTAssertGreaterThan(a.count, 4 * (8 * 9 + 16 * 72 + 144 * 4))
    }
}
