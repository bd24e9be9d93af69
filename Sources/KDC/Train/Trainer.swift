import Foundation

/// The training recipe: optimizer, schedule, batch size, epochs and augmentation.
public struct TrainSettings: Equatable, Codable, Sendable {
    public var epochs: Int = 10
    public var batchSize: Int = 128
    public var optimizer: OptimizerKind = .adam
    public var learningRate: Float = 1e-3
    public var momentum: Float = 0.9
    public var weightDecay: Float = 0
    public var schedule: LRSchedule = .cosine(floor: 0)
    public var warmupEpochs: Int = 0
    /// Random shifts of up to this many pixels in each direction for `[H, W, C]` inputs (0: off).
    public var augmentShift: Int = 0
    public init() {}
}

/// Figures for one finished epoch.
public struct EpochStats: Codable, Sendable {
    public var epoch: Int
    public var loss: Double
    public var trainAccuracy: Double
    public var validationAccuracy: Double?
    public var seconds: Double
    public var samplesPerSecond: Double
    public var learningRate: Float
}

/// Receives progress while training runs (the CLI draws bars or prints lines).
public protocol TrainingObserver: AnyObject {
    func beginEpoch(_ epoch: Int, of epochs: Int, steps: Int)
    func step(_ step: Int, of steps: Int, loss: Double, accuracy: Double)
    func endEpoch(_ stats: EpochStats, of epochs: Int)
}

/// The loss for one batch: given the logits, the (augmented) input batch and the sample
/// indices, returns the mean loss and dLoss/dLogits.
public typealias BatchLoss = (_ logits: Tensor, _ input: Tensor, _ indices: ArraySlice<Int>) -> (loss: Float, grad: Tensor)

/// Mini-batch training of a `Model` with seeded shuffling, dropout and augmentation.
public final class Trainer {
    public let model: Model
    public let settings: TrainSettings
    public let seed: UInt64
    public weak var observer: TrainingObserver?
    private let optimizer: Optimizer

    public init(model: Model, settings: TrainSettings, seed: UInt64) {
        self.model = model
        self.settings = settings
        self.seed = seed
        optimizer = Optimizer(kind: settings.optimizer, momentum: settings.momentum, weightDecay: settings.weightDecay)
    }

    /// Trains on `train` with hard-label cross-entropy.
    @discardableResult
    public func fit(train: Dataset, validation: Dataset?, augmentFill: [Float] = [0]) throws -> [EpochStats] {
        try fit(train: train, validation: validation, augmentFill: augmentFill) { logits, _, idx in
            softmaxCrossEntropy(logits, labels: idx.map { train.labels[$0] }[...])
        }
    }

