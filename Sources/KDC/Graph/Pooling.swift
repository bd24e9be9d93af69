import CKDCKernels

/// Max pooling over H and W of NHWC images, per channel:
/// y[n, oy, ox, c] = max over the in-bounds taps (ky, kx) of x[n, oy·sh − padTop + ky, ox·sw − padLeft + kx, c].
///
/// With `same` padding, taps outside the input are ignored (never a padded zero), which is what
/// the int8 device kernel does. Shapes: `[H, W, C]` → `[OH, OW, C]`. The gradient goes to the first
/// maximal tap of each window.
public final class MaxPool2DLayer: Layer {
    public let name: String
    public let outputShape: [Int]
    let geometry: WindowGeometry
    /// For each output value, the flat index (within its sample) of the input it came from.
    private var argmax: [Int32] = []
    private var inputShape: [Int] = []
    /// Set by `Model` when this pool is the only reader of a plain ReLU: backward also applies
    /// the ReLU's gradient mask (where the window's maximum is > 0), and the ReLU passes the
    /// gradient through. The same values, one pass less.
    var masksReLUGradient = false
    private var output = Tensor(shape: [0])

    public init(name: String, inputShape: [Int], pool: Size2, stride: Size2, padding: Padding) throws {
        geometry = try WindowGeometry(
            layer: name, op: "max_pool2d", inputShape: inputShape, kernel: pool,
            stride: stride, padding: padding)
        self.name = name
        outputShape = [geometry.oh, geometry.ow, geometry.c]
    }

    private var poolShape: kdc_pool_shape {
        let g = geometry
        return kdc_pool_shape(
            h: g.h, w: g.w, c: g.c, oh: g.oh, ow: g.ow, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, pad_top: g.padTop,
            pad_left: g.padLeft)
    }

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        let x = inputs[0]
        let g = geometry, n = x.batch, c = g.c, outPer = g.outputPixels * c
        let training = context.training
        if training {
            if argmax.count != n * outPer { argmax = [Int32](repeating: 0, count: n * outPer) }
            inputShape = x.shape
        }
        let s = poolShape
        let y = [Float](unsafeUninitializedCapacity: n * outPer) { yp, initialized in
            x.data.withUnsafeBufferPointer { xp in
                argmax.withUnsafeMutableBufferPointer { ap in
                    let xb = xp.baseAddress!, yb = yp.baseAddress!
                    let ab = training ? ap.baseAddress : nil
                    forEachChunk(n, work: n * outPer * g.kh * g.kw) { _, range in
                        kdc_maxpool_forward(yb, ab, xb, [s], range.lowerBound, range.upperBound)
                    }
                }
            }
            initialized = n * outPer
        }
        let out = Tensor(shape: [n, g.oh, g.ow, c], data: y)
        output = training && masksReLUGradient ? out : Tensor(shape: [0])
        return out
    }

    public func backward(_ gy: Tensor) -> [Tensor] {
        let g = geometry, n = gy.batch, outPer = g.outputPixels * g.c
        precondition(argmax.count == n * outPer, "max_pool2d backward: no cached forward batch of \(n) samples")
        precondition(!masksReLUGradient || output.count == n * outPer, "max_pool2d backward: no cached output")
        let s = poolShape
        let dx = [Float](unsafeUninitializedCapacity: n * g.inputCount) { dxp, initialized in
            gy.data.withUnsafeBufferPointer { gp in
                argmax.withUnsafeBufferPointer { ap in
                    output.data.withUnsafeBufferPointer { yp in
                        let dxb = dxp.baseAddress!, gb = gp.baseAddress!, ab = ap.baseAddress!
                        let yb = masksReLUGradient ? yp.baseAddress : nil
                        // Each sample scatters into its own image only: chunks write disjoint memory.
                        forEachChunk(n, work: n * g.inputCount) { _, range in
                            kdc_maxpool_backward(dxb, gb, ab, yb, [s], range.lowerBound, range.upperBound)
                        }
                    }
                }
            }
            initialized = n * g.inputCount
        }
        output = Tensor(shape: [0])
        return [Tensor(shape: inputShape, data: dx)]
    }
}

/// Average pooling over H and W of NHWC images, per channel:
/// y[n, oy, ox, c] = (1 / count) · Σ over the in-bounds taps of x[n, oy·sh − padTop + ky, ox·sw − padLeft + kx, c],
/// where `count` is the number of in-bounds taps. With `same` padding the padded taps are left out
/// of both the sum and the count (TF's behaviour and the int8 device kernel's). Shapes: `[H, W, C]` → `[OH, OW, C]`.
public final class AvgPool2DLayer: Layer {
    public let name: String
    public let outputShape: [Int]
    let geometry: WindowGeometry
    private var inputShape: [Int] = []

