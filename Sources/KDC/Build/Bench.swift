import Foundation

/// Training-throughput benchmarks: samples per second for a model on real batches, beside the
/// rate OpenBLAS sgemm alone reaches on the same matrix shapes (the roofline for matmul-bound models).
public enum TrainingBench {
    /// One matrix product of a training step: C[m×n] = op(A)·op(B) with inner size k.
    public struct GemmShape: Sendable {
        public var m: Int, n: Int, k: Int, transA: Bool, transB: Bool
        public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    }

    /// The sgemm calls of one training step (forward, weight gradient, input gradient) of the
    /// dense and conv layers of `model` at batch size `batch`, conv layers as their im2col products.
    public static func gemmShapes(_ model: Model, batch: Int) -> [GemmShape] {
        var shapes: [GemmShape] = []
        var first = true
        for (i, node) in model.spec.nodes.enumerated() {
            let out = model.layers[i].outputShape
            var m = 0, n = 0, k = 0
            switch node.op {
            case let .dense(units):
                m = batch; n = units; k = model.layers[i].macs / units
            case let .conv2d(filters, kernel, _, _):
                m = batch * out[0] * out[1]; n = filters; k = model.layers[i].macs / (out[0] * out[1] * filters)
                _ = kernel
            default:
                continue
            }
            shapes.append(GemmShape(m: m, n: n, k: k, transA: false, transB: false))  // forward
            shapes.append(GemmShape(m: k, n: n, k: m, transA: true, transB: false))  // dW = xᵀ·g
            // dx = g·Wᵀ, skipped for the first layer (no gradient needed for the input).
            if !first { shapes.append(GemmShape(m: m, n: k, k: n, transA: false, transB: true)) }
            first = false
        }
        return shapes
    }

    /// FLOP rate (FLOP/s) of sgemm alone over `shapes`, best of a few timed rounds.
    public static func sgemmRate(_ shapes: [GemmShape], seconds: Double = 1.5) -> Double {
        let buffers = shapes.map { s -> ([Float], [Float], [Float]) in
            (
                [Float](repeating: 0.01, count: s.m * s.k), [Float](repeating: 0.02, count: s.k * s.n),
                [Float](repeating: 0, count: s.m * s.n)
            )
        }
        var bufs = buffers
        let flops = shapes.reduce(0) { $0 + $1.flops }
        func round() {
            for (j, s) in shapes.enumerated() {
                bufs[j].0.withUnsafeBufferPointer { a in
                    bufs[j].1.withUnsafeBufferPointer { b in
                        bufs[j].2.withUnsafeMutableBufferPointer { c in
                            BLAS.sgemm(
                                transA: s.transA, transB: s.transB, m: s.m, n: s.n, k: s.k,
                                a: a.baseAddress!, b: b.baseAddress!, c: c.baseAddress!)
                        }
                    }
                }
            }
        }
        round()
        var best = 0.0
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            let t0 = Date()
            var rounds = 0
            while Date().timeIntervalSince(t0) < 0.25 { round(); rounds += 1 }
            best = max(best, flops * Double(rounds) / Date().timeIntervalSince(t0))
        }
        return best
    }

    /// Samples per second of full training steps (forward, loss, backward, optimizer) on `data`,
    /// measured over whole passes after one warm-up pass of `steps` batches: the best of two.
    public static func trainingRate(
        _ spec: GraphSpec, settings: TrainSettings, data: Dataset, steps: Int,
        loss: BatchLoss? = nil
    ) throws -> Double {
        try trainingRates(spec, settings: settings, data: data, steps: steps, passes: 2, loss: loss).max() ?? 0
    }

    /// Samples per second of each of `passes` timed passes of `steps` batches (full training
    /// steps: forward, loss, backward, optimizer, with the settings' augmentation), after one
    /// untimed warm-up pass.
    public static func trainingRates(
        _ spec: GraphSpec, settings: TrainSettings, data: Dataset, steps: Int, passes: Int,
        loss: BatchLoss? = nil
    ) throws -> [Double] {
        let n = min(data.count, steps * settings.batchSize)
        let subset = data.subset(Array(0..<n))
        var s = settings
        s.epochs = 1
        let model = try Model(spec: spec, seed: 1)
        let trainer = Trainer(model: model, settings: s, seed: 1)
        func pass() throws {
            if let loss {
                try trainer.fit(train: subset, validation: nil, loss: loss)
            } else {
                try trainer.fit(train: subset, validation: nil)
            }
        }
        try pass()
        var rates: [Double] = []
        for _ in 0..<max(1, passes) {
            let t0 = Date()
            try pass()
            rates.append(Double(n) / Date().timeIntervalSince(t0))
        }
        return rates
    }
}
