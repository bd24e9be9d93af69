/// Plain float inference kernels (one sample, NHWC, Double accumulation). Readable loops used
/// for calibration, batch-norm folding checks and per-layer error reports; not for training.
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

    /// Output shape of a windowed op on `[H, W, C]` with `channels` output channels.
    static func windowShape(_ inShape: [Int], kernel: Size2, stride: Size2, padding: Padding, channels: Int) -> [Int] {
        let (oh, _) = padding.output(inShape[0], kernel: kernel.h, stride: stride.h)
        let (ow, _) = padding.output(inShape[1], kernel: kernel.w, stride: stride.w)
        return [oh, ow, channels]
    }

    /// Convolution, `w` HWIO `[kh, kw, cin, cout]`; taps outside the input are zero.
    static func conv2d(
        _ x: [Float], _ s: [Int], _ w: [Float], _ b: [Float], cout: Int,
        kernel: Size2, stride: Size2, padding: Padding
    ) -> [Float] {
        let (h, wd, cin) = (s[0], s[1], s[2])
        let (oh, pt) = padding.output(h, kernel: kernel.h, stride: stride.h)
        let (ow, pl) = padding.output(wd, kernel: kernel.w, stride: stride.w)
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
        kernel: Size2, stride: Size2, padding: Padding
    ) -> [Float] {
        let (h, wd, cin) = (s[0], s[1], s[2])
        let cout = cin * mult
        let (oh, pt) = padding.output(h, kernel: kernel.h, stride: stride.h)
        let (ow, pl) = padding.output(wd, kernel: kernel.w, stride: stride.w)
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
    static func pool(_ x: [Float], _ s: [Int], isMax: Bool, pool: Size2, stride: Size2, padding: Padding) -> [Float] {
        let (h, wd, c) = (s[0], s[1], s[2])
        let (oh, pt) = padding.output(h, kernel: pool.h, stride: stride.h)
        let (ow, pl) = padding.output(wd, kernel: pool.w, stride: stride.w)
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
