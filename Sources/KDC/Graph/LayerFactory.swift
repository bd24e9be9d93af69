/// Builds the layer for one node, given its per-sample input shapes.
/// Throws `KDCError.graph` naming the node when the op does not fit its inputs.
func makeLayer(_ node: NodeSpec, inputShapes: [[Int]], rng: inout SeededRNG) throws -> Layer {
    let name = node.name
    let want = node.op == .add ? 2 : 1
    try checkShape(inputShapes.count == want, name, "\(node.op.kind) takes \(want) input(s), got \(inputShapes.count)")
    let shape = inputShapes[0]
    switch node.op {
    case let .dense(units):
        return try DenseLayer(name: name, inputShape: shape, units: units, rng: &rng)
    case .relu:
        return ReLULayer(name: name, inputShape: shape)
    case .relu6:
        return ReLULayer(name: name, inputShape: shape, cap: 6)
    case .flatten:
        return FlattenLayer(name: name, inputShape: shape)
    default:
        throw KDCError.graph(layer: name, message: "op \(node.op.kind) is not implemented yet")
    }
}
