import XCTest
@testable import KDC

/// Forward passes checked against naïve, obviously right loops on random inputs.
final class LayerForwardTests: XCTestCase {
    /// TF padding computed independently of `Padding.output`: (out, padTop, padBottom).
    func reference(_ n: Int, _ k: Int, _ s: Int, _ padding: Padding) -> (out: Int, before: Int, after: Int) {
        if padding == .valid { return ((n - k) / s + 1, 0, 0) }
        let out = Int((Double(n) / Double(s)).rounded(.up))
        let total = max((out - 1) * s + k - n, 0)
        return (out, total / 2, total - total / 2)
    }

    /// Zero-pads `x` `[N, H, W, C]` explicitly.
    func pad(_ x: Tensor, top: Int, bottom: Int, left: Int, right: Int) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ph = h + top + bottom, pw = w + left + right
        var p = Tensor(shape: [n, ph, pw, c])
        for s in 0..<n {
            for y in 0..<h {
                for xx in 0..<w {
                    for ch in 0..<c {
                        p.data[((s * ph + y + top) * pw + xx + left) * c + ch] = x.data[((s * h + y) * w + xx) * c + ch]
                    }
                }
            }
        }
        return p
    }

    /// Direct convolution (depthwise when `multiplier` is set) on an explicitly padded input.
    func naiveConv(
        _ x: Tensor, _ wt: Tensor, _ b: Tensor, kernel: Size2, stride: Size2, padding: Padding,
        filters: Int, multiplier: Int? = nil
    ) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ry = reference(h, kernel.h, stride.h, padding), rx = reference(w, kernel.w, stride.w, padding)
        let p = pad(x, top: ry.before, bottom: ry.after, left: rx.before, right: rx.after)
        let ph = p.shape[1], pw = p.shape[2]
        let co = multiplier.map { c * $0 } ?? filters
        var y = Tensor(shape: [n, ry.out, rx.out, co])
        for s in 0..<n {
            for oy in 0..<ry.out {
                for ox in 0..<rx.out {
                    for f in 0..<co {
                        var acc = Double(b.data[f])
                        for ky in 0..<kernel.h {
                            for kx in 0..<kernel.w {
                                let iy = oy * stride.h + ky, ix = ox * stride.w + kx
                                if let m = multiplier {
                                    let ch = f / m
                                    acc +=
                                        Double(p.data[((s * ph + iy) * pw + ix) * c + ch])
                                        * Double(wt.data[(ky * kernel.w + kx) * co + f])
                                } else {
                                    for ch in 0..<c {
                                        acc +=
                                            Double(p.data[((s * ph + iy) * pw + ix) * c + ch])
                                            * Double(wt.data[((ky * kernel.w + kx) * c + ch) * filters + f])
                                    }
                                }
                            }
                        }
                        y.data[((s * ry.out + oy) * rx.out + ox) * co + f] = Float(acc)
                    }
                }
            }
        }
        return y
    }

    /// Pooling over in-bounds taps only, written with explicit bounds checks.
    func naivePool(_ x: Tensor, pool: Size2, stride: Size2, padding: Padding, max isMax: Bool) -> Tensor {
        let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let ry = reference(h, pool.h, stride.h, padding), rx = reference(w, pool.w, stride.w, padding)
        var y = Tensor(shape: [n, ry.out, rx.out, c])
        for s in 0..<n {
            for oy in 0..<ry.out {
                for ox in 0..<rx.out {
                    for ch in 0..<c {
                        var best = -Float.infinity, sum: Float = 0, count = 0
                        for ky in 0..<pool.h {
                            for kx in 0..<pool.w {
                                let iy = oy * stride.h - ry.before + ky, ix = ox * stride.w - rx.before + kx
                                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                let v = x.data[((s * h + iy) * w + ix) * c + ch]
                                best = max(best, v); sum += v; count += 1
                            }
                        }
                        y.data[((s * ry.out + oy) * rx.out + ox) * c + ch] = isMax ? best : sum / Float(count)
                    }
                }
            }
        }
        return y
    }

    func assertClose(
        _ a: Tensor, _ b: Tensor, _ tol: Float = 1e-4, _ what: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        guard a.shape == b.shape else { return }
        var worst: Float = 0
        for i in 0..<a.count { worst = max(worst, abs(a.data[i] - b.data[i])) }
        XCTAssertLessThanOrEqual(worst, tol, what, file: file, line: line)
    }

    func testConv2DMatchesDirectConvolution() throws {
        var rng = SeededRNG(seed: 11)
        let cases: [(h: Int, w: Int, c: Int, f: Int, k: Size2, s: Size2, p: Padding)] = [
            (7, 6, 3, 4, Size2(3, 3), Size2(1, 1), .same),
            (7, 6, 3, 4, Size2(3, 3), Size2(1, 1), .valid),
            (8, 7, 2, 5, Size2(3, 2), Size2(2, 2), .same),
            (9, 8, 2, 3, Size2(2, 4), Size2(2, 3), .valid),
            (5, 5, 1, 2, Size2(4, 4), Size2(3, 3), .same),
            (6, 6, 4, 3, Size2(1, 1), Size2(2, 1), .same),
        ]
        for t in cases {
            let layer = try Conv2DLayer(
                name: "conv", inputShape: [t.h, t.w, t.c], filters: t.f, kernel: t.k,
                stride: t.s, padding: t.p, rng: &rng)
            layer.bias.value = randomTensor([t.f], &rng)
            let x = randomTensor([3, t.h, t.w, t.c], &rng)
            var ctx = PassContext(training: false)
            let y = layer.forward([x], context: &ctx)
            let want = naiveConv(x, layer.weight.value, layer.bias.value, kernel: t.k, stride: t.s, padding: t.p, filters: t.f)
            assertClose(y, want, 1e-4, "conv \(t)")
            XCTAssertEqual(Array(y.shape.dropFirst()), layer.outputShape)
        }
    }

    func testConv2DBigBatchUsesTheParallelPathAndMatches() throws {
        // Enough work to take the concurrent im2col path; the result must not depend on it.
        var rng = SeededRNG(seed: 12)
        let layer = try Conv2DLayer(
            name: "conv", inputShape: [12, 12, 3], filters: 4, kernel: Size2(3, 3),
            stride: Size2(1, 1), padding: .same, rng: &rng)
        let x = randomTensor([24, 12, 12, 3], &rng)
        var ctx = PassContext(training: true)
        let y = layer.forward([x], context: &ctx)
        assertClose(
            y,
            naiveConv(
                x, layer.weight.value, layer.bias.value, kernel: Size2(3, 3), stride: Size2(1, 1),
                padding: .same, filters: 4), 1e-4, "conv batch 24")
    }

    func testDepthwiseMatchesDirectConvolution() throws {
        var rng = SeededRNG(seed: 13)
        let cases: [(h: Int, w: Int, c: Int, m: Int, k: Size2, s: Size2, p: Padding)] = [
            (6, 6, 3, 1, Size2(3, 3), Size2(1, 1), .same),
            (7, 5, 2, 2, Size2(3, 2), Size2(2, 2), .same),
            (8, 8, 3, 3, Size2(3, 3), Size2(2, 1), .valid),
        ]
        for t in cases {
            let layer = try DepthwiseConv2DLayer(
                name: "dw", inputShape: [t.h, t.w, t.c], kernel: t.k, stride: t.s,
                padding: t.p, multiplier: t.m, rng: &rng)
            layer.bias.value = randomTensor([t.c * t.m], &rng)
            let x = randomTensor([2, t.h, t.w, t.c], &rng)
            var ctx = PassContext(training: false)
            let y = layer.forward([x], context: &ctx)
            let want = naiveConv(
                x, layer.weight.value, layer.bias.value, kernel: t.k, stride: t.s, padding: t.p,
                filters: 0, multiplier: t.m)
            assertClose(y, want, 1e-4, "depthwise \(t)")
        }
    }

    func testPoolsMatchLoopsOverInBoundsTaps() throws {
        var rng = SeededRNG(seed: 14)
        let cases: [(h: Int, w: Int, k: Size2, s: Size2, p: Padding)] = [
            (6, 6, Size2(2, 2), Size2(2, 2), .valid),
            (7, 7, Size2(2, 2), Size2(2, 2), .same),
            (7, 6, Size2(3, 3), Size2(2, 2), .same),
            (8, 7, Size2(3, 2), Size2(1, 2), .valid),
            (5, 5, Size2(3, 3), Size2(1, 1), .same),
        ]
        for t in cases {
            let x = randomTensor([2, t.h, t.w, 3], &rng)
            var ctx = PassContext(training: false)
            let mp = try MaxPool2DLayer(name: "mp", inputShape: [t.h, t.w, 3], pool: t.k, stride: t.s, padding: t.p)
            assertClose(
                mp.forward([x], context: &ctx), naivePool(x, pool: t.k, stride: t.s, padding: t.p, max: true), 0, "max \(t)")
            var tctx = PassContext(training: true)
            assertClose(
                mp.forward([x], context: &tctx), naivePool(x, pool: t.k, stride: t.s, padding: t.p, max: true), 0,
                "max training \(t)")
            let ap = try AvgPool2DLayer(name: "ap", inputShape: [t.h, t.w, 3], pool: t.k, stride: t.s, padding: t.p)
            assertClose(
                ap.forward([x], context: &ctx), naivePool(x, pool: t.k, stride: t.s, padding: t.p, max: false), 1e-5, "avg \(t)")
        }
    }

    func testSamePaddedAveragePoolDividesByInBoundsTaps() throws {
        // 3x3 of ones, pool 2 stride 2 same: the last row/column windows hold 2 or 1 taps; all averages are 1.
        let ap = try AvgPool2DLayer(name: "ap", inputShape: [3, 3, 1], pool: Size2(2, 2), stride: Size2(2, 2), padding: .same)
        var ctx = PassContext(training: false)
        let y = ap.forward([Tensor(shape: [1, 3, 3, 1], value: 1)], context: &ctx)
        XCTAssertEqual(y.data, [1, 1, 1, 1])
    }

    func testGlobalAvgPool() throws {
        var rng = SeededRNG(seed: 15)
        let x = randomTensor([2, 3, 4, 5], &rng)
        let layer = try GlobalAvgPoolLayer(name: "gap", inputShape: [3, 4, 5])
        var ctx = PassContext(training: false)
        let y = layer.forward([x], context: &ctx)
        XCTAssertEqual(y.shape, [2, 5])
        for s in 0..<2 {
            for c in 0..<5 {
                var sum: Float = 0
                for p in 0..<12 { sum += x.data[(s * 12 + p) * 5 + c] }
                XCTAssertEqual(y.data[s * 5 + c], sum / 12, accuracy: 1e-5)
            }
        }
    }

    func testBatchNormStatisticsAndRunningUpdate() throws {
        var rng = SeededRNG(seed: 16)
        let bn = try BatchNormLayer(name: "bn", inputShape: [2, 2, 3], epsilon: 1e-3, momentum: 0.9)
        bn.gamma.value.data = [1, 2, 0.5]
        bn.beta.value.data = [0, 1, -1]
        let x = randomTensor([4, 2, 2, 3], &rng, lo: -2, hi: 5)
        var ctx = PassContext(training: true)
        let y = bn.forward([x], context: &ctx)
        let m = 16
        for c in 0..<3 {
            let xs = (0..<m).map { Double(x.data[$0 * 3 + c]) }
            let mean = xs.reduce(0, +) / Double(m)
            let v = xs.map { ($0 - mean) * ($0 - mean) }.reduce(0, +)
            for r in 0..<m {
                let want =
                    Double(bn.gamma.value.data[c]) * (xs[r] - mean) / (v / Double(m) + 1e-3).squareRoot()
                    + Double(bn.beta.value.data[c])
                XCTAssertEqual(Double(y.data[r * 3 + c]), want, accuracy: 1e-4)
            }
            // Keras convention, unbiased variance for the running estimate.
            XCTAssertEqual(Double(bn.runningMean.value.data[c]), 0.1 * mean, accuracy: 1e-5)
            XCTAssertEqual(Double(bn.runningVar.value.data[c]), 0.9 + 0.1 * v / Double(m - 1), accuracy: 1e-5)
        }
        // Inference uses the running statistics.
        var ictx = PassContext(training: false)
        let yi = bn.forward([x], context: &ictx)
        let c = 1, rm = bn.runningMean.value.data[c], rv = bn.runningVar.value.data[c]
        XCTAssertEqual(yi.data[c], 2 * (x.data[c] - rm) / (rv + 1e-3).squareRoot() + 1, accuracy: 1e-5)
        XCTAssertFalse(bn.runningMean.trainable)
        XCTAssertFalse(bn.runningVar.trainable)
        XCTAssertEqual(bn.parameters.map(\.name), ["bn.gamma", "bn.beta", "bn.running_mean", "bn.running_var"])
    }

    func testDropoutMasksAndScales() throws {
        let layer = try DropoutLayer(name: "drop", inputShape: [1000], rate: 0.25)
        let x = Tensor(shape: [4, 1000], value: 2)
        var ctx = PassContext(training: true, rng: SeededRNG(seed: 3))
        let y = layer.forward([x], context: &ctx)
        let kept = y.data.filter { $0 != 0 }
        XCTAssertTrue(kept.allSatisfy { abs($0 - 2 / 0.75) < 1e-6 })
        XCTAssertEqual(Double(kept.count) / 4000, 0.75, accuracy: 0.03)
        var ictx = PassContext(training: false)
        XCTAssertEqual(layer.forward([x], context: &ictx), x)
    }

    func testShapeErrorsNameTheLayer() {
        func expect(_ op: Op, input: [Int], _ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
            let spec = GraphSpec(inputShape: input, nodes: [NodeSpec(name: "bad_layer", op: op, inputs: ["input"])])
            XCTAssertThrowsError(try Model(spec: spec, seed: 1), file: file, line: line) { error in
                guard case let .graph(layer, message)? = error as? KDCError else {
                    return XCTFail("not a graph error: \(error)", file: file, line: line)
                }
                XCTAssertEqual(layer, "bad_layer", file: file, line: line)
                for f in fragments { XCTAssertTrue(message.contains(f), "'\(message)' lacks '\(f)'", file: file, line: line) }
            }
        }
        expect(.conv2d(filters: 4, kernel: Size2(5, 5), stride: Size2(1, 1), padding: .valid), input: [3, 4, 1], ["5x5", "3x4"])
        expect(
            .conv2d(filters: 0, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), input: [8, 8, 1], ["filters", "0"])
        expect(
            .conv2d(filters: 2, kernel: Size2(0, 3), stride: Size2(1, 1), padding: .same), input: [8, 8, 1], ["window", "0x3"])
        expect(
            .conv2d(filters: 2, kernel: Size2(3, 3), stride: Size2(1, -1), padding: .same), input: [8, 8, 1], ["stride", "1x-1"])
        expect(.conv2d(filters: 2, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), input: [64], ["[H, W, C]", "[64]"])
        expect(
            .depthwiseConv2d(kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same, multiplier: 0), input: [8, 8, 2],
            ["multiplier", "0"])
        expect(.maxPool2d(pool: Size2(3, 3), stride: Size2(2, 2), padding: .valid), input: [2, 2, 1], ["3x3", "2x2"])
        expect(.avgPool2d(pool: Size2(2, 2), stride: Size2(0, 0), padding: .same), input: [4, 4, 1], ["stride"])
        expect(.globalAvgPool, input: [16], ["[H, W, C]", "[16]"])
        expect(.dropout(rate: 1), input: [16], ["[0, 1)", "1.0"])
        expect(.dropout(rate: -0.1), input: [16], ["[0, 1)", "-0.1"])
        expect(.batchNorm(epsilon: 0, momentum: 0.99), input: [4], ["epsilon"])

        let add = GraphSpec(
            inputShape: [4, 4, 2],
            nodes: [
                NodeSpec(
                    name: "c", op: .conv2d(filters: 3, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same),
                    inputs: ["input"]),
                NodeSpec(name: "sum", op: .add, inputs: ["c", "input"]),
            ])
        XCTAssertThrowsError(try Model(spec: add, seed: 1)) { error in
            XCTAssertEqual(
                error as? KDCError,
                .graph(layer: "sum", message: "add needs two inputs of the same shape, got [4, 4, 3] and [4, 4, 2]"))
        }
    }
}
