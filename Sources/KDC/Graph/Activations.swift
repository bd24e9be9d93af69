import CKDCKernels

/// ReLU (`cap` nil) or ReLU6 (`cap` 6): y = min(max(x, 0), cap). The gradient passes where 0 < x < cap.
public final class ReLULayer: Layer {
    public let name: String
    public let outputShape: [Int]
    public let cap: Float?
    private var output = Tensor(shape: [0])

    public init(name: String, inputShape: [Int], cap: Float? = nil) {
        self.name = name
        self.outputShape = inputShape
        self.cap = cap
    }

    /// Set by `Model` when the layer before already applied this ReLU (a fused conv2d): forward
    /// passes its input through (relu(relu(x)) = relu(x)); backward is unchanged.
    var inputRectified = false

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        if inputRectified {
            if context.training { output = inputs[0] }
            return inputs[0]
        }
        let x = inputs[0], n = x.count
        let capped: Int32 = cap == nil ? 0 : 1
        let hi = cap ?? Float.infinity
        let data = [Float](unsafeUninitializedCapacity: n) { yp, initialized in
            x.data.withUnsafeBufferPointer { xp in
                if n > 0 { kdc_relu_forward(yp.baseAddress!, xp.baseAddress!, n, capped, hi) }
            }
            initialized = n
        }
        let y = Tensor(shape: x.shape, data: data)
        if context.training { output = y }
        return y
    }

    /// Set by `Model` when the only reader is a max pool that applies this layer's gradient mask
    /// itself (`MaxPool2DLayer.masksReLUGradient`): backward passes the gradient through.
    var gradientMasked = false

    public func backward(_ g: Tensor) -> [Tensor] {
        if gradientMasked {
            output = Tensor(shape: [0])
            return [g]
        }
        let n = g.count
        let capped: Int32 = cap == nil ? 0 : 1
        let hi = cap ?? Float.infinity
        let dx = [Float](unsafeUninitializedCapacity: n) { d, initialized in
            g.data.withUnsafeBufferPointer { gp in
                output.data.withUnsafeBufferPointer { y in
                    precondition(y.count == n, "ReLU backward: gradient and cached output differ in size")
                    if n > 0 { kdc_relu_backward(d.baseAddress!, gp.baseAddress!, y.baseAddress!, n, capped, hi) }
                }
            }
            initialized = n
        }
        output = Tensor(shape: [0])
        return [Tensor(shape: g.shape, data: dx)]
    }
}

/// Leaky ReLU: y = x for x ≥ 0, α·x otherwise (0 ≤ α < 1). Gradient: dL/dx = dL/dy where x ≥ 0,
/// α·dL/dy where x < 0 (the forward pass caches which side each input is on).
public final class LeakyReLULayer: Layer {
    public let name: String
    public let outputShape: [Int]
    public let alpha: Float
    private var negative: [Bool] = []

    public init(name: String, inputShape: [Int], alpha: Float) {
        self.name = name
        self.outputShape = inputShape
        self.alpha = alpha
    }

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        var y = inputs[0]
        let a = alpha
        y.data.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count where p[i] < 0 { p[i] *= a }
        }
        if context.training { negative = inputs[0].data.map { $0 < 0 } }
        return y
    }

    public func backward(_ g: Tensor) -> [Tensor] {
        precondition(negative.count == g.count, "LeakyReLU backward: gradient and cached input differ in size")
        var dx = g
        for i in 0..<dx.count where negative[i] { dx.data[i] *= alpha }
        negative = []
        return [dx]
    }
}

/// Flatten `[H, W, C]` → `[H·W·C]`; NHWC order, so the values do not move.
public final class FlattenLayer: Layer {
    public let name: String
    public let outputShape: [Int]
    private let inputShape: [Int]

    public init(name: String, inputShape: [Int]) {
        self.name = name
        self.inputShape = inputShape
        self.outputShape = [inputShape.reduce(1, *)]
    }

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        inputs[0].reshaped([inputs[0].batch] + outputShape)
    }

    public func backward(_ g: Tensor) -> [Tensor] { [g.reshaped([g.batch] + inputShape)] }
}
