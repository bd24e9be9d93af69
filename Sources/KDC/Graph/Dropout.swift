import CKDCKernels

/// Inverted dropout: in training, each value is kept with probability 1 − rate (to 1/65536) and scaled by
/// 1/(1 − rate), so y = x · mask with mask ∈ {0, 1/(1 − rate)} drawn from `context.rng`; in
/// inference, y = x. The backward pass multiplies by the same mask. Shapes: any → the same.
public final class DropoutLayer: Layer {
    public let name: String
    public let outputShape: [Int]
    public let rate: Float
    /// The mask of the last training pass (empty after an inference pass: identity).
    private var mask: [Float] = []
    /// The random words of the last training pass (reused buffer).
    private var bits: [UInt64] = []

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
        let x = inputs[0]
        let n = x.count
        if mask.count != n { mask = [Float](repeating: 0, count: n) }
        let keep = 1 / (1 - rate)
        // Each 64-bit draw gives four 16-bit uniforms: keep when u ≥ rate·65536.
        let threshold = UInt32((rate * 65536).rounded())
        var rng = context.rng  // a local copy keeps the generator in registers
        let words = (n + 3) / 4
        if bits.count != words { bits = [UInt64](repeating: 0, count: words) }
        bits.withUnsafeMutableBufferPointer { b in
            for k in 0..<words { b[k] = rng.next() }
        }
        let y = [Float](unsafeUninitializedCapacity: n) { yp, initialized in
            mask.withUnsafeMutableBufferPointer { m in
                bits.withUnsafeBufferPointer { b in
                    x.data.withUnsafeBufferPointer { xp in
                        if n > 0 {
                            kdc_dropout_forward(
                                yp.baseAddress!, m.baseAddress!, xp.baseAddress!, b.baseAddress!, n,
                                threshold, keep)
                        }
                    }
                }
            }
            initialized = n
        }
        context.rng = rng
        return Tensor(shape: x.shape, data: y)
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
