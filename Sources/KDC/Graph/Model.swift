/// A float model: the graph spec plus one layer per node, with forward and backward passes
/// over the whole graph (fan-out gradients are summed).
public final class Model {
    public let spec: GraphSpec
    public let layers: [Layer]
    /// For each node, the indices of its input nodes (−1 is the graph input).
    public let inputIndices: [[Int]]
    /// Whether node `i` has trainable parameters.
    let hasTrainable: [Bool]
    /// Whether node `i` or a node before it has trainable parameters (its output gradient matters).
    let learnsUpstream: [Bool]

    /// Builds and initializes a model; weights come from `seed` (stream "init").
    public init(spec: GraphSpec, seed: UInt64) throws {
        self.spec = spec
        var rng = SeededRNG(seed: seed, stream: "init")
        var index: [String: Int] = ["input": -1]
        var shapes: [[Int]] = []
        var layers: [Layer] = []
        var inputIndices: [[Int]] = []
        try checkShape(
            !spec.inputShape.isEmpty && spec.inputShape.allSatisfy { $0 > 0 }, "input",
            "input shape must be positive, got \(spec.inputShape)")
        try checkShape(!spec.nodes.isEmpty, "input", "the model has no layers")
        for node in spec.nodes {
            try checkShape(index[node.name] == nil, node.name, "duplicate layer name '\(node.name)'")
            var ins: [Int] = []
            for i in node.inputs {
                guard let j = index[i] else {
                    throw KDCError.graph(layer: node.name, message: "input '\(i)' is not an earlier layer (or 'input')")
                }
                ins.append(j)
            }
            let inShapes = ins.map { $0 < 0 ? spec.inputShape : shapes[$0] }
            let layer = try makeLayer(node, inputShapes: inShapes, rng: &rng)
            try checkShape(
                layer.outputShape.allSatisfy { $0 > 0 }, node.name,
                "output shape \(layer.outputShape) is empty (input \(inShapes.map { "\($0)" }.joined(separator: ", ")) is too small)"
            )
            index[node.name] = layers.count
            layers.append(layer)
            shapes.append(layer.outputShape)
            inputIndices.append(ins)
        }
        self.layers = layers
        self.inputIndices = inputIndices
        hasTrainable = layers.map { $0.parameters.contains { $0.trainable } }
        var learns = [Bool](repeating: false, count: layers.count)
        for i in layers.indices { learns[i] = hasTrainable[i] || inputIndices[i].contains { $0 >= 0 && learns[$0] } }
        learnsUpstream = learns
    }

    /// Per-sample shape of the logits.
    public var outputShape: [Int] { layers.last!.outputShape }
    /// Every parameter and tracked statistic, in node order.
    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }
    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.filter { $0.trainable }.reduce(0) { $0 + $1.value.count } }
    /// Multiply-accumulates per inference.
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }

    /// Runs the graph on a batch `[N] + inputShape` and returns the logits `[N] + outputShape`.
    public func forward(_ x: Tensor, context: inout PassContext) -> Tensor {
        var outputs = [Tensor?](repeating: nil, count: layers.count)
        // How many later nodes still read each output, so memory is freed early.
        var readers = [Int](repeating: 0, count: layers.count)
        for ins in inputIndices { for j in ins where j >= 0 { readers[j] += 1 } }
        for (i, layer) in layers.enumerated() {
            let ins = inputIndices[i].map { $0 < 0 ? x : outputs[$0]! }
            outputs[i] = layer.forward(ins, context: &context)
            for j in inputIndices[i] where j >= 0 {
                readers[j] -= 1
                if readers[j] == 0 && j != layers.count - 1 { outputs[j] = nil }
            }
        }
        return outputs[layers.count - 1]!
    }

    /// Inference on a batch (no dropout, batch-norm running statistics).
    public func predict(_ x: Tensor) -> Tensor {
        var ctx = PassContext(training: false)
        return forward(x, context: &ctx)
    }

    /// Backpropagates `gradOutput` (dLoss/dLogits) through the graph after a training-mode
    /// `forward`, accumulating parameter gradients. Returns dLoss/dInput when `inputGradient`
    /// (else nil, and layers skip the input gradients nothing upstream needs: the first dense or
    /// conv layer does one matrix product less). `afterNode(i)` runs once node `i`'s backward
    /// has returned, when its parameter gradients are complete and nothing later in the pass
    /// reads its parameters (the trainer updates them there, while they are still in cache).
    @discardableResult
    public func backward(
        _ gradOutput: Tensor, inputGradient: Bool = true,
        afterNode: ((Int) -> Void)? = nil
    ) -> Tensor? {
        var grads = [Tensor?](repeating: nil, count: layers.count)
        grads[layers.count - 1] = gradOutput
        var inputGrad: Tensor?
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            guard let g = grads[i] else { continue }
            grads[i] = nil
            // An input's gradient is needed when something before it learns, or for dLoss/dInput.
            let wanted = inputGradient || inputIndices[i].contains { $0 >= 0 && learnsUpstream[$0] }
            if !wanted && !hasTrainable[i] { continue }
            let gin = layers[i].backward(g, inputGradients: wanted)
            afterNode?(i)
            guard wanted else { continue }
            for (k, j) in inputIndices[i].enumerated() {
                if j < 0 {
                    guard inputGradient else { continue }  // (a layer with other inputs computed it)
                    if inputGrad == nil { inputGrad = gin[k] } else { inputGrad!.add(gin[k]) }
                } else if !inputGradient && !learnsUpstream[j] {
                    continue
                } else if grads[j] == nil {
                    grads[j] = gin[k]
                } else {
                    grads[j]!.add(gin[k])
                }
            }
        }
        return inputGrad
    }

    public func zeroGrad() { for p in parameters { p.zeroGrad() } }
}
