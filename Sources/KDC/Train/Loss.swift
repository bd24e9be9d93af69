import Foundation

/// Row-wise softmax of `[N, K]` logits divided by `temperature`, computed stably
/// (the row maximum is subtracted before exponentiating).
public func softmax(_ logits: Tensor, temperature: Float = 1) -> Tensor {
    let k = logits.shape.last!
    let n = logits.count / k
    var p = logits
    let invT = 1 / temperature
    p.data.withUnsafeMutableBufferPointer { d in
        for r in 0..<n {
            let row = d.baseAddress! + r * k
            var mx = -Float.infinity
            for j in 0..<k { mx = max(mx, row[j]) }
            var sum: Float = 0
            for j in 0..<k {
                let e = Foundation.exp((row[j] - mx) * invT)
                row[j] = e
                sum += e
            }
            let inv = 1 / sum
            for j in 0..<k { row[j] *= inv }
        }
    }
    return p
}

/// Mean softmax cross-entropy of `[N, K]` logits against integer labels, and its gradient
/// with respect to the logits: (softmax − onehot) / N.
public func softmaxCrossEntropy(_ logits: Tensor, labels: ArraySlice<Int32>) -> (loss: Float, grad: Tensor) {
    let k = logits.shape.last!
    let n = logits.count / k
    var g = softmax(logits)
    var loss: Double = 0
    let invN = 1 / Float(n)
    g.data.withUnsafeMutableBufferPointer { d in
        for (r, label) in labels.enumerated() {
            let y = Int(label)
            loss -= Double(Foundation.log(max(d[r * k + y], 1e-30)))
            d[r * k + y] -= 1
        }
        for i in 0..<d.count { d[i] *= invN }
    }
    return (Float(loss / Double(n)), g)
}
