import Foundation

/// Hinton et al. (2015) distillation: the student learns from the teacher's softened outputs.
///
/// loss = α·CE(labels, softmax(z_s)) + (1 − α)·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T))
///
/// The T² factor keeps the soft term's gradient, which scales as 1/T, on the same scale as T
/// changes. With α = 0 no labels are needed.
public struct DistillSettings: Equatable, Codable, Sendable {
    /// Softmax temperature T ≥ 1 for both teacher and student in the soft term.
    public var temperature: Float = 4
    /// Weight α ∈ [0, 1] of the hard-label cross-entropy.
    public var alpha: Float = 0.1
    /// Fraction of each batch replaced by blends of two transfer samples, x = λ·a + (1 − λ)·b with
    /// λ uniform in [0, 1], labelled by the teacher only (the hard-label term skips them). 0: off.
    public var mixup: Float = 0
    public init(temperature: Float = 4, alpha: Float = 0.1, mixup: Float = 0) {
        self.temperature = temperature
        self.alpha = alpha
        self.mixup = mixup
    }
}

/// The distillation loss for one batch and its gradient with respect to the student logits.
///
/// - Parameters:
///   - student: student logits `[N, K]`.
///   - teacher: teacher logits `[N, K]` (raw, before temperature).
///   - labels: hard labels (−1 where unlabelled; such rows get only the soft term).
/// - Returns: the mean loss over the batch and dLoss/dStudent `[N, K]`:
///   α·(softmax(z_s) − onehot)/N_labelled + (1 − α)·T·(softmax(z_s/T) − softmax(z_t/T))/N.
///
/// Each softmax subtracts its row maximum before exponentiating, so every exponent is ≤ 0 and
/// every normalizer ≥ 1: stable for any T ≥ 1 and any finite logits. Three exponentials per
/// logit (student and teacher at T, student at 1 when α > 0) and one logarithm per softmax row.
public func distillationLoss(
    student: Tensor, teacher: Tensor, labels: ArraySlice<Int32>,
    settings: DistillSettings
) -> (loss: Float, grad: Tensor) {
    precondition(student.shape == teacher.shape, "student \(student.shape) vs teacher \(teacher.shape)")
    let k = student.shape.last!
    let n = student.count / k
    let t = settings.temperature, a = settings.alpha
    let invT = 1 / t
    let nLabelled = labels.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) }
    let softScale = (1 - a) * t / Float(n)
    let hardScale = nLabelled > 0 ? a / Float(nLabelled) : 0
    var grad = Tensor(shape: student.shape)
    var soft = 0.0, hard = 0.0
    var ps = [Float](repeating: 0, count: k), pt = [Float](repeating: 0, count: k)
    student.data.withUnsafeBufferPointer { sp in
        teacher.data.withUnsafeBufferPointer { tp in
            grad.data.withUnsafeMutableBufferPointer { gp in
                for r in 0..<n {
                    let zs = sp.baseAddress! + r * k, zt = tp.baseAddress! + r * k
                    let g = gp.baseAddress! + r * k
                    var ms = zs[0], mt = zt[0]
                    for j in 1..<k { ms = max(ms, zs[j]); mt = max(mt, zt[j]) }
                    var ss: Float = 0, st: Float = 0
                    for j in 0..<k {
                        ps[j] = Foundation.exp((zs[j] - ms) * invT); ss += ps[j]
                        pt[j] = Foundation.exp((zt[j] - mt) * invT); st += pt[j]
                    }
                    let lss = Foundation.log(ss), lst = Foundation.log(st)
                    let iss = 1 / ss, ist = 1 / st
                    // Soft term: (1 − α)·T²·KL(p_t ‖ p_s); its gradient is (1 − α)·T·(p_s − p_t) per row.
                    var kl: Float = 0
                    for j in 0..<k {
                        let p = ps[j] * iss, q = pt[j] * ist
                        // log q − log p = ((z_t − m_t) − (z_s − m_s))/T − log S_t + log S_s
                        if q > 0 { kl += q * (((zt[j] - mt) - (zs[j] - ms)) * invT - lst + lss) }
                        g[j] = softScale * (p - q)
                    }
                    soft += Double(kl)
                    // Hard term on labelled rows: α·CE at T = 1.
                    let y = Int(labels[labels.startIndex + r])
                    if a > 0 && y >= 0 {
                        var s1: Float = 0
                        for j in 0..<k { ps[j] = Foundation.exp(zs[j] - ms); s1 += ps[j] }
                        let is1 = 1 / s1
                        hard -= Double((zs[y] - ms) - Foundation.log(s1))
                        for j in 0..<k { g[j] += hardScale * (ps[j] * is1 - (j == y ? 1 : 0)) }
                    }
                }
            }
        }
    }
    let loss = Double(1 - a) * Double(t * t) * soft / Double(n) + (nLabelled > 0 ? Double(a) * hard / Double(nLabelled) : 0)
    return (Float(loss), grad)
}

