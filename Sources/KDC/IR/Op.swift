/// Height and width of a window or stride.
public struct Size2: Equatable, Hashable, Codable, Sendable, CustomStringConvertible {
    public var h: Int
    public var w: Int
    public init(_ h: Int, _ w: Int) { self.h = h; self.w = w }
    public init(square n: Int) { self.init(n, n) }
    public var description: String { h == w ? "\(h)" : "\(h)x\(w)" }
}

/// How a window treats the border.
///
/// - `same`: TF's SAME, output = ceil(in / stride), the zero padding split with the smaller half
///   on top/left.
/// - `valid`: no padding, output = floor((in − k) / stride) + 1.
/// - `explicit(top:left:)`: padding before the first row and column as stored in a device
///   artifact; the output size is not implied by it (a reader takes it from the tensor table),
///   so shape inference refuses it.
///
/// Taps outside the input contribute nothing (convolutions: a zero; pools: not counted).
/// Encoded as `"same"` / `"valid"` (configs, checkpoints) or `{"explicit": {"top": t, "left": l}}`.
public enum Padding: Equatable, Hashable, Sendable, CustomStringConvertible {
    case same, valid
    case explicit(top: Int, left: Int)

    /// The modes a config can name.
    public static let named: [String: Padding] = ["same": .same, "valid": .valid]

    /// Output length and the padding before the first element for an input of length `n`
    /// (`same` and `valid`; `explicit` gives its own padding and an output of 0: unknown).
    public func output(_ n: Int, kernel k: Int, stride s: Int) -> (out: Int, padBefore: Int) {
        switch self {
        case .valid:
            return (n >= k ? (n - k) / s + 1 : 0, 0)
        case .same:
            let out = (n + s - 1) / s
            let total = max((out - 1) * s + k - n, 0)
            return (out, total / 2)
        case .explicit:
            return (0, 0)
        }
    }

    public var description: String {
        switch self {
        case .same: return "same"
        case .valid: return "valid"
        case let .explicit(t, l): return "explicit(top \(t), left \(l))"
        }
    }
}

extension Padding: Codable {
    private enum Keys: String, CodingKey { case explicit }
    private struct Pads: Codable { var top: Int, left: Int }

    public init(from decoder: Decoder) throws {
        if let c = try? decoder.singleValueContainer(), let s = try? c.decode(String.self) {
            guard let p = Padding.named[s] else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "padding '\(s)' is not same or valid")
            }
            self = p
            return
        }
        let c = try decoder.container(keyedBy: Keys.self)
        let p = try c.decode(Pads.self, forKey: .explicit)
        self = .explicit(top: p.top, left: p.left)
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .same, .valid:
            var c = encoder.singleValueContainer()
            try c.encode(description)
        case let .explicit(t, l):
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(Pads(top: t, left: l), forKey: .explicit)
        }
    }
}

/// A clamp fused into an op's output (ReLU or ReLU6 folded into the op that feeds it).
public enum Activation: String, Equatable, Codable, Sendable {
    case none, relu, relu6

    /// The float bounds of the clamp.
    public var bounds: (Float, Float) {
        switch self {
        case .none: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case .relu6: return (0, 6)
        }
    }
}

/// One operation of the graph IR with its typed hyperparameters. Shapes are per sample (no
/// batch), NHWC. The same vocabulary serves every stage: configs and training use the ops down
/// to `add`; lowering (`Graph.lowered()`) removes `batchNorm` and `dropout`, fuses `relu`/`relu6`
/// into the op before them (`GraphNode.activation`) or turns a standalone one into `clamp`, and turns
/// `flatten` into `reshape`; the int8 graph and a read-back artifact use only the ops with a
/// device op code (`DeviceOp`).
public enum Op: Equatable, Codable, Sendable {
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
    /// Same values, the output tensor's shape (lowered `flatten`, or read from an artifact).
    case reshape
    /// Identity followed by the node's activation clamp (a ReLU/ReLU6 that could not be fused).
    case clamp
    /// y = x for x ≥ 0, α·x below (0 ≤ α < 1). A standalone op at every stage (never fused): its
    /// int8 form rescales with two fixed-point multipliers, s_x/s_y and α·s_x/s_y.
    case leakyRelu(alpha: Float)
    /// softmax(β·x) over the last axis (β > 0). Imported from TensorFlow Lite models: no training
    /// layer and no kdc quantization; its int8 form is TFLite's (docs/QUANTIZATION.md §8.4), with
    /// output scale 1/256 and zero point −128.
    case softmax(beta: Float)

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
        case .reshape: return "reshape"
        case .clamp: return "clamp"
        case .leakyRelu: return "leaky_relu"
        case .softmax: return "softmax"
        }
    }

    /// Number of inputs the op reads.
    public var arity: Int { self == .add ? 2 : 1 }

    /// The window of a windowed op (convolutions and pools).
    public var window: (kernel: Size2, stride: Size2, padding: Padding)? {
        switch self {
        case let .conv2d(_, k, s, p), let .depthwiseConv2d(k, s, p, _), let .maxPool2d(k, s, p), let .avgPool2d(k, s, p):
            return (k, s, p)
        default: return nil
        }
    }

    /// Ops whose output, once quantized, keeps the input's scale and zero point (they only
    /// select, average or move values).
    public var keepsQuantization: Bool {
        switch self {
        case .maxPool2d, .avgPool2d, .globalAvgPool, .reshape, .clamp, .flatten, .dropout: return true
        default: return false
        }
    }

    /// Ops with weights and a bias (`FloatParams.affine`, `Int8Weights`).
    public var hasWeights: Bool {
        switch self {
        case .dense, .conv2d, .depthwiseConv2d: return true
        default: return false
        }
    }

    /// Ops a fused activation can be folded into (they requantize their output).
    public var fusesActivation: Bool {
        switch self {
        case .dense, .conv2d, .depthwiseConv2d, .add: return true
        default: return false
        }
    }
}
