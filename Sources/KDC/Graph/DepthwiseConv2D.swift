/// Depthwise 2-D convolution over NHWC images; each input channel `c` has its own `multiplier`
/// filters, and output channel `c·multiplier + m` reads only input channel `c`:
/// y[n, oy, ox, c·M + m] = b[c·M + m] + Σ_{ky, kx} x[n, oy·sh − padTop + ky, ox·sw − padLeft + kx, c] · W[ky, kx, c·M + m].
///
/// Shapes: input `[H, W, C]`, output `[OH, OW, C·M]`, weight `[kh, kw, C·M]`, bias `[C·M]`.
/// Init: He-uniform weights (limit √(6/(kh·kw))), zero bias. Direct loops, parallel over the batch.
public final class DepthwiseConv2DLayer: AffineLayer {
    public let name: String
    public let outputShape: [Int]
    public let weight: Parameter
    public let bias: Parameter
    let geometry: WindowGeometry
    let multiplier: Int
    private var input = Tensor(shape: [0])

    public init(
        name: String, inputShape: [Int], kernel: Size2, stride: Size2, padding: Padding, multiplier: Int,
        rng: inout SeededRNG
    ) throws {
        try checkShape(multiplier >= 1, name, "depthwise_conv2d multiplier must be at least 1, got \(multiplier)")
        geometry = try WindowGeometry(
            layer: name, op: "depthwise_conv2d", inputShape: inputShape, kernel: kernel,
            stride: stride, padding: padding)
        self.name = name
        self.multiplier = multiplier
        let co = geometry.c * multiplier
        outputShape = [geometry.oh, geometry.ow, co]
        let limit = (6.0 / Float(kernel.h * kernel.w)).squareRoot()
        var w = Tensor(shape: [kernel.h, kernel.w, co])
        for i in 0..<w.count { w.data[i] = (rng.uniform() * 2 - 1) * limit }
        weight = Parameter(name: "\(name).weight", value: w, decays: true)
        bias = Parameter(name: "\(name).bias", value: Tensor(shape: [co]))
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var macs: Int { geometry.outputPixels * geometry.c * multiplier * geometry.kh * geometry.kw }

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        let x = inputs[0]
        let g = geometry, n = x.batch, m = multiplier, co = g.c * m
        var y = Tensor(shape: [n, g.oh, g.ow, co])
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                weight.value.data.withUnsafeBufferPointer { wp in
                    bias.value.data.withUnsafeBufferPointer { bp in
                        let xb = xp.baseAddress!, yb = yp.baseAddress!, wb = wp.baseAddress!, bb = bp.baseAddress!
                        forEachChunk(n, work: n * g.outputPixels * co * g.kh * g.kw) { _, range in
                            for s in range {
                                let img = xb + s * g.inputCount
                                var o = yb + s * g.outputPixels * co
                                for oy in 0..<g.oh {
                                    let ty = WindowGeometry.taps(oy, stride: g.sh, pad: g.padTop, kernel: g.kh, size: g.h)
                                    for ox in 0..<g.ow {
                                        let tx = WindowGeometry.taps(ox, stride: g.sw, pad: g.padLeft, kernel: g.kw, size: g.w)
                                        o.update(from: bb, count: co)
                                        for ky in ty.k0..<max(ty.k0, ty.k1) {
                                            for kx in tx.k0..<max(tx.k0, tx.k1) {
                                                let xi = img + ((ty.start + ky) * g.w + tx.start + kx) * g.c
                                                let wi = wb + (ky * g.kw + kx) * co
                                                for c in 0..<g.c {
                                                    let v = xi[c]
                                                    for j in (c * m)..<(c * m + m) { o[j] += v * wi[j] }
                                                }
                                            }
                                        }
                                        o += co
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        if context.training { input = x }
        return y
    }

    public func backward(_ gy: Tensor) -> [Tensor] {
        let g = geometry, n = gy.batch, m = multiplier, co = g.c * m
        let wCount = g.kh * g.kw * co
        var dx = Tensor(shape: input.shape)
        let chunks = max(1, min(n, 4))
        // Per-chunk partial dW and db, summed in chunk order afterwards (deterministic).
        var partial = [Float](repeating: 0, count: chunks * (wCount + co))
        gy.data.withUnsafeBufferPointer { gp in
            input.data.withUnsafeBufferPointer { xp in
                dx.data.withUnsafeMutableBufferPointer { dxp in
                    weight.value.data.withUnsafeBufferPointer { wp in
                        partial.withUnsafeMutableBufferPointer { pp in
                            let gb = gp.baseAddress!, xb = xp.baseAddress!, dxb = dxp.baseAddress!
                            let wb = wp.baseAddress!, pb = pp.baseAddress!
                            forEachChunk(n, maxChunks: chunks, work: n * g.outputPixels * co * g.kh * g.kw) { ci, range in
                                let dw = pb + ci * (wCount + co), db = dw + wCount
                                for s in range {
                                    let img = xb + s * g.inputCount, dimg = dxb + s * g.inputCount
                                    var o = gb + s * g.outputPixels * co
                                    for oy in 0..<g.oh {
                                        let ty = WindowGeometry.taps(oy, stride: g.sh, pad: g.padTop, kernel: g.kh, size: g.h)
                                        for ox in 0..<g.ow {
                                            let tx = WindowGeometry.taps(
                                                ox, stride: g.sw, pad: g.padLeft, kernel: g.kw, size: g.w)
                                            for j in 0..<co { db[j] += o[j] }
                                            for ky in ty.k0..<max(ty.k0, ty.k1) {
                                                for kx in tx.k0..<max(tx.k0, tx.k1) {
                                                    let off = ((ty.start + ky) * g.w + tx.start + kx) * g.c
                                                    let xi = img + off, dxi = dimg + off
                                                    let wi = wb + (ky * g.kw + kx) * co, dwi = dw + (ky * g.kw + kx) * co
                                                    for c in 0..<g.c {
                                                        let v = xi[c]
                                                        var acc: Float = 0
                                                        for j in (c * m)..<(c * m + m) {
                                                            acc += o[j] * wi[j]
                                                            dwi[j] += o[j] * v
                                                        }
                                                        dxi[c] += acc
                                                    }
                                                }
                                            }
                                            o += co
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        weight.grad.data.withUnsafeMutableBufferPointer { dw in
            bias.grad.data.withUnsafeMutableBufferPointer { db in
                partial.withUnsafeBufferPointer { pp in
                    for ci in 0..<chunks {
                        let base = ci * (wCount + co)
                        for i in 0..<wCount { dw[i] += pp[base + i] }
                        for j in 0..<co { db[j] += pp[base + wCount + j] }
                    }
                }
            }
        }
        input = Tensor(shape: [0])
        return [dx]
    }
}
