/// An int8 model: the complete, plain description an exporter turns into the device artifact
/// and `Int8Interpreter` executes. Every number the device needs is here; nothing is recomputed
/// from floats at run time. Arithmetic: docs/QUANTIZATION.md.
public struct QuantizedGraph: Equatable, Sendable {
    /// The operations a quantized graph uses.
    public enum OpKind: String, Codable, Sendable, CaseIterable {
        /// y[n] = clamp(requant(bias[n] + Σ_k (x[k]−zx)·W[n][k], M[n], e[n]) + zy). Input read flat.
        case fullyConnected = "FULLY_CONNECTED"
        /// Per-channel requantized convolution, weights OHWI.
        case conv2d = "CONV_2D"
        /// Depthwise convolution, weights [KH][KW][Cin·mult]; output channel ic·mult+m reads ic.
        case depthwiseConv2d = "DEPTHWISE_CONV_2D"
        /// Max over the in-bounds taps of each window; output keeps the input's qparams.
        case maxPool2d = "MAX_POOL_2D"
        /// Rounded mean over the in-bounds taps of each window; output keeps the input's qparams.
        case averagePool2d = "AVERAGE_POOL_2D"
        /// Rounded mean over H·W: [H, W, C] → [C]; output keeps the input's qparams.
        case globalAveragePool = "GLOBAL_AVERAGE_POOL"
        /// Sum of two tensors of equal shape, rescaled with `add` (TFLite scheme, left shift 20).
        case add = "ADD"
        /// Same bytes, new shape (from a float flatten); output keeps the input's qparams.
        case reshape = "RESHAPE"
        /// y = min(max(x, actMin), actMax) (a ReLU/ReLU6 that could not be fused); keeps qparams.
        case clamp = "CLAMP"
    }

    /// An int8 activation tensor. Real value = scale·(q − zeroPoint).
    public struct TensorInfo: Equatable, Sendable {
        /// The float node whose output this tensor holds (after batch-norm folding, a folded
        /// conv/dense carries the conv/dense name; after activation fusion, the producer's name).
        /// The input tensor is named "input".
        public var name: String
        /// Per-sample shape, NHWC: [H, W, C] or [C].
        public var shape: [Int]
        /// Quantization step, > 0.
        public var scale: Float
        /// Zero point in [−128, 127].
        public var zeroPoint: Int32
        /// The calibrated float range (min ≤ 0 ≤ max) the qparams were derived from. For tensors
        /// that inherit their input's qparams (pools, reshape, clamp) it is the input's range.
        public var calibratedMin: Float
        public var calibratedMax: Float

        public init(
            name: String, shape: [Int], scale: Float, zeroPoint: Int32,
            calibratedMin: Float, calibratedMax: Float
        ) {
            self.name = name; self.shape = shape; self.scale = scale; self.zeroPoint = zeroPoint
            self.calibratedMin = calibratedMin; self.calibratedMax = calibratedMax
        }

        /// Element count.
        public var count: Int { shape.reduce(1, *) }
    }

    /// The fixed-point multipliers of an ADD: each pair (M, e) means M·2^(e−31).
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

    /// One operation. Fields an op does not use are empty / zero / 1 as noted.
    public struct Op: Equatable, Sendable {
        public var kind: OpKind
        /// The float node this op came from (the conv/dense a batch norm or activation was folded into).
        public var name: String
        /// Input tensor ids (indices into `tensors`): one, or two for ADD.
        public var inputs: [Int]
        /// Output tensor id.
        public var output: Int
        /// Window (conv, depthwise, pools) as (h, w); (1, 1) otherwise.
        public var kernel: Size2
        /// Stride (conv, depthwise, pools); (1, 1) otherwise.
        public var stride: Size2
        /// Explicit padding before the first row / column (TF SAME: floor(total/2); VALID: 0).
        /// Taps outside the input contribute nothing (pools: are not counted).
        public var padTop: Int
        public var padLeft: Int
        /// Depthwise channel multiplier; 1 otherwise.
        public var depthMultiplier: Int
        /// Output clamp in int8 units: fused ReLU gives actMin = max(−128, zy), ReLU6 also
        /// actMax = min(127, zy + round(6/sy)); otherwise −128 ... 127. Applied by every op.
        public var actMin: Int32
        public var actMax: Int32
        /// Weights, symmetric int8 in [−127, 127] (zero point 0):
        /// FULLY_CONNECTED [N][K]; CONV_2D [Cout][KH][KW][Cin] (OHWI); DEPTHWISE [KH][KW][Cin·mult].
        /// Empty for ops without weights.
        public var weights: [Int8]
        /// Shape of `weights` in the layout above; empty for ops without weights.
        public var weightShape: [Int]
        /// Per-output-channel weight scales s_w[c] = max|w_c|/127 (for dequantizing and reports).
        public var weightScales: [Float]
        /// Per-output-channel int32 bias, round(b / (s_in·s_w[c])).
        public var bias: [Int32]
        /// Per-output-channel requantization (M[c], e[c]) for s_in·s_w[c]/s_out.
        public var outputMultipliers: [Int32]
        public var outputShifts: [Int32]
        /// ADD only.
        public var add: AddParams?

