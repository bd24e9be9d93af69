/// Batch normalization over the last (channel) axis, for any per-sample shape `[..., C]`:
/// y = γ · (x − μ) / √(σ² + ε) + β, per channel.
///
/// Training: μ and σ² are the batch mean and biased variance over every position except the
/// channel (M = N·H·W values per channel), and the running statistics move Keras-style:
/// running = momentum · running + (1 − momentum) · batch, with the unbiased variance σ²·M/(M − 1).
/// The backward pass goes through the batch statistics:
/// dx = γ/(M·√(σ²+ε)) · (M·g − Σg − x̂·Σ(g·x̂)), dγ = Σ g·x̂, dβ = Σ g.
/// Inference: μ and σ² are the running statistics, and dx = γ·g/√(σ²+ε).
///
/// Parameters: `gamma` `[C]` (init 1), `beta` `[C]` (init 0), and the non-trainable
/// `running_mean` (init 0) and `running_var` (init 1).
public final class BatchNormLayer: Layer {
    public let name: String
    public let outputShape: [Int]
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Parameter
    public let runningVar: Parameter
    public let epsilon: Float
    public let momentum: Float
    let channels: Int
    /// Cached for backward: x̂ (after training) or x (after inference), the statistics used,
    /// and whether they were batch statistics.
    private var normalized = Tensor(shape: [0])
    private var statsMean: [Float] = []
    private var invStd: [Float] = []
    private var usedBatchStatistics = false

    public var floatParams: FloatParams? {
        .batchNorm(gamma: gamma.value, beta: beta.value, mean: runningMean.value, variance: runningVar.value)
    }

    public func load(_ p: FloatParams) throws {
        guard case let .batchNorm(g, b, m, v) = p else {
            throw KDCError.graph(layer: name, message: "expected batch-norm parameters")
        }
        for (t, q) in [(g, gamma), (b, beta), (m, runningMean), (v, runningVar)] { try assign(t, to: q, layer: name) }
    }

    public init(name: String, inputShape: [Int], epsilon: Float, momentum: Float) throws {
        try checkShape(
            !inputShape.isEmpty && inputShape.allSatisfy { $0 > 0 }, name,
            "batch_norm expects a positive input shape [..., C], got \(inputShape)")
        try checkShape(epsilon > 0 && epsilon.isFinite, name, "batch_norm epsilon must be positive, got \(epsilon)")
        try checkShape(momentum >= 0 && momentum < 1, name, "batch_norm momentum must be in [0, 1), got \(momentum)")
        self.name = name
        self.epsilon = epsilon
        self.momentum = momentum
        outputShape = inputShape
        channels = inputShape.last!
        gamma = Parameter(name: "\(name).gamma", value: Tensor(shape: [channels], value: 1))
        beta = Parameter(name: "\(name).beta", value: Tensor(shape: [channels]))
        runningMean = Parameter(name: "\(name).running_mean", value: Tensor(shape: [channels]), trainable: false)
        runningVar = Parameter(name: "\(name).running_var", value: Tensor(shape: [channels], value: 1), trainable: false)
    }

    public var parameters: [Parameter] { [gamma, beta, runningMean, runningVar] }
    public var macs: Int { outputShape.reduce(1, *) }

