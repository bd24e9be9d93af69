/// The one model representation of kdc, from a config (or an artifact read back) to the device.
///
/// A `Graph` is a list of tensors (id = index) and a list of nodes in execution order, each node
/// an `Op` with typed hyperparameters reading tensors by id and writing one. Shapes are per
/// sample (NHWC, no batch) and are inferred once, when the graph is built (`Graph(spec:)`);
/// later stages transform a graph into another graph:
///
/// ```
/// GraphSpec (config / checkpoint) ─► Graph (float32) ─► Model (training) ─► Graph with FloatParams
///   ─► lowered() (batch norm folded, activations fused) ─► quantize() (int8: QuantParams, Int8Params)
///   ─► ArtifactWriter (bytes) ─► ArtifactReader ─► Graph (int8, read back)
/// ```
///
/// Canonical numbering: tensor 0 is the graph input and node i writes tensor i + 1. Every
/// builder and transform in kdc produces it; the artifact format requires it (docs/FORMAT.md).
/// The int8 arithmetic a graph follows.
public enum Arithmetic: String, Equatable, Sendable, Codable {
    /// kdc's own: one rounding, half away from zero (docs/QUANTIZATION.md §4).
    case kdc
    /// TensorFlow Lite's reference kernels, as LiteRT's `BUILTIN_REF` resolver computes them.
    case tflite
}

public struct Graph: Equatable, Sendable {
    public var tensors: [GraphTensor]
    /// Nodes in execution order; each node's inputs are the graph input or earlier outputs.
    public var nodes: [GraphNode]
    public var input: TensorID
    /// The logits.
    public var output: TensorID
    /// Which int8 arithmetic the graph's integer ops follow (docs/QUANTIZATION.md): kdc's own
    /// (one rounding, half away from zero) or TensorFlow Lite's reference kernels (imported models).
    public var arithmetic: Arithmetic = .kdc
    /// The model takes float32 input (a QUANTIZE at its input edge, as in an imported float-in
    /// model): callers quantize with the input tensor's scale and zero point.
    public var floatInput = false
    /// The model gives float32 output (a DEQUANTIZE at its output edge): callers dequantize with
    /// the output tensor's scale and zero point.
    public var floatOutput = false
    /// What turns the device's raw signal into the int8 input (audio front end, sensor
    /// normalization), or nil: the caller fills the input tensor itself.
    public var inputStage: InputStage?

    public init(tensors: [GraphTensor], nodes: [GraphNode], input: TensorID, output: TensorID) {
        self.tensors = tensors; self.nodes = nodes; self.input = input; self.output = output
    }

    public subscript(_ id: TensorID) -> GraphTensor {
        get { tensors[id.index] }
        set { tensors[id.index] = newValue }
    }

    /// The per-sample input shape.
    public var inputShape: [Int] { self[input].shape }
    /// The per-sample output (logits) shape.
    public var outputShape: [Int] { self[output].shape }

    /// For each tensor, the index of the node that writes it (nil for the graph input and for
    /// tensors no node writes).
    public var producers: [Int?] {
        var p = [Int?](repeating: nil, count: tensors.count)
        for (i, n) in nodes.enumerated() { p[n.output.index] = i }
        return p
    }

    /// Number of nodes reading each tensor.
    public var readerCounts: [Int] {
        var r = [Int](repeating: 0, count: tensors.count)
        for n in nodes { for t in n.inputs { r[t.index] += 1 } }
        return r
    }

    /// Multiply-accumulates per inference (dense: in·out; conv: out elements·kh·kw·cin;
    /// depthwise: out elements·kh·kw; others 0).
    public var macs: Int { nodes.reduce(0) { $0 + macs(of: $1) } }

    /// Multiply-accumulates of one node.
    public func macs(of n: GraphNode) -> Int {
        let x = self[n.inputs[0]].shape, y = self[n.output].shape
        let outCount = y.reduce(1, *)
        switch n.op {
        case .dense: return outCount * x.reduce(1, *)
        case let .conv2d(_, k, _, _): return outCount * k.h * k.w * (x.last ?? 1)
        case let .depthwiseConv2d(k, _, _, _): return outCount * k.h * k.w
        default: return 0
        }
    }

