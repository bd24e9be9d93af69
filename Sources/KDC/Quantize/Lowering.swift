/// A clamp fused into an op's output.
enum FusedActivation: Equatable, Sendable {
    case none, relu, relu6

    var bounds: (Float, Float) {
        switch self {
        case .none: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case .relu6: return (0, 6)
        }
    }
}

/// One op of the float graph after the rewrites, in the quantized graph's op vocabulary,
/// still with float parameters in the float layouts.
struct LoweredOp {
    var kind: QuantizedGraph.OpKind
    /// The float node this op came from; also the name of its output tensor.
    var name: String
    /// Input tensor names ("input" or an earlier op's name).
    var inputs: [String]
    var inputShape: [Int]
    var outputShape: [Int]
    var kernel = Size2(1, 1)
    var stride = Size2(1, 1)
    var padding = Padding.valid
    var multiplier = 1
    /// dense [in, out]; conv2d HWIO; depthwise [kh, kw, cin·mult]. Empty otherwise.
    var weight: [Float] = []
    var bias: [Float] = []
    var activation = FusedActivation.none
}

/// The rewritten float graph: batch norm folded, dropout removed, ReLU/ReLU6 fused into the
/// preceding conv/depthwise/dense/add as a clamp (standalone ones become CLAMP), flatten → RESHAPE.
struct LoweredGraph {
    var inputShape: [Int]
    var ops: [LoweredOp]
    var output: String

    init(_ graph: FloatGraph) throws {
        let g = try graph.foldingBatchNorm()
        inputShape = g.spec.inputShape
        var readers: [String: Int] = [:]
        for n in g.spec.nodes { for i in n.inputs { readers[i, default: 0] += 1 } }
        var ops: [LoweredOp] = []
        var index: [String: Int] = [:]  // op name → position in `ops`
        var rename: [String: String] = [:]  // fused activation node → producer
        for node in g.spec.nodes {
            let ins = node.inputs.map { rename[$0] ?? $0 }
            let inShape = g.shapes[node.inputs[0]]!
            let outShape = g.shapes[node.name]!
            var op = LoweredOp(kind: .reshape, name: node.name, inputs: ins, inputShape: inShape, outputShape: outShape)
            let p = { (role: String) in g.params["\(node.name).\(role)"]!.data }
            switch node.op {
            case .dense:
                op.kind = .fullyConnected; op.weight = p("weight"); op.bias = p("bias")
            case let .conv2d(_, k, s, pad):
                op.kind = .conv2d; op.kernel = k; op.stride = s; op.padding = pad
                op.weight = p("weight"); op.bias = p("bias")
            case let .depthwiseConv2d(k, s, pad, m):
                op.kind = .depthwiseConv2d; op.kernel = k; op.stride = s; op.padding = pad; op.multiplier = m
                op.weight = p("weight"); op.bias = p("bias")
            case let .maxPool2d(k, s, pad):
                op.kind = .maxPool2d; op.kernel = k; op.stride = s; op.padding = pad
            case let .avgPool2d(k, s, pad):
                op.kind = .averagePool2d; op.kernel = k; op.stride = s; op.padding = pad
            case .globalAvgPool: op.kind = .globalAveragePool
            case .add: op.kind = .add
            case .flatten: op.kind = .reshape
            case .relu, .relu6:
                let act: FusedActivation = node.op == .relu ? .relu : .relu6
                let src = ins[0]
                // Fuse when the producer can clamp, has no fused clamp yet and nobody else reads it.
                if let j = index[src], [.fullyConnected, .conv2d, .depthwiseConv2d, .add].contains(ops[j].kind),
                    ops[j].activation == .none, readers[node.inputs[0]] == 1
                {
                    ops[j].activation = act
                    rename[node.name] = src
                    continue
                }
                op.kind = .clamp; op.activation = act
            case .batchNorm, .dropout:
                throw KDCError.graph(layer: node.name, message: "\(node.op.kind) left after folding (internal error)")
            }
            index[node.name] = ops.count
            ops.append(op)
        }
        self.ops = ops
        let last = g.outputName
        output = rename[last] ?? last
    }

    /// Float inference on one sample with the rewritten graph: every op's output by name, plus "input".
    func run(_ x: [Float]) -> [String: [Float]] {
        var v: [String: [Float]] = ["input": x]
        for op in ops {
            v[op.name] = LoweredGraph.evaluate(op, v[op.inputs[0]]!, op.inputs.count > 1 ? v[op.inputs[1]]! : [])
        }
        return v
    }

    /// One op in float (the activation clamp included).
    static func evaluate(_ op: LoweredOp, _ a: [Float], _ b: [Float]) -> [Float] {
        let s = op.inputShape
        var y: [Float]
        switch op.kind {
        case .fullyConnected: y = FloatKernels.dense(a, op.weight, op.bias, outCount: op.outputShape[0])
        case .conv2d:
            y = FloatKernels.conv2d(
                a, s, op.weight, op.bias, cout: op.outputShape[2], kernel: op.kernel,
                stride: op.stride, padding: op.padding)
        case .depthwiseConv2d:
            y = FloatKernels.depthwise(
                a, s, op.weight, op.bias, multiplier: op.multiplier, kernel: op.kernel,
                stride: op.stride, padding: op.padding)
        case .maxPool2d: y = FloatKernels.pool(a, s, isMax: true, pool: op.kernel, stride: op.stride, padding: op.padding)
        case .averagePool2d: y = FloatKernels.pool(a, s, isMax: false, pool: op.kernel, stride: op.stride, padding: op.padding)
        case .globalAveragePool: y = FloatKernels.globalAvgPool(a, s)
        case .add: y = zip(a, b).map { $0 + $1 }
        case .reshape, .clamp: y = a
        }
        let (lo, hi) = op.activation.bounds
        if op.activation != .none { y = FloatKernels.clamp(y, lo, hi) }
        return y
    }
}
