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

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        var y = inputs[0]
        let hi = cap ?? Float.infinity
        y.data.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] = min(max(p[i], 0), hi) }
        }
        if context.training { output = y }
        return y
    }

    public func backward(_ g: Tensor) -> [Tensor] {
        var dx = g
        let hi = cap ?? Float.infinity
        dx.data.withUnsafeMutableBufferPointer { d in
            output.data.withUnsafeBufferPointer { y in
                // Selects rather than branches, so the loops vectorize.
                if cap == nil {
                    for i in 0..<d.count { d[i] = y[i] > 0 ? d[i] : 0 }
                } else {
                    for i in 0..<d.count { d[i] = y[i] > 0 ? d[i] : 0 }
                    for i in 0..<d.count { d[i] = y[i] < hi ? d[i] : 0 }
                }
            }
        }
        output = Tensor(shape: [0])
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
