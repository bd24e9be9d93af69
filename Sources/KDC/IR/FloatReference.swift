import Foundation

extension Graph {
    /// Float inference on one sample (`inputShape` values, already normalized): every tensor's
    /// values, indexed by tensor id (tensors no node writes, other than the input, are empty).
    /// The float reference of kdc: plain loops with Double accumulation, one sample at a time
    /// (calibration, batch-norm folding checks, per-layer error reports; training uses `Model`).
    /// Batch norm uses its running statistics, dropout is the identity, and every node's fused
    /// activation clamps its output.
    public func runFloat(_ x: [Float]) -> [[Float]] {
        precondition(x.count == self[input].count, "Graph.runFloat: wrong input size \(x.count)")
        var v = [[Float]](repeating: [], count: tensors.count)
        v[input.index] = x
        for node in nodes {
            v[node.output.index] = evaluateFloat(node, node.inputs.map { v[$0.index] })
        }
        return v
    }

    /// Logits of one sample.
    public func predictFloat(_ x: [Float]) -> [Float] { runFloat(x)[output.index] }

    /// One node in float, its activation clamp included.
    func evaluateFloat(_ node: GraphNode, _ ins: [[Float]]) -> [Float] {
        let a = ins[0], s = self[node.inputs[0]].shape
        func affine() -> (w: [Float], b: [Float]) {
            guard case let .affine(w, b) = node.params else { preconditionFailure("\(node.name): no weights") }
            return (w.data, b.data)
        }
        var y: [Float]
        switch node.op {
        case let .dense(units):
            let p = affine()
            y = FloatKernels.dense(a, p.w, p.b, outCount: units)
        case let .conv2d(f, k, st, _):
            let p = affine(), g = window(of: node)!
            y = FloatKernels.conv2d(a, s, p.w, p.b, cout: f, kernel: k, stride: st, pad: (g.padTop, g.padLeft), out: (g.oh, g.ow))
        case let .depthwiseConv2d(k, st, _, m):
            let p = affine(), g = window(of: node)!
            y = FloatKernels.depthwise(
                a, s, p.w, p.b, multiplier: m, kernel: k, stride: st, pad: (g.padTop, g.padLeft), out: (g.oh, g.ow))
        case let .maxPool2d(k, st, _), let .avgPool2d(k, st, _):
            let g = window(of: node)!
            let isMax: Bool
            if case .maxPool2d = node.op { isMax = true } else { isMax = false }
            y = FloatKernels.pool(a, s, isMax: isMax, pool: k, stride: st, pad: (g.padTop, g.padLeft), out: (g.oh, g.ow))
        case .globalAvgPool: y = FloatKernels.globalAvgPool(a, s)
        case .relu: y = FloatKernels.clamp(a, 0, .infinity)
        case .relu6: y = FloatKernels.clamp(a, 0, 6)
        case let .leakyRelu(alpha): y = a.map { $0 >= 0 ? $0 : alpha * $0 }
        case let .softmax(beta):
            // over the last axis, in Double: exp(β·(x − max)) / Σ
            let d = s.last ?? a.count
            y = [Float](repeating: 0, count: a.count)
            for r in stride(from: 0, to: a.count, by: max(d, 1)) {
                let row = a[r..<(r + d)], mx = Double(row.max() ?? 0)
                let e = row.map { exp(Double(beta) * (Double($0) - mx)) }
                let sum = e.reduce(0, +)
                for (i, v) in e.enumerated() { y[r + i] = Float(v / sum) }
            }
        case let .batchNorm(eps, _):
            guard case let .batchNorm(gm, bt, mn, vr) = node.params else { preconditionFailure("\(node.name): no statistics") }
            let (g, b, m, v) = (gm.data, bt.data, mn.data, vr.data)
            let c = g.count
            y = a.indices.map { i in
                let ch = i % c
                return Float(
                    Double(g[ch]) * (Double(a[i]) - Double(m[ch])) / (Double(v[ch]) + Double(eps)).squareRoot()
                        + Double(b[ch]))
            }
        case .dropout, .flatten, .reshape, .clamp: y = a
        case .add: y = zip(a, ins[1]).map { $0 + $1 }
        }
        if node.activation != .none {
            let (lo, hi) = node.activation.bounds
            y = FloatKernels.clamp(y, lo, hi)
        }
        return y
    }
}

/// Plain float inference kernels (one sample, NHWC, Double accumulation).
enum FloatKernels {
    /// y[o] = b[o] + Σ_i x[i]·w[i, o]; `w` is `[in, out]`.
    static func dense(_ x: [Float], _ w: [Float], _ b: [Float], outCount: Int) -> [Float] {
        let k = x.count
        var y = [Float](repeating: 0, count: outCount)
        for o in 0..<outCount {
            var s = Double(b[o])
            for i in 0..<k { s += Double(x[i]) * Double(w[i * outCount + o]) }
            y[o] = Float(s)
        }
        return y
    }

