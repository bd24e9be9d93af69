/// The geometry of a 2-D window (convolution or pooling) over an NHWC image `[H, W, C]`:
/// output size and the padding before the first row and column (TF semantics, see `Padding`).
public struct WindowGeometry: Equatable, Sendable {
    public let h: Int, w: Int, c: Int
    public let kh: Int, kw: Int
    public let sh: Int, sw: Int
    public let oh: Int, ow: Int
    public let padTop: Int, padLeft: Int

    public init(h: Int, w: Int, c: Int, kh: Int, kw: Int, sh: Int, sw: Int, oh: Int, ow: Int, padTop: Int, padLeft: Int) {
        self.h = h; self.w = w; self.c = c; self.kh = kh; self.kw = kw; self.sh = sh; self.sw = sw
        self.oh = oh; self.ow = ow; self.padTop = padTop; self.padLeft = padLeft
    }

    /// Validates the sizes and throws `KDCError.graph` naming `layer` when the window does not fit.
    init(layer: String, op: String, inputShape: [Int], kernel: Size2, stride: Size2, padding: Padding) throws {
        try checkShape(
            inputShape.count == 3 && inputShape.allSatisfy { $0 > 0 }, layer,
            "\(op) expects a positive input shape [H, W, C], got \(inputShape)")
        try checkShape(kernel.h > 0 && kernel.w > 0, layer, "\(op) window must be positive, got \(kernel)")
        try checkShape(stride.h > 0 && stride.w > 0, layer, "\(op) stride must be positive, got \(stride)")
        if case .explicit = padding {
            throw KDCError.graph(
                layer: layer, message: "\(op) with explicit padding has no implied output size; hint: use padding same or valid")
        }
        h = inputShape[0]; w = inputShape[1]; c = inputShape[2]
        kh = kernel.h; kw = kernel.w; sh = stride.h; sw = stride.w
        if padding == .valid {
            try checkShape(
                kh <= h && kw <= w, layer,
                "\(op) window \(kh)x\(kw) is larger than the input \(h)x\(w) with valid padding; "
                    + "expected a window of at most \(h)x\(w) (hint: use padding same)")
        }
        let y = padding.output(h, kernel: kh, stride: sh), x = padding.output(w, kernel: kw, stride: sw)
        oh = y.out; padTop = y.padBefore; ow = x.out; padLeft = x.padBefore
    }

    /// Values in one im2col row: `kh·kw·c`, ordered (ky, kx, c) like an HWIO weight.
    var patch: Int { kh * kw * c }
    var inputCount: Int { h * w * c }
    var outputPixels: Int { oh * ow }

    /// The in-bounds tap range `[k0, k1)` along one axis for output position `o`.
    @inline(__always)
    static func taps(_ o: Int, stride s: Int, pad: Int, kernel k: Int, size n: Int) -> (start: Int, k0: Int, k1: Int) {
        let start = o * s - pad
        return (start, max(0, -start), min(k, n - start))
    }
}

extension Op {
    /// Shape inference, the only place kdc computes an op's output shape from its input shapes
    /// (per sample, NHWC). Every builder and check goes through it.
    /// - Throws: `KDCError.graph` naming `layer` when the op does not fit its inputs.
    public func outputShape(_ inputs: [[Int]], layer: String) throws -> [Int] {
        try checkShape(inputs.count == arity, layer, "\(kind) takes \(arity) input(s), got \(inputs.count)")
        let s = inputs[0]
        try checkShape(
            !s.isEmpty && s.allSatisfy { $0 > 0 }, layer, "\(kind) needs a positive input shape, got \(s)")
        let out: [Int]
        switch self {
        case let .dense(units):
            try checkShape(units > 0, layer, "units must be positive, got \(units)")
            out = [units]
        case let .conv2d(filters, kernel, stride, padding):
            try checkShape(filters > 0, layer, "conv2d filters must be positive, got \(filters)")
            let g = try WindowGeometry(layer: layer, op: kind, inputShape: s, kernel: kernel, stride: stride, padding: padding)
            out = [g.oh, g.ow, filters]
        case let .depthwiseConv2d(kernel, stride, padding, multiplier):
            try checkShape(multiplier > 0, layer, "depthwise_conv2d multiplier must be positive, got \(multiplier)")
            let g = try WindowGeometry(layer: layer, op: kind, inputShape: s, kernel: kernel, stride: stride, padding: padding)
            out = [g.oh, g.ow, g.c * multiplier]
        case let .maxPool2d(pool, stride, padding), let .avgPool2d(pool, stride, padding):
            let g = try WindowGeometry(layer: layer, op: kind, inputShape: s, kernel: pool, stride: stride, padding: padding)
            out = [g.oh, g.ow, g.c]
        case .globalAvgPool:
            try checkShape(s.count == 3, layer, "global_avg_pool expects a positive input shape [H, W, C], got \(s)")
            out = [s[2]]
        case let .batchNorm(epsilon, momentum):
            try checkShape(epsilon > 0 && epsilon.isFinite, layer, "batch_norm epsilon must be positive, got \(epsilon)")
            try checkShape(momentum >= 0 && momentum < 1, layer, "batch_norm momentum must be in [0, 1), got \(momentum)")
            out = s
        case let .dropout(rate):
            try checkShape(rate >= 0 && rate < 1, layer, "dropout rate must be in [0, 1), got \(rate)")
            out = s
        case .relu, .relu6, .clamp:
            out = s
        case let .leakyRelu(alpha):
            try checkShape(alpha >= 0 && alpha < 1, layer, "leaky_relu alpha must be in [0, 1), got \(alpha)")
            out = s
        case let .softmax(beta):
            try checkShape(beta > 0 && beta.isFinite, layer, "softmax beta must be finite and > 0, got \(beta)")
            out = s
        case .flatten:
            out = [s.reduce(1, *)]
        case .add:
            try checkShape(
                inputs[0] == inputs[1], layer, "add needs two inputs of the same shape, got \(inputs[0]) and \(inputs[1])")
            out = s
        case .reshape:
            throw KDCError.graph(layer: layer, message: "reshape takes its output shape from the graph, not from inference")
        }
        try checkShape(
            out.allSatisfy { $0 > 0 }, layer,
            "output shape \(out) is empty (input \(inputs.map { "\($0)" }.joined(separator: ", ")) is too small)")
        return out
    }
}
