/// 2-D convolution over NHWC images:
/// y[n, oy, ox, f] = b[f] + Σ_{ky, kx, c} x[n, oy·sh − padTop + ky, ox·sw − padLeft + kx, c] · W[ky, kx, c, f],
/// with zero outside the input (TF `same`/`valid` padding, see `Padding`).
///
/// Shapes: input `[H, W, Cin]`, output `[OH, OW, filters]`, weight `[kh, kw, Cin, filters]` (HWIO),
/// bias `[filters]`. Init: He-uniform weights (limit √(6/(kh·kw·Cin))), zero bias.
///
/// Forward is one batched im2col (`[N·OH·OW, kh·kw·Cin]`) and one sgemm with the weight read as a
/// `[kh·kw·Cin, filters]` matrix, which yields the NHWC output directly. Backward:
/// dW += colsᵀ·g, db += Σ g, dcols = g·Wᵀ, then col2im. Very large batches are processed in
/// chunks so the column buffer stays bounded (`maxColumnValues`).
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
    private var input = Tensor(shape: [0])
    /// True when `scratch` still holds the columns of the whole cached batch.
    private var columnsCached = false

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

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        let x = inputs[0]
        let g = geometry, n = x.batch, k = g.patch, f = filters, pix = g.outputPixels
        var y = Tensor(shape: [n, g.oh, g.ow, f])
        let per = samplesPerChunk
        let cols = scratch.reserve(min(n, per) * pix * k)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                weight.value.data.withUnsafeBufferPointer { wp in
                    bias.value.data.withUnsafeBufferPointer { bp in
                        for r in 0..<(n * pix) { (yp.baseAddress! + r * f).update(from: bp.baseAddress!, count: f) }
                    }
                    var n0 = 0
                    while n0 < n {
                        let n1 = min(n, n0 + per)
                        fillColumns(xp.baseAddress!, n0, n1, cols)
                        BLAS.sgemm(
                            m: (n1 - n0) * pix, n: f, k: k, a: cols, b: wp.baseAddress!, beta: 1,
                            c: yp.baseAddress! + n0 * pix * f)
                        n0 = n1
                    }
                }
            }
        }
        if context.training {
            input = x
            columnsCached = n <= per
        } else {
            columnsCached = false
        }
        return y
    }

    public func backward(_ gy: Tensor) -> [Tensor] { backward(gy, inputGradients: true) }

    public func backward(_ gy: Tensor, inputGradients: Bool) -> [Tensor] {
        let g = geometry, n = gy.batch, k = g.patch, f = filters, pix = g.outputPixels
        var dx = Tensor(shape: inputGradients ? input.shape : [0])
        let per = samplesPerChunk
        let cols = scratch.reserve(min(n, per) * pix * k)
        gy.data.withUnsafeBufferPointer { gp in
            bias.grad.data.withUnsafeMutableBufferPointer { db in
                for r in 0..<(n * pix) {
                    let row = gp.baseAddress! + r * f
                    for j in 0..<f { db[j] += row[j] }
                }
            }
            input.data.withUnsafeBufferPointer { xp in
                dx.data.withUnsafeMutableBufferPointer { dxp in
                    weight.value.data.withUnsafeBufferPointer { wp in
                        weight.grad.data.withUnsafeMutableBufferPointer { dw in
                            var n0 = 0
                            while n0 < n {
                                let n1 = min(n, n0 + per), rows = (n1 - n0) * pix
                                if !(columnsCached && n0 == 0 && n1 == n) { fillColumns(xp.baseAddress!, n0, n1, cols) }
                                let gChunk = gp.baseAddress! + n0 * pix * f
                                // dW[k, f] += colsᵀ · g
                                BLAS.sgemm(
                                    transA: true, m: k, n: f, k: rows, a: cols, b: gChunk, beta: 1,
                                    c: dw.baseAddress!)
                                if inputGradients {
                                    // dcols[rows, k] = g · Wᵀ (overwrites the columns, no longer needed)
                                    BLAS.sgemm(transB: true, m: rows, n: k, k: f, a: gChunk, b: wp.baseAddress!, c: cols)
                                    let dxBase = dxp.baseAddress!
                                    forEachChunk(n1 - n0, work: rows * k) { _, r in
                                        col2im(
                                            g, cols: cols + r.lowerBound * pix * k, n0: n0 + r.lowerBound,
                                            n1: n0 + r.upperBound, dx: dxBase)
                                    }
                                }
                                n0 = n1
                            }
                        }
                    }
                }
            }
        }
        input = Tensor(shape: [0])
        columnsCached = false
        return [dx]
    }

    /// im2col of samples `n0..<n1` into `cols`, split over the cores.
    private func fillColumns(_ x: UnsafePointer<Float>, _ n0: Int, _ n1: Int, _ cols: UnsafeMutablePointer<Float>) {
        let g = geometry, rowsPerSample = g.outputPixels * g.patch
        forEachChunk(n1 - n0, work: (n1 - n0) * rowsPerSample) { _, r in
            im2col(g, x: x, n0: n0 + r.lowerBound, n1: n0 + r.upperBound, cols: cols + r.lowerBound * rowsPerSample)
        }
    }
}
