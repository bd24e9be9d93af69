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
    case let .conv2d(filters, kernel, stride, padding):
        return try Conv2DLayer(
            name: name, inputShape: shape, filters: filters, kernel: kernel, stride: stride,
            padding: padding, rng: &rng)
    case let .depthwiseConv2d(kernel, stride, padding, multiplier):
        return try DepthwiseConv2DLayer(
            name: name, inputShape: shape, kernel: kernel, stride: stride,
            padding: padding, multiplier: multiplier, rng: &rng)
    case let .maxPool2d(pool, stride, padding):
        return try MaxPool2DLayer(name: name, inputShape: shape, pool: pool, stride: stride, padding: padding)
    case let .avgPool2d(pool, stride, padding):
        return try AvgPool2DLayer(name: name, inputShape: shape, pool: pool, stride: stride, padding: padding)
    case .globalAvgPool:
        return try GlobalAvgPoolLayer(name: name, inputShape: shape)
    case let .batchNorm(epsilon, momentum):
        return try BatchNormLayer(name: name, inputShape: shape, epsilon: epsilon, momentum: momentum)
    case let .dropout(rate):
        return try DropoutLayer(name: name, inputShape: shape, rate: rate)
    case .add:
        return try AddLayer(name: name, inputShapes: inputShapes)
    }
}
