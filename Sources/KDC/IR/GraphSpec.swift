/// A node as written in a config or a checkpoint: an op, a unique name and the names of its
/// inputs (`"input"` is the graph's input). Nodes are listed in execution order.
public struct NodeSpec: Equatable, Codable, Sendable {
    public var name: String
    public var op: Op
    public var inputs: [String]
    public init(name: String, op: Op, inputs: [String]) {
        self.name = name; self.op = op; self.inputs = inputs
    }
}

/// A model's architecture as written by hand (the config's `layers:`) or stored in a checkpoint
/// (`kdc.graph`): the per-sample input shape and the nodes in execution order, by name. It has
/// no shapes beyond the input's and no parameters; `Graph(spec:)` builds the graph IR from it.
/// The last node's output is the logits.
public struct GraphSpec: Equatable, Codable, Sendable {
    public var inputShape: [Int]
    public var nodes: [NodeSpec]
    public init(inputShape: [Int], nodes: [NodeSpec]) {
        self.inputShape = inputShape; self.nodes = nodes
    }

    /// A chain of ops, each reading the previous one; names are `<kind><index>`.
    public static func sequential(inputShape: [Int], _ ops: [Op]) -> GraphSpec {
        var nodes: [NodeSpec] = []
        var prev = "input"
        for (i, op) in ops.enumerated() {
            let name = "\(op.kind)\(i)"
            nodes.append(NodeSpec(name: name, op: op, inputs: [prev]))
            prev = name
        }
        return GraphSpec(inputShape: inputShape, nodes: nodes)
    }
}

extension Graph {
    /// Builds the float graph of `spec`: resolves input names to tensor ids and infers every
    /// shape once (`Op.outputShape`). Tensor 0 is the input, node i writes tensor i + 1, named
    /// after the node. No parameters yet (`Model` initializes them).
    /// - Throws: `KDCError.graph` naming the node (duplicate or unknown names, shapes that do
    ///   not fit, an empty graph).
    public init(spec: GraphSpec) throws {
        try checkShape(
            !spec.inputShape.isEmpty && spec.inputShape.allSatisfy { $0 > 0 }, "input",
            "input shape must be positive, got \(spec.inputShape)")
        try checkShape(!spec.nodes.isEmpty, "input", "the model has no layers")
        var tensors = [GraphTensor(name: "input", shape: spec.inputShape)]
        var ids: [String: TensorID] = ["input": TensorID(0)]
        var nodes: [GraphNode] = []
        for n in spec.nodes {
            try checkShape(ids[n.name] == nil, n.name, "duplicate layer name '\(n.name)'")
            var inputs: [TensorID] = []
            for name in n.inputs {
                guard let id = ids[name] else {
                    throw KDCError.graph(layer: n.name, message: "input '\(name)' is not an earlier layer (or 'input')")
                }
                inputs.append(id)
            }
            let shape = try n.op.outputShape(inputs.map { tensors[$0.index].shape }, layer: n.name)
            let out = TensorID(tensors.count)
            tensors.append(GraphTensor(name: n.name, shape: shape))
            ids[n.name] = out
            nodes.append(GraphNode(name: n.name, op: n.op, inputs: inputs, output: out))
        }
        self.init(tensors: tensors, nodes: nodes, input: TensorID(0), output: nodes[nodes.count - 1].output)
    }

    /// The architecture by name (what a checkpoint stores): each node's inputs named after the
    /// nodes that write them ("input" for the graph input).
    public var spec: GraphSpec {
        let producers = self.producers
        func name(_ t: TensorID) -> String { producers[t.index].map { nodes[$0].name } ?? "input" }
        return GraphSpec(
            inputShape: inputShape, nodes: nodes.map { NodeSpec(name: $0.name, op: $0.op, inputs: $0.inputs.map(name)) })
    }
}