    /// Convolution, `w` HWIO `[kh, kw, cin, cout]`; taps outside the input are zero.
    static func conv2d(
        _ x: [Float], _ s: [Int], _ w: [Float], _ b: [Float], cout: Int,
        kernel: Size2, stride: Size2, pad: (top: Int, left: Int), out: (h: Int, w: Int)
    ) -> [Float] {
        let (h, wd, cin) = (s[0], s[1], s[2])
        let (oh, pt, ow, pl) = (out.h, pad.top, out.w, pad.left)
        var y = [Float](repeating: 0, count: oh * ow * cout)
        for oy in 0..<oh {
            for ox in 0..<ow {
                for co in 0..<cout {
                    var acc = Double(b[co])
                    for ky in 0..<kernel.h {
                        let iy = oy * stride.h - pt + ky
                        if iy < 0 || iy >= h { continue }
                        for kx in 0..<kernel.w {
                            let ix = ox * stride.w - pl + kx
                            if ix < 0 || ix >= wd { continue }
                            for ci in 0..<cin {
                                acc +=
                                    Double(x[(iy * wd + ix) * cin + ci])
                                    * Double(w[((ky * kernel.w + kx) * cin + ci) * cout + co])
                            }
                        }
                    }
                    y[(oy * ow + ox) * cout + co] = Float(acc)
                }
            }
        }
        return y
    }

    /// Depthwise convolution, `w` `[kh, kw, cin·mult]`; output channel c·mult+m reads channel c.
    static func depthwise(
        _ x: [Float], _ s: [Int], _ w: [Float], _ b: [Float], multiplier mult: Int,
        kernel: Size2, stride: Size2, pad: (top: Int, left: Int), out: (h: Int, w: Int)
    ) -> [Float] {
        let (h, wd, cin) = (s[0], s[1], s[2])
        let cout = cin * mult
        let (oh, pt, ow, pl) = (out.h, pad.top, out.w, pad.left)
        var y = [Float](repeating: 0, count: oh * ow * cout)
        for oy in 0..<oh {
            for ox in 0..<ow {
                for oc in 0..<cout {
                    let ic = oc / mult
                    var acc = Double(b[oc])
                    for ky in 0..<kernel.h {
                        let iy = oy * stride.h - pt + ky
                        if iy < 0 || iy >= h { continue }
                        for kx in 0..<kernel.w {
                            let ix = ox * stride.w - pl + kx
                            if ix < 0 || ix >= wd { continue }
                            acc += Double(x[(iy * wd + ix) * cin + ic]) * Double(w[(ky * kernel.w + kx) * cout + oc])
                        }
                    }
                    y[(oy * ow + ox) * cout + oc] = Float(acc)
                }
            }
        }
        return y
    }

    /// Max or average pooling over in-bounds taps (the average divides by their count).
    static func pool(
        _ x: [Float], _ s: [Int], isMax: Bool, pool: Size2, stride: Size2, pad: (top: Int, left: Int), out: (h: Int, w: Int)
    ) -> [Float] {
        let (h, wd, c) = (s[0], s[1], s[2])
        let (oh, pt, ow, pl) = (out.h, pad.top, out.w, pad.left)
        var y = [Float](repeating: 0, count: oh * ow * c)
        for oy in 0..<oh {
            for ox in 0..<ow {
                for ch in 0..<c {
                    var m = -Double.infinity, sum = 0.0, n = 0
                    for ky in 0..<pool.h {
                        let iy = oy * stride.h - pt + ky
                        if iy < 0 || iy >= h { continue }
                        for kx in 0..<pool.w {
                            let ix = ox * stride.w - pl + kx
                            if ix < 0 || ix >= wd { continue }
                            let v = Double(x[(iy * wd + ix) * c + ch])
                            m = max(m, v); sum += v; n += 1
                        }
                    }
                    y[(oy * ow + ox) * c + ch] = Float(isMax ? m : sum / Double(max(n, 1)))
                }
            }
        }
        return y
    }

    /// Mean over H and W: `[H, W, C]` → `[C]`.
    static func globalAvgPool(_ x: [Float], _ s: [Int]) -> [Float] {
        let c = s[2], n = s[0] * s[1]
        var sums = [Double](repeating: 0, count: c)
        for p in 0..<n { for ch in 0..<c { sums[ch] += Double(x[p * c + ch]) } }
        return sums.map { Float($0 / Double(n)) }
    }

    /// y = min(max(x, lo), hi).
    static func clamp(_ x: [Float], _ lo: Float, _ hi: Float) -> [Float] { x.map { min(max($0, lo), hi) } }
}
