/// Height and width of a window or stride.
public struct Size2: Equatable, Codable, Sendable, CustomStringConvertible {
    public var h: Int
    public var w: Int
    public init(_ h: Int, _ w: Int) { self.h = h; self.w = w }
    public init(square n: Int) { self.init(n, n) }
    public var description: String { h == w ? "\(h)" : "\(h)x\(w)" }
}

/// How a window treats the border: TF's `same` (output = ceil(in / stride), zero padding split
/// with the smaller half on top/left) or `valid` (no padding, output = floor((in − k) / stride) + 1).
public enum Padding: String, Codable, Sendable, CaseIterable {
    case same, valid

    /// Output length and the padding before the first element for an input of length `n`.
    public func output(_ n: Int, kernel k: Int, stride s: Int) -> (out: Int, padBefore: Int) {
        switch self {
        case .valid:
            return (n >= k ? (n - k) / s + 1 : 0, 0)
        case .same:
            let out = (n + s - 1) / s
            let total = max((out - 1) * s + k - n, 0)
            return (out, total / 2)
        }
    }
}

/// One operation of a model graph with its hyperparameters. Shapes are per sample (no batch), NHWC.
public enum OpSpec: Equatable, Codable, Sendable {
    /// y = x·W + b, W `[in, units]`. Input of any shape is read as a flat vector.
    case dense(units: Int)
    /// 2-D convolution, weights `[kh, kw, cin, filters]` (HWIO).
    case conv2d(filters: Int, kernel: Size2, stride: Size2, padding: Padding)
    /// Depthwise convolution, weights `[kh, kw, cin·multiplier]`; output channel `c·multiplier + m` reads channel `c`.
    case depthwiseConv2d(kernel: Size2, stride: Size2, padding: Padding, multiplier: Int)
    case maxPool2d(pool: Size2, stride: Size2, padding: Padding)
    case avgPool2d(pool: Size2, stride: Size2, padding: Padding)
    /// Mean over H and W: `[H, W, C]` → `[C]`.
    case globalAvgPool
    case relu
    case relu6
    /// Batch normalization over the last (channel) axis.
    case batchNorm(epsilon: Float, momentum: Float)
    /// Inverted dropout: zeroes with probability `rate` in training, identity in inference.
    case dropout(rate: Float)
    /// `[H, W, C]` → `[H·W·C]` (NHWC order, so bytes are unchanged).
    case flatten
    /// Elementwise sum of two inputs of the same shape (residual connections).
    case add

    /// The op's name as written in configs and reports.
    public var kind: String {
        switch self {
        case .dense: return "dense"
        case .conv2d: return "conv2d"
        case .depthwiseConv2d: return "depthwise_conv2d"
        case .maxPool2d: return "max_pool2d"
        case .avgPool2d: return "avg_pool2d"
        case .globalAvgPool: return "global_avg_pool"
        case .relu: return "relu"
        case .relu6: return "relu6"
        case .batchNorm: return "batch_norm"
        case .dropout: return "dropout"
        case .flatten: return "flatten"
        case .add: return "add"
        }
    }
}

/// A node of the graph: an op, a unique name and the names of its inputs
/// (`"input"` is the graph's input). Nodes are listed in execution order.
public struct NodeSpec: Equatable, Codable, Sendable {
    public var name: String
    public var op: OpSpec
    public var inputs: [String]
    public init(name: String, op: OpSpec, inputs: [String]) {
        self.name = name; self.op = op; self.inputs = inputs
    }
}

/// A model's architecture: the per-sample input shape and the nodes in execution order.
/// The last node's output is the logits.
public struct GraphSpec: Equatable, Codable, Sendable {
    public var inputShape: [Int]
    public var nodes: [NodeSpec]
    public init(inputShape: [Int], nodes: [NodeSpec]) {
        self.inputShape = inputShape; self.nodes = nodes
    }

    /// A chain of ops, each reading the previous one; names are `<kind><index>`.
    public static func sequential(inputShape: [Int], _ ops: [OpSpec]) -> GraphSpec {
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
