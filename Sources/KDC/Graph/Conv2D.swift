import CKDCKernels

/// 2-D convolution over NHWC images:
/// y[n, oy, ox, f] = b[f] + Σ_{ky, kx, c} x[n, oy·sh − padTop + ky, ox·sw − padLeft + kx, c] · W[ky, kx, c, f],
/// with zero outside the input (TF `same`/`valid` padding, see `Padding`).
///
/// Shapes: input `[H, W, Cin]`, output `[OH, OW, filters]`, weight `[kh, kw, Cin, filters]` (HWIO),
/// bias `[filters]`. Init: He-uniform weights (limit √(6/(kh·kw·Cin))), zero bias.
///
/// Forward is a direct convolution in C (`kdc_conv2d_forward`) over a zero-padded copy of the
/// input, eight output channels at a time, split over the batch and the cores. Backward: the
/// weight and bias gradients from the same padded input (`kdc_conv2d_weight_grad`, per chunk of
/// the batch, the chunk sums added in chunk order: the split depends only on the batch size, so
/// results do not depend on the core count); the input gradient at stride 1 is the convolution
/// of the zero-padded output gradient with the flipped, transposed kernel (the same C kernel),
/// at larger strides dcols = g·Wᵀ (sgemm) then col2im, in chunks of at most `maxColumnValues`.
public final class Conv2DLayer: AffineLayer {
    public let name: String
    public let outputShape: [Int]
    public let weight: Parameter
    public let bias: Parameter
    let geometry: WindowGeometry
    let filters: Int
    /// Upper bound on the im2col buffer (floats); batches above it are split into chunks.
    let maxColumnValues: Int
    private let scratch = ScratchBuffer()
    /// The zero-padded input of the cached batch (forward), then the padded output gradient.
    private let padded = ScratchBuffer()
    private let paddedGrad = ScratchBuffer()
    /// Per-chunk weight and bias gradient sums.
    private let partials = ScratchBuffer()
    /// The weights as the C kernel reads them (`kdc_conv2d_pack_weights`).
    private let packed = ScratchBuffer()
    private var input = Tensor(shape: [0])
    /// Padded input height and width: every window inside, no bounds checks in the kernels.
    private let hp: Int, wp: Int
    public init(
        name: String, inputShape: [Int], filters: Int, kernel: Size2, stride: Size2, padding: Padding,
        rng: inout SeededRNG, maxColumnValues: Int = 1 << 25
    ) throws {
        try checkShape(filters > 0, name, "conv2d filters must be positive, got \(filters)")
        geometry = try WindowGeometry(
            layer: name, op: "conv2d", inputShape: inputShape, kernel: kernel,
            stride: stride, padding: padding)
        self.name = name
        self.filters = filters
        self.maxColumnValues = maxColumnValues
        outputShape = [geometry.oh, geometry.ow, filters]
        hp = (geometry.oh - 1) * geometry.sh + geometry.kh
        wp = (geometry.ow - 1) * geometry.sw + geometry.kw
        let fanIn = geometry.patch
        let limit = (6.0 / Float(fanIn)).squareRoot()
        var w = Tensor(shape: [kernel.h, kernel.w, geometry.c, filters])
        for i in 0..<w.count { w.data[i] = (rng.uniform() * 2 - 1) * limit }
        weight = Parameter(name: "\(name).weight", value: w, decays: true)
        bias = Parameter(name: "\(name).bias", value: Tensor(shape: [filters]))
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var macs: Int { geometry.outputPixels * filters * geometry.patch }

    /// Samples per chunk so that a chunk's columns fit in `maxColumnValues`.
    private var samplesPerChunk: Int { max(1, maxColumnValues / max(1, geometry.outputPixels * geometry.patch)) }

    /// Whether forward applies ReLU to its output (set by `Model` when the only reader of this
    /// layer is a plain ReLU, which then passes its input through: the same values, one pass less).
    var fusedReLU = false

    private var shape: kdc_conv_shape {
        let g = geometry
        return kdc_conv_shape(
            hp: hp, wp: wp, cin: g.c, oh: g.oh, ow: g.ow, cout: filters, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw,
            relu: fusedReLU ? 1 : 0)
    }

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        let x = inputs[0]
        let g = geometry, n = x.batch, f = filters
        let inPer = hp * wp * g.c
        let xp = padded.reserve(n * inPer)
        let s = shape
        let y = [Float](unsafeUninitializedCapacity: n * g.outputPixels * f) { yp, initialized in
            x.data.withUnsafeBufferPointer { xb in
                weight.value.data.withUnsafeBufferPointer { wb in
                    bias.value.data.withUnsafeBufferPointer { bb in
                        let xa = xb.baseAddress!, ya = yp.baseAddress!, ba = bb.baseAddress!
                        let wa = UnsafePointer(packed.reserve(g.patch * f))
                        kdc_conv2d_pack_weights(packed.pointer, wb.baseAddress!, [s])
                        forEachChunk(n, work: n * g.outputPixels * f * g.patch) { _, r in
                            guard !r.isEmpty else { return }
                            kdc_pad_nhwc(
                                xp + r.lowerBound * inPer, xa + r.lowerBound * g.inputCount, r.count, g.h, g.w, g.c,
                                hp, wp, g.padTop, g.padLeft)
                            kdc_conv2d_forward(ya, xp, wa, ba, [s], r.lowerBound, r.upperBound)
                        }
                    }
                }
            }
            initialized = n * g.outputPixels * f
        }
        input = context.training ? x : Tensor(shape: [0])
        return Tensor(shape: [n, g.oh, g.ow, f], data: y)
    }