    public init(name: String, inputShape: [Int], pool: Size2, stride: Size2, padding: Padding) throws {
        geometry = try WindowGeometry(
            layer: name, op: "avg_pool2d", inputShape: inputShape, kernel: pool,
            stride: stride, padding: padding)
        self.name = name
        outputShape = [geometry.oh, geometry.ow, geometry.c]
    }

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        let x = inputs[0]
        let g = geometry, n = x.batch, c = g.c, outPer = g.outputPixels * c
        var y = Tensor(shape: [n, g.oh, g.ow, c])
        if context.training { inputShape = x.shape }
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                let xb = xp.baseAddress!, yb = yp.baseAddress!
                forEachChunk(n, work: n * outPer * g.kh * g.kw) { _, range in
                    for s in range {
                        let img = xb + s * g.inputCount
                        var o = yb + s * outPer
                        for oy in 0..<g.oh {
                            let ty = WindowGeometry.taps(oy, stride: g.sh, pad: g.padTop, kernel: g.kh, size: g.h)
                            for ox in 0..<g.ow {
                                let tx = WindowGeometry.taps(ox, stride: g.sw, pad: g.padLeft, kernel: g.kw, size: g.w)
                                for ky in ty.k0..<max(ty.k0, ty.k1) {
                                    for kx in tx.k0..<max(tx.k0, tx.k1) {
                                        let xi = img + ((ty.start + ky) * g.w + tx.start + kx) * c
                                        for ch in 0..<c { o[ch] += xi[ch] }
                                    }
                                }
                                let inv = 1 / Float((ty.k1 - ty.k0) * (tx.k1 - tx.k0))
                                for ch in 0..<c { o[ch] *= inv }
                                o += c
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ gy: Tensor) -> [Tensor] {
        let g = geometry, n = gy.batch, c = g.c, outPer = g.outputPixels * c
        var dx = Tensor(shape: inputShape)
        dx.data.withUnsafeMutableBufferPointer { dxp in
            gy.data.withUnsafeBufferPointer { gp in
                let dxb = dxp.baseAddress!, gb = gp.baseAddress!
                forEachChunk(n, work: n * outPer * g.kh * g.kw) { _, range in
                    for s in range {
                        let img = dxb + s * g.inputCount
                        var o = gb + s * outPer
                        for oy in 0..<g.oh {
                            let ty = WindowGeometry.taps(oy, stride: g.sh, pad: g.padTop, kernel: g.kh, size: g.h)
                            for ox in 0..<g.ow {
                                let tx = WindowGeometry.taps(ox, stride: g.sw, pad: g.padLeft, kernel: g.kw, size: g.w)
                                let inv = 1 / Float((ty.k1 - ty.k0) * (tx.k1 - tx.k0))
                                for ky in ty.k0..<max(ty.k0, ty.k1) {
                                    for kx in tx.k0..<max(tx.k0, tx.k1) {
                                        let di = img + ((ty.start + ky) * g.w + tx.start + kx) * c
                                        for ch in 0..<c { di[ch] += o[ch] * inv }
                                    }
                                }
                                o += c
                            }
                        }
                    }
                }
            }
        }
        return [dx]
    }
}

/// Global average pooling: y[n, c] = (1 / (H·W)) · Σ_{y, x} x[n, y, x, c]. Shapes: `[H, W, C]` → `[C]`.
public final class GlobalAvgPoolLayer: Layer {
    public let name: String
    public let outputShape: [Int]
    private let inputShape: [Int]

    public init(name: String, inputShape: [Int]) throws {
        try checkShape(
            inputShape.count == 3 && inputShape.allSatisfy { $0 > 0 }, name,
            "global_avg_pool expects a positive input shape [H, W, C], got \(inputShape)")
        self.name = name
        self.inputShape = inputShape
        outputShape = [inputShape[2]]
    }

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        let x = inputs[0]
        let n = x.batch, c = inputShape[2], hw = inputShape[0] * inputShape[1]
        var y = Tensor(shape: [n, c])
        let inv = 1 / Float(hw)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                for s in 0..<n {
                    let o = yp.baseAddress! + s * c
                    var xi = xp.baseAddress! + s * hw * c
                    for _ in 0..<hw {
                        for ch in 0..<c { o[ch] += xi[ch] }
                        xi += c
                    }
                    for ch in 0..<c { o[ch] *= inv }
                }
            }
        }
        return y
    }

    public func backward(_ gy: Tensor) -> [Tensor] {
        let n = gy.batch, c = inputShape[2], hw = inputShape[0] * inputShape[1]
        var dx = Tensor(shape: [n] + inputShape)
        let inv = 1 / Float(hw)
        dx.data.withUnsafeMutableBufferPointer { dxp in
            gy.data.withUnsafeBufferPointer { gp in
                for s in 0..<n {
                    let gi = gp.baseAddress! + s * c
                    var d = dxp.baseAddress! + s * hw * c
                    for _ in 0..<hw {
                        for ch in 0..<c { d[ch] = gi[ch] * inv }
                        d += c
                    }
                }
            }
        }
        return [dx]
    }
}
