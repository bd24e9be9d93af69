/// Inverted dropout: in training, each value is kept with probability 1 − rate (to 1/65536) and scaled by
/// 1/(1 − rate), so y = x · mask with mask ∈ {0, 1/(1 − rate)} drawn from `context.rng`; in
/// inference, y = x. The backward pass multiplies by the same mask. Shapes: any → the same.
public final class DropoutLayer: Layer {
    public let name: String
    public let outputShape: [Int]
    public let rate: Float
    /// The mask of the last training pass (empty after an inference pass: identity).
    private var mask: [Float] = []

    public init(name: String, inputShape: [Int], rate: Float) throws {
        try checkShape(rate >= 0 && rate < 1, name, "dropout rate must be in [0, 1), got \(rate)")
        self.name = name
        self.rate = rate
        outputShape = inputShape
    }

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        guard context.training && rate > 0 else {
            mask = []
            return inputs[0]
        }
        var y = inputs[0]
        if mask.count != y.count { mask = [Float](repeating: 0, count: y.count) }
        let keep = 1 / (1 - rate)
        // Each 64-bit draw gives four 16-bit uniforms: keep when u ≥ rate·65536.
        let threshold = UInt64((rate * 65536).rounded())
        var rng = context.rng  // a local copy keeps the generator in registers
        mask.withUnsafeMutableBufferPointer { m in
            y.data.withUnsafeMutableBufferPointer { yp in
                let n = yp.count
                var i = 0
                while i < n {
                    var bits = rng.next()
                    for _ in 0..<min(4, n - i) {
                        m[i] = (bits & 0xffff) >= threshold ? keep : 0
                        bits >>= 16
                        i += 1
                    }
                }
                for j in 0..<n { yp[j] *= m[j] }
            }
        }
        context.rng = rng
        return y
    }

    public func backward(_ g: Tensor) -> [Tensor] {
        guard !mask.isEmpty else { return [g] }
        var dx = g
        dx.data.withUnsafeMutableBufferPointer { d in
            mask.withUnsafeBufferPointer { m in
                for i in 0..<d.count { d[i] *= m[i] }
            }
        }
        return [dx]
    }
}