        public init(
            kind: OpKind, name: String, inputs: [Int], output: Int,
            kernel: Size2 = Size2(1, 1), stride: Size2 = Size2(1, 1), padTop: Int = 0, padLeft: Int = 0,
            depthMultiplier: Int = 1, actMin: Int32 = -128, actMax: Int32 = 127,
            weights: [Int8] = [], weightShape: [Int] = [], weightScales: [Float] = [], bias: [Int32] = [],
            outputMultipliers: [Int32] = [], outputShifts: [Int32] = [], add: AddParams? = nil
        ) {
            self.kind = kind; self.name = name; self.inputs = inputs; self.output = output
            self.kernel = kernel; self.stride = stride; self.padTop = padTop; self.padLeft = padLeft
            self.depthMultiplier = depthMultiplier; self.actMin = actMin; self.actMax = actMax
            self.weights = weights; self.weightShape = weightShape; self.weightScales = weightScales
            self.bias = bias; self.outputMultipliers = outputMultipliers; self.outputShifts = outputShifts
            self.add = add
        }
    }

    /// Every tensor; tensor 0 is normally the input.
    public var tensors: [TensorInfo]
    /// Operations in execution order; each op's inputs are produced earlier (or are the input).
    public var ops: [Op]
    /// The graph input tensor id.
    public var input: Int
    /// The graph output (logits) tensor id.
    public var output: Int

    public init(tensors: [TensorInfo], ops: [Op], input: Int, output: Int) {
        self.tensors = tensors; self.ops = ops; self.input = input; self.output = output
    }

    /// The input tensor's quantization: firmware quantizes sensor data (already normalized)
    /// with q = clamp(round_half_away(x/scale) + zeroPoint, −128, 127).
    public var inputScale: Float { tensors[input].scale }
    public var inputZeroPoint: Int32 { tensors[input].zeroPoint }
    public var outputScale: Float { tensors[output].scale }
    public var outputZeroPoint: Int32 { tensors[output].zeroPoint }

    /// Quantizes float input values (already normalized) with the input tensor's parameters.
    public func quantizeInput(_ x: [Float]) -> [Int8] {
        Quant.quantize(x, scale: inputScale, zeroPoint: inputZeroPoint)
    }

    /// Dequantizes values of tensor `id` (default: the output): scale·(q − zeroPoint).
    public func dequantize(_ q: [Int8], tensor id: Int? = nil) -> [Float] {
        let t = tensors[id ?? output]
        return Quant.dequantize(q, scale: t.scale, zeroPoint: t.zeroPoint)
    }
}

/// Scalar quantization helpers.
public enum Quant {
    /// q = clamp(round_half_away(x/scale) + zeroPoint, −128, 127).
    public static func quantize(_ x: [Float], scale: Float, zeroPoint: Int32) -> [Int8] {
        x.map { v in
            let r = (Double(v) / Double(scale)).rounded()
            let q = max(-128, min(127, r + Double(zeroPoint)))
            return Int8(q.isNaN ? Double(zeroPoint) : q)
        }
    }

    /// x = scale·(q − zeroPoint).
    public static func dequantize(_ q: [Int8], scale: Float, zeroPoint: Int32) -> [Float] {
        q.map { scale * Float(Int32($0) - zeroPoint) }
    }

    /// Asymmetric int8 parameters for a range (widened to include 0): scale = (max−min)/255,
    /// zeroPoint = clamp(round(−128 − min/scale), −128, 127). A zero-width range gets scale 1/255.
    public static func activationParams(min lo0: Float, max hi0: Float) -> (scale: Float, zeroPoint: Int32) {
        let lo = Swift.min(lo0, 0), hi = Swift.max(hi0, 0)
        var scale = (Double(hi) - Double(lo)) / 255
        if !(scale > 0) || !scale.isFinite { scale = 1.0 / 255 }
        let s = Float(scale)
        let z = (-128 - Double(lo) / Double(s)).rounded()
        return (s, Int32(Swift.max(-128, Swift.min(127, z))))
    }
}
