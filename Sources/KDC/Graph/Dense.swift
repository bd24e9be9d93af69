import Foundation

/// Fully connected layer: y[N, out] = x[N, in] · W[in, out] + b[out].
/// Any input shape is read as a flat vector of `in` values.
/// Init: He-uniform weights (limit √(6/in)), zero bias.
public final class DenseLayer: AffineLayer {
    public let name: String
    public let outputShape: [Int]
    public let weight: Parameter
    public let bias: Parameter
    let inCount: Int, outCount: Int
    private var input = Tensor(shape: [0])

    public init(name: String, inputShape: [Int], units: Int, rng: inout SeededRNG) throws {
        try checkShape(units > 0, name, "units must be positive, got \(units)")
        self.name = name
        inCount = inputShape.reduce(1, *)
        outCount = units
        outputShape = [units]
        let limit = (6.0 / Float(inCount)).squareRoot()
        var w = Tensor(shape: [inCount, units])
        for i in 0..<w.count { w.data[i] = (rng.uniform() * 2 - 1) * limit }
        weight = Parameter(name: "\(name).weight", value: w, decays: true)
        bias = Parameter(name: "\(name).bias", value: Tensor(shape: [units]))
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var macs: Int { inCount * outCount }

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        let x = inputs[0]
        let n = x.batch
        if context.training { input = x }
        var y = Tensor(shape: [n, outCount])
        y.data.withUnsafeMutableBufferPointer { yp in
            bias.value.data.withUnsafeBufferPointer { bp in
                for r in 0..<n { (yp.baseAddress! + r * outCount).update(from: bp.baseAddress!, count: outCount) }
            }
            x.data.withUnsafeBufferPointer { xp in
                weight.value.data.withUnsafeBufferPointer { wp in
                    BLAS.sgemm(
                        m: n, n: outCount, k: inCount, a: xp.baseAddress!, b: wp.baseAddress!,
                        beta: 1, c: yp.baseAddress!)
                }
            }
        }
        return y
    }

    public func backward(_ g: Tensor) -> [Tensor] { backward(g, inputGradients: true) }

    public func backward(_ g: Tensor, inputGradients: Bool) -> [Tensor] {
        let n = g.batch
        var dx = Tensor(shape: inputGradients ? input.shape : [0])
        g.data.withUnsafeBufferPointer { gp in
            input.data.withUnsafeBufferPointer { xp in
                weight.grad.data.withUnsafeMutableBufferPointer { dw in
                    // dW[in, out] += xᵀ · g
                    BLAS.sgemm(
                        transA: true, m: inCount, n: outCount, k: n, a: xp.baseAddress!,
                        b: gp.baseAddress!, beta: 1, c: dw.baseAddress!)
                }
            }
            bias.grad.data.withUnsafeMutableBufferPointer { db in
                for r in 0..<n {
                    for j in 0..<outCount { db[j] += gp[r * outCount + j] }
                }
            }
            if inputGradients {
                weight.value.data.withUnsafeBufferPointer { wp in
                    dx.data.withUnsafeMutableBufferPointer { dxp in
                        // dx[N, in] = g · Wᵀ
                        BLAS.sgemm(
                            transB: true, m: n, n: inCount, k: outCount, a: gp.baseAddress!,
                            b: wp.baseAddress!, c: dxp.baseAddress!)
                    }
                }
            }
        }
        input = Tensor(shape: [0])
        return [dx]
    }
}