    /// The window geometry of windowed node `n` (its input and output shapes come from the graph).
    public func window(of n: GraphNode) -> WindowGeometry? {
        guard let w = n.op.window else { return nil }
        let x = self[n.inputs[0]].shape, y = self[n.output].shape
        guard x.count == 3, y.count == 3 else { return nil }
        let (top, left): (Int, Int)
        if case let .explicit(t, l) = w.padding {
            (top, left) = (t, l)
        } else {
            top = w.padding.output(x[0], kernel: w.kernel.h, stride: w.stride.h).padBefore
            left = w.padding.output(x[1], kernel: w.kernel.w, stride: w.stride.w).padBefore
        }
        return WindowGeometry(
            h: x[0], w: x[1], c: x[2], kh: w.kernel.h, kw: w.kernel.w, sh: w.stride.h, sw: w.stride.w,
            oh: y[0], ow: y[1], padTop: top, padLeft: left)
    }
}

/// A tensor id: the index into `Graph.tensors`.
public struct TensorID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var index: Int
    public init(_ index: Int) { self.index = index }
    public static func < (a: TensorID, b: TensorID) -> Bool { a.index < b.index }
    public var description: String { "t\(index)" }
}

/// Element type of a tensor.
public enum ElementType: String, Codable, Sendable {
    case float32, int8
}

/// Asymmetric int8 quantization of an activation tensor: real = scale·(q − zeroPoint).
public struct QuantParams: Equatable, Sendable {
    /// Quantization step, > 0.
    public var scale: Float
    /// In [−128, 127].
    public var zeroPoint: Int32
    /// The calibrated float range (min ≤ 0 ≤ max) the parameters were derived from; for tensors
    /// that inherit their input's parameters it is the input's range. nil when unknown (read
    /// back from an artifact).
    public var calibratedRange: ClosedRange<Float>?

    public init(scale: Float, zeroPoint: Int32, calibratedRange: ClosedRange<Float>? = nil) {
        self.scale = scale; self.zeroPoint = zeroPoint; self.calibratedRange = calibratedRange
    }
}

/// One tensor of a graph.
public struct GraphTensor: Equatable, Sendable {
    /// The node whose output this is (after lowering, the conv/dense a batch norm or an activation
    /// was folded into), "input" for the graph input, `t<id>` when read back from an artifact.
    public var name: String
    /// Per-sample shape, NHWC: `[H, W, C]` or `[C]`.
    public var shape: [Int]
    public var type: ElementType
    /// Set on int8 tensors.
    public var quant: QuantParams?

    public init(name: String, shape: [Int], type: ElementType = .float32, quant: QuantParams? = nil) {
        self.name = name; self.shape = shape; self.type = type; self.quant = quant
    }

    /// Element count.
    public var count: Int { shape.reduce(1, *) }
}

/// One node: an op reading tensors and writing one, with its parameters for the stage the graph
/// is at (float, int8, or none for parameterless ops).
public struct GraphNode: Equatable, Sendable {
    /// Unique within the graph (the config's layer name; the checkpoint key prefix).
    public var name: String
    public var op: Op
    /// Tensor ids read: one, or two for `add`.
    public var inputs: [TensorID]
    public var output: TensorID
    /// A clamp applied to the output (fused ReLU/ReLU6; `clamp` nodes carry theirs here).
    public var activation: Activation
    /// Float parameters (dense/conv/depthwise: `affine`; batch norm: `batchNorm`).
    public var params: FloatParams?
    /// Int8 parameters, once quantized.
    public var int8: Int8Params?

    public init(
        name: String, op: Op, inputs: [TensorID], output: TensorID, activation: Activation = .none,
        params: FloatParams? = nil, int8: Int8Params? = nil
    ) {
        self.name = name; self.op = op; self.inputs = inputs; self.output = output
        self.activation = activation; self.params = params; self.int8 = int8
    }
}

/// The float parameters of a node, typed by role.
public enum FloatParams: Equatable, Sendable {
    /// Dense: weight `[in, out]`; conv2d: HWIO `[kh, kw, cin, cout]`; depthwise `[kh, kw, cin·mult]`.
    /// Every layout has the output channel last. Bias `[out]`.
    case affine(weight: Tensor, bias: Tensor)
    /// Batch norm per channel: y = γ·(x − mean)/√(var + ε) + β.
    case batchNorm(gamma: Tensor, beta: Tensor, mean: Tensor, variance: Tensor)
}