    public func forward(_ inputs: [Tensor], context: inout PassContext) -> Tensor {
        let x = inputs[0]
        let c = channels, rows = x.count / c
        var mean = [Float](repeating: 0, count: c), inv = [Float](repeating: 0, count: c)
        if context.training {
            // Per-channel sums in Double: M can be large (N·H·W).
            var s1 = [Double](repeating: 0, count: c), s2 = [Double](repeating: 0, count: c)
            x.data.withUnsafeBufferPointer { xp in
                for r in 0..<rows {
                    let xi = xp.baseAddress! + r * c
                    for j in 0..<c { s1[j] += Double(xi[j]) }
                }
                for j in 0..<c { s1[j] /= Double(rows) }
                for r in 0..<rows {
                    let xi = xp.baseAddress! + r * c
                    for j in 0..<c {
                        let d = Double(xi[j]) - s1[j]
                        s2[j] += d * d
                    }
                }
            }
            let mom = momentum
            for j in 0..<c {
                let variance = s2[j] / Double(rows)
                mean[j] = Float(s1[j])
                inv[j] = Float(1 / (variance + Double(epsilon)).squareRoot())
                let unbiased = rows > 1 ? s2[j] / Double(rows - 1) : variance
                runningMean.value.data[j] = mom * runningMean.value.data[j] + (1 - mom) * mean[j]
                runningVar.value.data[j] = mom * runningVar.value.data[j] + (1 - mom) * Float(unbiased)
            }
        } else {
            for j in 0..<c {
                mean[j] = runningMean.value.data[j]
                inv[j] = 1 / (runningVar.value.data[j] + epsilon).squareRoot()
            }
        }
        let training = context.training
        var xhat = training ? x : Tensor(shape: [0])
        var y = Tensor(shape: x.shape)
        normalize(x, mean: mean, inv: inv, xhat: &xhat, y: &y, keep: training)
        if training {
            normalized = xhat
        } else {
            // Inference keeps a reference to the input (no copy) so a frozen-statistics
            // backward (fine-tuning with BN in inference mode) is possible.
            normalized = x
        }
        statsMean = mean
        invStd = inv
        usedBatchStatistics = training
        return y
    }

    /// y = γ·x̂ + β with x̂ = (x − mean)·inv; writes x̂ into `xhat` when `keep`.
    private func normalize(_ x: Tensor, mean: [Float], inv: [Float], xhat: inout Tensor, y: inout Tensor, keep: Bool) {
        let c = channels, rows = x.count / c
        x.data.withUnsafeBufferPointer { xp in
            xhat.data.withUnsafeMutableBufferPointer { hp in
                y.data.withUnsafeMutableBufferPointer { yp in
                    gamma.value.data.withUnsafeBufferPointer { gp in
                        beta.value.data.withUnsafeBufferPointer { bp in
                            for r in 0..<rows {
                                let xi = xp.baseAddress! + r * c, o = yp.baseAddress! + r * c
                                let h = keep ? hp.baseAddress! + r * c : nil
                                for j in 0..<c {
                                    let v = (xi[j] - mean[j]) * inv[j]
                                    h?[j] = v
                                    o[j] = gp[j] * v + bp[j]
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    public func backward(_ gy: Tensor) -> [Tensor] {
        let c = channels, rows = gy.count / c
        if !usedBatchStatistics {
            // `normalized` holds the input; turn it into x̂ with the running statistics.
            normalized.data.withUnsafeMutableBufferPointer { hp in
                for r in 0..<rows {
                    let h = hp.baseAddress! + r * c
                    for j in 0..<c { h[j] = (h[j] - statsMean[j]) * invStd[j] }
                }
            }
        }
        var sumG = [Float](repeating: 0, count: c), sumGH = [Float](repeating: 0, count: c)
        var dx = Tensor(shape: gy.shape)
        gy.data.withUnsafeBufferPointer { gp in
            normalized.data.withUnsafeBufferPointer { hp in
                var s1 = [Double](repeating: 0, count: c), s2 = [Double](repeating: 0, count: c)
                for r in 0..<rows {
                    let gi = gp.baseAddress! + r * c, hi = hp.baseAddress! + r * c
                    for j in 0..<c {
                        s1[j] += Double(gi[j])
                        s2[j] += Double(gi[j] * hi[j])
                    }
                }
                for j in 0..<c { sumG[j] = Float(s1[j]); sumGH[j] = Float(s2[j]) }
                dx.data.withUnsafeMutableBufferPointer { dp in
                    gamma.value.data.withUnsafeBufferPointer { gam in
                        let m = Float(rows)
                        for r in 0..<rows {
                            let gi = gp.baseAddress! + r * c, hi = hp.baseAddress! + r * c, d = dp.baseAddress! + r * c
                            if usedBatchStatistics {
                                for j in 0..<c {
                                    d[j] = gam[j] * invStd[j] / m * (m * gi[j] - sumG[j] - hi[j] * sumGH[j])
                                }
                            } else {
                                for j in 0..<c { d[j] = gam[j] * invStd[j] * gi[j] }
                            }
                        }
                    }
                }
            }
        }
        for j in 0..<c {
            gamma.grad.data[j] += sumGH[j]
            beta.grad.data[j] += sumG[j]
        }
        normalized = Tensor(shape: [0])
        return [dx]
    }
}
