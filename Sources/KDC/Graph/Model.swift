/// A float model for training: the graph IR plus one layer per node, with forward and backward
/// passes over the whole graph (fan-out gradients are summed).
public final class Model {
    /// The graph (shapes inferred when it was built; no parameters: they live in `layers`).
    public let graph: Graph
    public let layers: [Layer]
    /// For each node, the indices of its input nodes (−1 is the graph input).
    public let inputIndices: [[Int]]
    /// Whether node `i` has trainable parameters.
    let hasTrainable: [Bool]
    /// Whether node `i` or a node before it has trainable parameters (its output gradient matters).
    let learnsUpstream: [Bool]

    /// Builds and initializes a model of `graph` (a float graph in canonical numbering, as
    /// `Graph(spec:)` builds); weights come from `seed` (stream "init"), drawn node by node.
    /// Parameters the graph's nodes carry (`GraphNode.params`) replace the random ones.
    /// - Throws: `KDCError.graph` naming the node for an op training does not support.
    public init(graph: Graph, seed: UInt64) throws {
        var rng = SeededRNG(seed: seed, stream: "init")
        let producers = graph.producers
        var layers: [Layer] = []
        var inputIndices: [[Int]] = []
        for node in graph.nodes {
            let shapes = node.inputs.map { graph[$0].shape }
            let layer = try makeLayer(node, inputShapes: shapes, outputShape: graph[node.output].shape, rng: &rng)
            if let p = node.params { try layer.load(p) }
            layers.append(layer)
            inputIndices.append(node.inputs.map { producers[$0.index] ?? -1 })
        }
        self.graph = graph
        self.layers = layers
        self.inputIndices = inputIndices
        hasTrainable = layers.map { $0.parameters.contains { $0.trainable } }
        var learns = [Bool](repeating: false, count: layers.count)
        for i in layers.indices { learns[i] = hasTrainable[i] || inputIndices[i].contains { $0 >= 0 && learns[$0] } }
        learnsUpstream = learns
        // A conv2d whose only reader is a plain ReLU applies it in its own kernel, and the ReLU
        // passes its input through: relu(relu(x)) = relu(x). A max pool that is the only reader
        // of a plain ReLU applies the ReLU's gradient mask in its backward pass, and the ReLU
        // passes the gradient through. Every value stays the same; two passes less.
        var readers = [Int](repeating: 0, count: layers.count)
        for ins in inputIndices { for j in ins where j >= 0 { readers[j] += 1 } }
        for (i, ins) in inputIndices.enumerated() where ins.count == 1 && ins[0] >= 0 && readers[ins[0]] == 1 {
            let j = ins[0]
            if let relu = layers[i] as? ReLULayer, relu.cap == nil, let conv = layers[j] as? Conv2DLayer {
                conv.fusedReLU = true
                relu.inputRectified = true
            }
            if let pool = layers[i] as? MaxPool2DLayer, let relu = layers[j] as? ReLULayer, relu.cap == nil {
                pool.masksReLUGradient = true
                relu.gradientMasked = true
            }
        }
    }

    /// Builds the graph of `spec` (shape inference) and a model of it.
    public convenience init(spec: GraphSpec, seed: UInt64) throws {
        try self.init(graph: try Graph(spec: spec), seed: seed)
    }

    /// The architecture by name (what a checkpoint stores).
    public var spec: GraphSpec { graph.spec }
    /// Per-sample shape of the logits.
    public var outputShape: [Int] { graph.outputShape }
    /// Every parameter and tracked statistic, in node order.
    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }
    /// Number of trainable scalars.
    public var parameterCount: Int { parameters.filter { $0.trainable }.reduce(0) { $0 + $1.value.count } }
    /// Multiply-accumulates per inference.
    public var macs: Int { layers.reduce(0) { $0 + $1.macs } }

    /// The graph with the current parameters on its nodes (a copy: later training does not
    /// change it). The input of lowering and quantization, and of the float reference.
    public var floatGraph: Graph {
        var g = graph
        for i in g.nodes.indices { g.nodes[i].params = layers[i].floatParams }
        return g
    }

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
