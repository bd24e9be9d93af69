import CKDCKernels
import Foundation

/// Which update rule the trainer applies.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    /// SGD with (Nesterov-free) momentum; weight decay is added to the gradient (L2).
    case sgd
    /// Adam; weight decay is added to the gradient (L2), as in the original paper.
    case adam
    /// AdamW: Adam with weight decay decoupled from the gradient (Loshchilov & Hutter).
    case adamw
}

/// Applies one update per step to every trainable parameter from its accumulated gradient.
public final class Optimizer {
    public let kind: OptimizerKind
    public var momentum: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    private var m: [ObjectIdentifier: [Float]] = [:]
    private var v: [ObjectIdentifier: [Float]] = [:]
    private var t = 0

    public init(kind: OptimizerKind, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.kind = kind
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// One step at learning rate `lr` over `parameters` (gradients are left in place):
    /// `beginStep()` then `update(parameters, lr:)`.
    public func step(_ parameters: [Parameter], lr: Float) {
        beginStep()
        update(parameters, lr: lr)
    }

    /// Starts a step (advances Adam's bias-correction count); `update` then applies it to each
    /// parameter once, in any order and in as many calls as suit the caller.
    public func beginStep() { t += 1 }

    /// Applies the current step at learning rate `lr` to `parameters` (gradients are left in
    /// place). Large parameters are updated in chunks on all cores; each element's update is
    /// independent, so the result depends neither on the split nor on the order of the calls.
    public func update(_ parameters: [Parameter], lr: Float) {
        let b1 = beta1, b2 = beta2, eps = epsilon, mom = momentum
        let c1 = 1 - Float(Foundation.pow(Double(b1), Double(t)))
        let c2 = 1 - Float(Foundation.pow(Double(b2), Double(t)))
        for p in parameters where p.trainable {
            let id = ObjectIdentifier(p)
            let wd = p.decays ? weightDecay : 0
            let count = p.value.count
            var mBuf = m[id] ?? [Float](repeating: 0, count: count)
            m[id] = nil
            var vBuf = kind == .sgd ? [] : (v[id] ?? [Float](repeating: 0, count: count))
            v[id] = nil
            let l2: Float = kind == .adamw ? 0 : wd
            let decoupled: Float = kind == .adamw ? lr * wd : 0
            let stepSize = lr / c1
            let invC2 = 1 / c2
            let kind = self.kind
            p.value.data.withUnsafeMutableBufferPointer { wb in
                p.grad.data.withUnsafeBufferPointer { gb in
                    mBuf.withUnsafeMutableBufferPointer { mb in
                        vBuf.withUnsafeMutableBufferPointer { vb in
                            let w = wb.baseAddress!, g = gb.baseAddress!, m1 = mb.baseAddress!, m2 = vb.baseAddress
                            forEachChunk(count, maxChunks: 2, work: count * 8) { _, r in
                                switch kind {
                                case .sgd:
                                    for i in r {
                                        let gi = g[i] + l2 * w[i]
                                        m1[i] = mom * m1[i] + gi
                                        w[i] -= lr * m1[i]
                                    }
                                case .adam, .adamw:
                                    adamUpdate(
                                        w: w, g: g, m: m1, v: m2!, range: r, l2: l2, b1: b1, b2: b2,
                                        decoupled: decoupled, stepSize: stepSize, invC2: invC2, eps: eps)
                                }
                            }
                        }
                    }
                }
            }
            m[id] = mBuf
            if kind != .sgd { v[id] = vBuf }
        }
    }
}

/// One Adam/AdamW update of `range` (`kdc_adam_update` in C, which vectorizes the square root and
/// division; the same IEEE operations in the same order whatever the instruction set or split).
@inline(__always)
private func adamUpdate(
    w: UnsafeMutablePointer<Float>, g: UnsafePointer<Float>, m: UnsafeMutablePointer<Float>,
    v: UnsafeMutablePointer<Float>, range: Range<Int>, l2: Float, b1: Float, b2: Float,
    decoupled: Float, stepSize: Float, invC2: Float, eps: Float
) {
    let i = range.lowerBound
    kdc_adam_update(w + i, g + i, m + i, v + i, range.count, l2, b1, b2, decoupled, stepSize, invC2, eps)
}

/// Learning rate as a function of progress through training.
public enum LRSchedule: Equatable, Codable, Sendable {
    case constant
    /// Half-cosine from the base rate to `floor`·base over all steps.
    case cosine(floor: Float)
    /// Multiply by `gamma` every `every` epochs.
    case step(every: Int, gamma: Float)

    /// The rate for `epoch` (0-based) and `fraction` ∈ [0, 1) of the way through it, with
    /// a linear warm-up over the first `warmup` epochs.
    public func rate(base: Float, epoch: Int, fraction: Double, epochs: Int, warmup: Int = 0) -> Float {
        let progress = (Double(epoch) + fraction) / Double(max(epochs, 1))
        if warmup > 0 && Double(epoch) + fraction < Double(warmup) {
            return base * Float((Double(epoch) + fraction + 1.0 / 64) / Double(warmup))
        }
        switch self {
        case .constant: return base
        case let .cosine(floor):
            let c = 0.5 * (1 + Foundation.cos(Double.pi * min(progress, 1)))
            return base * (floor + (1 - floor) * Float(c))
        case let .step(every, gamma):
            return base * Float(Foundation.pow(Double(gamma), Double(epoch / max(every, 1))))
        }
    }
}