    /// Trains on `train` with any per-batch loss. Accuracy shown during training is against
    /// `train.labels` where samples are labelled. `prepare`, when given, may change each input
    /// batch after augmentation and before the forward pass (distillation mixes inputs there).
    @discardableResult
    public func fit(
        train: Dataset, validation: Dataset?, augmentFill: [Float] = [0],
        prepare: ((inout Tensor, ArraySlice<Int>) -> Void)? = nil, loss: BatchLoss
    ) throws -> [EpochStats] {
        let s = settings
        let n = train.count
        guard n > 0 else { throw KDCError.training(message: "the training set is empty") }
        let bs = max(1, min(s.batchSize, n))
        let steps = (n + bs - 1) / bs
        var shuffle = SeededRNG(seed: seed, stream: "shuffle")
        var augRNG = SeededRNG(seed: seed, stream: "augment")
        var ctx = PassContext(training: true, rng: SeededRNG(seed: seed, stream: "dropout"))
        let params = model.parameters, layers = model.layers, opt = optimizer
        var history: [EpochStats] = []
        let canShift = s.augmentShift > 0 && train.sampleShape.count == 3
        for epoch in 0..<s.epochs {
            observer?.beginEpoch(epoch, of: s.epochs, steps: steps)
            let start = Date()
            let order = shuffle.permutation(n)
            var lossSum = 0.0, correct = 0, seen = 0, labelled = 0
            var lr = s.learningRate
            for step in 0..<steps {
                let idx = order[(step * bs)..<min((step + 1) * bs, n)]
                var x = train.batch(idx)
                if canShift { randomShift(&x, maxShift: s.augmentShift, fill: augmentFill, rng: &augRNG) }
                prepare?(&x, idx)
                for p in params { p.zeroGrad() }
                let logits = model.forward(x, context: &ctx)
                let (l, g) = loss(logits, x, idx)
                guard l.isFinite else {
                    throw KDCError.training(
                        message: "epoch \(epoch + 1), step \(step + 1): the loss is \(l); "
                            + "hint: lower learning_rate (now \(s.learningRate)) or check the inputs for NaN/Inf")
                }
                lr = s.schedule.rate(
                    base: s.learningRate, epoch: epoch, fraction: Double(step) / Double(steps),
                    epochs: s.epochs, warmup: s.warmupEpochs)
                // Each layer's parameters are updated as soon as its backward pass is done, while
                // its weights and gradients are still in cache (nothing later reads them); layers
                // the pass did not reach are updated after it, so every parameter steps once.
                opt.beginStep()
                let rate = lr
                var updated = [Bool](repeating: false, count: layers.count)
                model.backward(g, inputGradient: false) { i in
                    opt.update(layers[i].parameters, lr: rate)
                    updated[i] = true
                }
                for i in layers.indices where !updated[i] { opt.update(layers[i].parameters, lr: rate) }
                lossSum += Double(l) * Double(idx.count)
                seen += idx.count
                let pred = logits.argmaxRows()
                for (r, i) in idx.enumerated() where train.labels[i] >= 0 {
                    labelled += 1
                    if pred[r] == Int(train.labels[i]) { correct += 1 }
                }
                observer?.step(
                    step + 1, of: steps, loss: lossSum / Double(seen),
                    accuracy: labelled > 0 ? Double(correct) / Double(labelled) : 0)
            }
            let seconds = Date().timeIntervalSince(start)
            let valAcc = validation.flatMap { $0.count > 0 ? evaluate(model, on: $0).accuracy : nil }
            let stats = EpochStats(
                epoch: epoch + 1, loss: lossSum / Double(max(seen, 1)),
                trainAccuracy: labelled > 0 ? Double(correct) / Double(labelled) : 0,
                validationAccuracy: valAcc, seconds: seconds,
                samplesPerSecond: Double(n) / max(seconds, 1e-9), learningRate: lr)
            history.append(stats)
            observer?.endEpoch(stats, of: s.epochs)
        }
        return history
    }
}

/// Logits `[N, K]` of `model` on every sample of `data`, in inference mode, in batches.
public func predictLogits(_ model: Model, on data: Dataset, batchSize: Int = 512) -> Tensor {
    let k = model.outputShape.reduce(1, *)
    var out = Tensor(shape: [data.count, k])
    var start = 0
    let all = Array(0..<data.count)
    while start < data.count {
        let end = min(start + batchSize, data.count)
        let y = model.predict(data.batch(all[start..<end]))
        out.data.replaceSubrange((start * k)..<(end * k), with: y.data)
        start = end
    }
    return out
}

/// Fraction of rows of `logits` whose argmax equals the label (unlabelled rows are skipped).
public func accuracy(_ logits: Tensor, labels: [Int32]) -> Double {
    let pred = logits.argmaxRows()
    var c = 0, n = 0
    for (p, l) in zip(pred, labels) where l >= 0 {
        n += 1
        if p == Int(l) { c += 1 }
    }
    return n > 0 ? Double(c) / Double(n) : 0
}

/// Test-time accuracy and logits of `model` on `data`.
public func evaluate(_ model: Model, on data: Dataset) -> (accuracy: Double, logits: Tensor) {
    let logits = predictLogits(model, on: data)
    return (accuracy(logits, labels: data.labels), logits)
}

/// Shifts each `[H, W, C]` image of the batch by a random (dy, dx) in [−maxShift, maxShift],
/// filling the uncovered border with `fill` (per channel, or one value).
public func randomShift(_ x: inout Tensor, maxShift: Int, fill: [Float], rng: inout SeededRNG) {
    let (n, h, w, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let item = h * w * c
    var src = [Float](repeating: 0, count: item)
    x.data.withUnsafeMutableBufferPointer { d in
        for b in 0..<n {
            let dy = rng.int(below: 2 * maxShift + 1) - maxShift
            let dx = rng.int(below: 2 * maxShift + 1) - maxShift
            if dy == 0 && dx == 0 { continue }
            let base = d.baseAddress! + b * item
            src.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: base, count: item) }
            for yy in 0..<h {
                let sy = yy - dy
                for xx in 0..<w {
                    let sx = xx - dx
                    let o = (yy * w + xx) * c
                    if sy >= 0 && sy < h && sx >= 0 && sx < w {
                        let si = (sy * w + sx) * c
                        for ch in 0..<c { base[o + ch] = src[si + ch] }
                    } else {
                        for ch in 0..<c { base[o + ch] = fill.count == 1 ? fill[0] : fill[ch] }
                    }
                }
            }
        }
    }
}
