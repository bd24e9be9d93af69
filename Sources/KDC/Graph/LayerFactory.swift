/// Builds the training layer of one node of a float graph, given its input and (inferred)
/// output shapes. Weights are drawn from `rng` in node order.
/// - Throws: `KDCError.graph` naming the node for an op with no training layer (`reshape`,
///   `clamp`, explicit padding: graphs read back from a device artifact).
func makeLayer(_ node: GraphNode, inputShapes: [[Int]], outputShape: [Int], rng: inout SeededRNG) throws -> Layer {
    let name = node.name
    try checkShape(
        node.activation == .none, name,
        "a fused \(node.activation.rawValue) cannot be trained; hint: train the graph before lowering")
    let shape = inputShapes[0]
    let layer: Layer
    switch node.op {
    case let .dense(units):
        layer = try DenseLayer(name: name, inputShape: shape, units: units, rng: &rng)
    case .relu:
        layer = ReLULayer(name: name, inputShape: shape)
    case .relu6:
        layer = ReLULayer(name: name, inputShape: shape, cap: 6)
    case let .leakyRelu(alpha):
        layer = LeakyReLULayer(name: name, inputShape: shape, alpha: alpha)
    case .softmax:
        throw KDCError.graph(
            layer: name, message: "softmax has no training layer; hint: the loss applies softmax to the logits itself")
    case .flatten:
        layer = FlattenLayer(name: name, inputShape: shape)
    case let .conv2d(filters, kernel, stride, padding):
        layer = try Conv2DLayer(
            name: name, inputShape: shape, filters: filters, kernel: kernel, stride: stride,
            padding: padding, rng: &rng)
    case let .depthwiseConv2d(kernel, stride, padding, multiplier):
        layer = try DepthwiseConv2DLayer(
            name: name, inputShape: shape, kernel: kernel, stride: stride,
            padding: padding, multiplier: multiplier, rng: &rng)
    case let .maxPool2d(pool, stride, padding):
        layer = try MaxPool2DLayer(name: name, inputShape: shape, pool: pool, stride: stride, padding: padding)
    case let .avgPool2d(pool, stride, padding):
        layer = try AvgPool2DLayer(name: name, inputShape: shape, pool: pool, stride: stride, padding: padding)
    case .globalAvgPool:
        layer = try GlobalAvgPoolLayer(name: name, inputShape: shape)
    case let .batchNorm(epsilon, momentum):
        layer = try BatchNormLayer(name: name, inputShape: shape, epsilon: epsilon, momentum: momentum)
    case let .dropout(rate):
        layer = try DropoutLayer(name: name, inputShape: shape, rate: rate)
    case .add:
        layer = try AddLayer(name: name, inputShapes: inputShapes)
    case .reshape, .clamp:
        throw KDCError.graph(
            layer: name,
            message: "\(node.op.kind) has no training layer (a lowered or read-back graph); hint: train from a config")
    }
    // The layer's own geometry must agree with the graph's shape inference.
    try checkShape(
        layer.outputShape == outputShape, name, "the layer computes output \(layer.outputShape), the graph says \(outputShape)")
    return layer
}