    public func backward(_ gy: Tensor) -> [Tensor] { backward(gy, inputGradients: true) }

    public func backward(_ gy: Tensor, inputGradients: Bool) -> [Tensor] {
        let g = geometry, n = gy.batch, k = g.patch, f = filters
        precondition(input.batch == n, "conv2d backward: no cached forward batch of \(n) samples")
        let s = shape
        // Weight and bias gradients, one partial sum per chunk of the batch.
        let chunks = max(1, min(n, 4)), per = k * f + f
        let part = partials.reserve(chunks * per)
        part.update(repeating: 0, count: chunks * per)
        let xp = UnsafePointer(padded.pointer)
        gy.data.withUnsafeBufferPointer { gb in
            let ga = gb.baseAddress!
            forEachChunk(n, maxChunks: chunks, work: n * g.outputPixels * f * k) { c, r in
                guard !r.isEmpty else { return }
                kdc_conv2d_weight_grad(part + c * per, part + c * per + k * f, xp, ga, [s], r.lowerBound, r.upperBound)
            }
        }
        weight.grad.data.withUnsafeMutableBufferPointer { dw in
            bias.grad.data.withUnsafeMutableBufferPointer { db in
                for c in 0..<chunks {
                    let p = part + c * per
                    for i in 0..<(k * f) { dw[i] += p[i] }
                    for j in 0..<f { db[j] += p[k * f + j] }
                }
            }
        }
        var dx = Tensor(shape: [0])
        if inputGradients {
            dx = g.sh == 1 && g.sw == 1 ? inputGradientStride1(gy) : inputGradientColumns(gy)
        }
        input = Tensor(shape: [0])
        return [dx]
    }

    /// dx at stride 1: the zero-padded gradient convolved with the kernel flipped in both axes
    /// and with its channel axes swapped (`[kh, kw, filters, c]`).
    private func inputGradientStride1(_ gy: Tensor) -> Tensor {
        let g = geometry, n = gy.batch, f = filters
        // Output pixel o reads input o − pad + k; so input q gets g[q + pad − k]: pad the
        // gradient by kh − 1 − padTop above (kw − 1 − padLeft left) and run the flipped kernel.
        let top = g.kh - 1 - g.padTop, left = g.kw - 1 - g.padLeft
        let ghp = g.h + g.kh - 1, gwp = g.w + g.kw - 1
        var flipped = [Float](repeating: 0, count: g.kh * g.kw * f * g.c)
        weight.value.data.withUnsafeBufferPointer { w in
            for ky in 0..<g.kh {
                for kx in 0..<g.kw {
                    let src = ((g.kh - 1 - ky) * g.kw + (g.kw - 1 - kx)) * g.c * f
                    let dst = (ky * g.kw + kx) * f * g.c
                    for c in 0..<g.c { for j in 0..<f { flipped[dst + j * g.c + c] = w[src + c * f + j] } }
                }
            }
        }
        let s = kdc_conv_shape(
            hp: ghp, wp: gwp, cin: f, oh: g.h, ow: g.w, cout: g.c, kh: g.kh, kw: g.kw, sh: 1, sw: 1, relu: 0)
        let perIn = ghp * gwp * f
        let gp = paddedGrad.reserve(n * perIn)
        let dx = [Float](unsafeUninitializedCapacity: n * g.inputCount) { dp, initialized in
            gy.data.withUnsafeBufferPointer { gb in
                flipped.withUnsafeBufferPointer { wb in
                    let ga = gb.baseAddress!, da = dp.baseAddress!
                    let wa = UnsafePointer(packed.reserve(wb.count))
                    kdc_conv2d_pack_weights(packed.pointer, wb.baseAddress!, [s])
                    forEachChunk(n, work: n * g.inputCount * f * g.kh * g.kw) { _, r in
                        guard !r.isEmpty else { return }
                        kdc_pad_nhwc(
                            gp + r.lowerBound * perIn, ga + r.lowerBound * g.outputPixels * f, r.count, g.oh, g.ow, f,
                            ghp, gwp, top, left)
                        kdc_conv2d_forward(da, gp, wa, nil, [s], r.lowerBound, r.upperBound)
                    }
                }
            }
            initialized = n * g.inputCount
        }
        return Tensor(shape: input.shape, data: dx)
    }

    /// dx at larger strides: dcols = g·Wᵀ (sgemm) and col2im, in chunks of the batch.
    private func inputGradientColumns(_ gy: Tensor) -> Tensor {
        let g = geometry, n = gy.batch, k = g.patch, f = filters, pix = g.outputPixels
        var dx = Tensor(shape: input.shape)
        let per = samplesPerChunk
        let cols = scratch.reserve(min(n, per) * pix * k)
        gy.data.withUnsafeBufferPointer { gp in
            dx.data.withUnsafeMutableBufferPointer { dxp in
                weight.value.data.withUnsafeBufferPointer { wp in
                    var n0 = 0
                    while n0 < n {
                        let n1 = min(n, n0 + per), rows = (n1 - n0) * pix
                        BLAS.sgemm(
                            transB: true, m: rows, n: k, k: f, a: gp.baseAddress! + n0 * pix * f, b: wp.baseAddress!,
                            c: cols)
                        let dxBase = dxp.baseAddress!
                        forEachChunk(n1 - n0, work: rows * k) { _, r in
                            col2im(
                                g, cols: cols + r.lowerBound * pix * k, n0: n0 + r.lowerBound,
                                n1: n0 + r.upperBound, dx: dxBase)
                        }
                        n0 = n1
                    }
                }
            }
        }
        return dx
    }
}