/// Int8 weights of a dense, conv2d or depthwise node, in the device layouts.
public struct Int8Weights: Equatable, Sendable {
    /// Symmetric int8 in [−127, 127] (zero point 0): dense `[N][K]`; conv2d `[Cout][KH][KW][Cin]`
    /// (OHWI); depthwise `[KH][KW][Cin·mult]`.
    public var values: [Int8]
    /// Shape of `values` in the layout above.
    public var shape: [Int]
    /// Per-output-channel scales s_w[c] = max|w_c|/127 (empty when read back from an artifact).
    public var scales: [Float]
    /// Per-output-channel int32 bias, round(b / (s_in·s_w[c])).
    public var bias: [Int32]
    /// Per-output-channel requantization (M[c], e[c]) for s_in·s_w[c]/s_out. In a `.tflite`
    /// graph a dense node has no (M, e): `multipliers[c]` and `shifts[c]` are the low and high 32
    /// bits of the double scale S[c] = s_in·s_w[c]/s_out (`TFLiteArithmetic.scaleWords`;
    /// docs/QUANTIZATION.md §8.2), as the artifact stores it.
    public var multipliers: [Int32]
    public var shifts: [Int32]

    public init(values: [Int8], shape: [Int], scales: [Float], bias: [Int32], multipliers: [Int32], shifts: [Int32]) {
        self.values = values; self.shape = shape; self.scales = scales
        self.bias = bias; self.multipliers = multipliers; self.shifts = shifts
    }
}

/// The fixed-point multipliers of an int8 ADD; each pair (M, e) means M·2^(e−31).
public struct AddParams: Equatable, Sendable {
    /// Left shift applied to both centred inputs (always 20).
    public var leftShift: Int32
    /// Input 1: sa / (2·max(sa, sb)).
    public var input1Multiplier: Int32, input1Shift: Int32
    /// Input 2: sb / (2·max(sa, sb)).
    public var input2Multiplier: Int32, input2Shift: Int32
    /// Output: 2·max(sa, sb) / (2^leftShift · so).
    public var outputMultiplier: Int32, outputShift: Int32

    public init(
        leftShift: Int32, input1Multiplier: Int32, input1Shift: Int32,
        input2Multiplier: Int32, input2Shift: Int32, outputMultiplier: Int32, outputShift: Int32
    ) {
        self.leftShift = leftShift
        self.input1Multiplier = input1Multiplier; self.input1Shift = input1Shift
        self.input2Multiplier = input2Multiplier; self.input2Shift = input2Shift
        self.outputMultiplier = outputMultiplier; self.outputShift = outputShift
    }
}

/// The fixed-point multipliers of an int8 LEAKY_RELU (TFLite's scheme, kdc's rounding); each
/// pair (M, e) means M·2^(e−31).
public struct LeakyReluParams: Equatable, Sendable {
    /// For x ≥ z_x: s_x / s_y.
    public var identityMultiplier: Int32, identityShift: Int32
    /// For x < z_x: α·s_x / s_y.
    public var alphaMultiplier: Int32, alphaShift: Int32

    public init(identityMultiplier: Int32, identityShift: Int32, alphaMultiplier: Int32, alphaShift: Int32) {
        self.identityMultiplier = identityMultiplier; self.identityShift = identityShift
        self.alphaMultiplier = alphaMultiplier; self.alphaShift = alphaShift
    }
}

/// What an int8 node needs besides its tensors' quantization.
public struct Int8Params: Equatable, Sendable {
    /// Output clamp in int8 units: a fused ReLU gives actMin = max(−128, zy), ReLU6 also
    /// actMax = min(127, zy + round(6/sy)); otherwise −128 ... 127. Applied by every op.
    public var actMin: Int32
    public var actMax: Int32
    /// Dense, conv2d and depthwise.
    public var weights: Int8Weights?
    /// ADD.
    public var add: AddParams?
    /// LEAKY_RELU.
    public var leaky: LeakyReluParams?
    /// SOFTMAX.
    public var softmax: SoftmaxParams?

    public init(
        actMin: Int32 = -128, actMax: Int32 = 127, weights: Int8Weights? = nil, add: AddParams? = nil,
        leaky: LeakyReluParams? = nil, softmax: SoftmaxParams? = nil
    ) {
        self.actMin = actMin; self.actMax = actMax; self.weights = weights; self.add = add; self.leaky = leaky
        self.softmax = softmax
    }
}
