import Foundation

/// A float model kdc did not train, used as the teacher: a float32 `.tflite` imported by
/// `TFLiteFloatImporter` (`teacher: {tflite: PATH}`) and evaluated by `Graph.runFloat` (Double
/// accumulation), one sample at a time, the samples of a batch in parallel.
///
/// It sees the inputs exactly as the student does: kdc's samples after `data.normalize`. A model
/// ending in SOFTMAX gives probabilities; its logits are then log max(p, 1e-30), as for a logits
/// file holding probabilities (`logitsFromProbabilities`), which softmax turns back into the
/// same distribution.
public struct GraphTeacher: Sendable {
    /// The float graph (`FloatParams` on its weighted nodes).
    public let graph: Graph
    /// Where it came from, for messages.
    public let file: String

    public init(graph: Graph, file: String) {
        self.graph = graph
        self.file = file
    }

    /// Imports the float `.tflite` at `path` and checks it against the data: its input shape
    /// must be `sampleShape` and it must give `classes` outputs.
    /// - Throws: `KDCError.format` naming the file (unreadable or unsupported model, or a shape
    ///   that does not fit the data).
    public static func load(tflite path: String, sampleShape: [Int], classes: Int) throws -> GraphTeacher {
        let g = try TFLiteFloatImporter.importFile(path)
        guard g.inputShape == sampleShape else {
            throw KDCError.format(
                file: path,
                message:
                    "the model takes inputs of shape \(g.inputShape) (per sample), the data's samples are \(sampleShape); "
                    + "hint: set data.shape to the model's input shape, or give a teacher made for this data")
        }
        guard g[g.output].count == classes else {
            throw KDCError.format(
                file: path, message: "the model gives \(g[g.output].count) outputs, the data has \(classes) classes")
        }
        return GraphTeacher(graph: g, file: path)
    }

    /// True when the last node is a softmax: the outputs are probabilities.
    public var givesProbabilities: Bool {
        if case .softmax = graph.nodes.last?.op { return true }
        return false
    }

    /// Parameters (weights and biases) and multiply-accumulates per inference.
    public var parameterCount: Int {
        graph.nodes.reduce(0) { n, node in
            if case let .affine(w, b) = node.params { return n + w.count + b.count }
            return n
        }
    }

    /// The model's outputs on the rows of `x` (`[N, sample shape…]` → `[N, K]`), as it computes
    /// them (probabilities for a model ending in SOFTMAX).
    public func outputs(_ x: Tensor) -> Tensor {
        let n = x.shape[0], size = graph[graph.input].count, k = graph[graph.output].count
        precondition(x.count == n * size, "GraphTeacher: batch of \(x.shape) for samples of \(graph.inputShape)")
        var out = [Float](repeating: 0, count: n * k)
        let g = graph
        out.withUnsafeMutableBufferPointer { dst in
            nonisolated(unsafe) let d = dst
            x.data.withUnsafeBufferPointer { src in
                nonisolated(unsafe) let s = src
                DispatchQueue.concurrentPerform(iterations: n) { r in
                    let y = g.predictFloat(Array(s[(r * size)..<((r + 1) * size)]))
                    for j in 0..<k { d[r * k + j] = y[j] }
                }
            }
        }
        return Tensor(shape: [n, k], data: out)
    }

    /// Logits on the rows of `x`: the outputs, or log max(p, 1e-30) of probabilities.
    public func logits(_ x: Tensor) -> Tensor {
        var t = outputs(x)
        if givesProbabilities { t.data = t.data.map { Foundation.log(max($0, 1e-30)) } }
        return t
    }

    /// Logits on every sample of `data`, in order, in batches of `batchSize`.
    public func logits(on data: Dataset, batchSize: Int = 256) -> Tensor {
        let k = graph[graph.output].count
        var out = Tensor(shape: [data.count, k])
        let all = Array(0..<data.count)
        var start = 0
        while start < data.count {
            let end = min(start + batchSize, data.count)
            out.data.replaceSubrange((start * k)..<(end * k), with: logits(data.batch(all[start..<end])).data)
            start = end
        }
        return out
    }
}