/// Where the soft targets come from.
public enum TeacherSource {
    /// A float model, run in inference mode.
    case model(Model)
    /// Logits `[N, K]` aligned with the transfer set, computed elsewhere.
    case logits(Tensor)
    /// A float graph kdc did not train (a `.tflite` teacher), with its logits on the transfer
    /// set when they are already known (they serve every run without augmentation).
    case graph(GraphTeacher, transferLogits: Tensor?)
}

/// Trains `student` on the transfer set from the teacher's soft targets (and the hard labels
/// where α > 0).
///
/// Teacher logits are computed once, in one batched inference pass, and reused every epoch when
/// the inputs do not change. With augmentation the student sees shifted images, so the teacher
/// runs (inference only, no backward) on the same shifted batch.
@discardableResult
public func distill(
    student: Model, teacher: TeacherSource, transfer: Dataset, validation: Dataset?,
    train settings: TrainSettings, distill: DistillSettings, seed: UInt64,
    augmentFill: [Float] = [0], observer: TrainingObserver? = nil
) throws -> [EpochStats] {
    let k = student.outputShape.reduce(1, *)
    let trainer = Trainer(model: student, settings: settings, seed: seed)
    trainer.observer = observer
    let augment = (settings.augmentShift > 0 && transfer.sampleShape.count == 3) || distill.mixup > 0
    var cached: Tensor?
    switch teacher {
    case let .logits(t):
        guard distill.mixup <= 0 else {
            throw KDCError.training(
                message:
                    "distill.mixup needs a teacher model to label the blended inputs; teacher logits from a file only cover the transfer samples as they are"
            )
        }
        guard t.shape == [transfer.count, k] else {
            throw KDCError.format(
                file: "teacher logits",
                message:
                    "shape \(t.shape) does not match the transfer set: expected [\(transfer.count), \(k)]")
        }
        cached = t
    case let .model(m):
        guard m.outputShape.reduce(1, *) == k else {
            throw KDCError.graph(
                layer: m.spec.nodes.last!.name,
                message:
                    "the teacher has \(m.outputShape.reduce(1, *)) outputs but the student has \(k)")
        }
        if !augment { cached = predictLogits(m, on: transfer) }
    case let .graph(g, known):
        guard g.graph[g.graph.output].count == k else {
            throw KDCError.format(
                file: g.file, message: "the teacher has \(g.graph[g.graph.output].count) outputs but the student has \(k)")
        }
        if !augment { cached = known?.shape == [transfer.count, k] ? known : g.logits(on: transfer) }
    }
    if distill.alpha > 0 && !transfer.labels.contains(where: { $0 >= 0 }) {
        throw KDCError.training(
            message:
                "alpha = \(distill.alpha) needs labels, but the transfer set '\(transfer.name)' has none; hint: set distill.alpha to 0"
        )
    }
    // Mixup: rows blended with another row of the batch lose their hard label.
    var mixRNG = SeededRNG(seed: seed, stream: "mixup")
    var mixed = Set<Int>()
    let prepare: ((inout Tensor, ArraySlice<Int>) -> Void)? =
        distill.mixup <= 0
        ? nil
        : { x, idx in
            mixed.removeAll(keepingCapacity: true)
            let n = idx.count, size = x.itemCount
            guard n > 1 else { return }
            let original = x
            for r in 0..<n where mixRNG.uniform() < distill.mixup {
                var j = mixRNG.int(below: n - 1)
                if j >= r { j += 1 }
                let lam = mixRNG.uniform()
                x.data.withUnsafeMutableBufferPointer { d in
                    original.data.withUnsafeBufferPointer { o in
                        for k in 0..<size { d[r * size + k] = lam * o[r * size + k] + (1 - lam) * o[j * size + k] }
                    }
                }
                mixed.insert(r)
            }
        }
    // Precomputed logits belong to the unshifted inputs; they are reused as they are.
    return try trainer.fit(train: transfer, validation: validation, augmentFill: augmentFill, prepare: prepare) {
        logits, x, idx in
        var t: Tensor
        if let c = cached {
            t = Tensor(shape: [idx.count, k])
            t.data.withUnsafeMutableBufferPointer { dst in
                c.data.withUnsafeBufferPointer { src in
                    for (r, i) in idx.enumerated() {
                        (dst.baseAddress! + r * k).update(from: src.baseAddress! + i * k, count: k)
                    }
                }
            }
        } else if case let .model(m) = teacher {
            t = m.predict(x)
        } else if case let .graph(g, _) = teacher {
            t = g.logits(x)
        } else {
            t = logits  // not reached: a logits teacher is always cached
        }
        var labels = idx.map { transfer.labels[$0] }
        for r in mixed { labels[r] = -1 }
        return distillationLoss(student: logits, teacher: t, labels: labels[...], settings: distill)
    }
}
