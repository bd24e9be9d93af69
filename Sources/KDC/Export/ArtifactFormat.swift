/// Layout constants of the device artifact, format version 1 (docs/FORMAT.md). Every byte
/// offset of the format is named here once; the writer and the reader use these names, and a
/// test checks them against the C runtime's and the Python generators' own tables.
public enum ArtifactFormat {
    public static let magic: [UInt8] = Array("KDCM".utf8)
    public static let version: UInt16 = 1
    /// Header flags bit 0: the body is a zlib stream.
    public static let flagCompressed: UInt16 = 1
    /// Header flags bit 1: TensorFlow Lite arithmetic (`Graph.arithmetic == .tflite`).
    public static let flagTFLite: UInt16 = 2
    /// Header flags bit 2: the model takes float32 input (`Graph.floatInput`).
    public static let flagFloatInput: UInt16 = 4
    /// Header flags bit 3: the model gives float32 output (`Graph.floatOutput`).
    public static let flagFloatOutput: UInt16 = 8
    /// Header flags bit 4: an input-stage block follows the constants (`Graph.inputStage`, 3.7).
    public static let flagInputStage: UInt16 = 16
    /// Every flag bit this version knows; the others must be 0.
    public static let flagsKnown: UInt16 = 31
    /// The output scale SOFTMAX requires (1/256) as float32 bits, and its zero point.
    public static let softmaxScaleBits: UInt32 = 0x3B80_0000
    public static let softmaxZeroPoint: Int32 = -128
    /// Largest SOFTMAX depth (last axis): the sum of exps stays below 2^31.
    public static let softmaxMaxDepth = 4095

    /// The header flags of a graph's arithmetic and edges (compression aside).
    public static func flags(of g: Graph) -> UInt16 {
        (g.arithmetic == .tflite ? flagTFLite : 0) | (g.floatInput ? flagFloatInput : 0)
            | (g.floatOutput ? flagFloatOutput : 0) | (g.inputStage != nil ? flagInputStage : 0)
    }
    /// input1 of every op that is not ADD.
    public static let noTensor: UInt16 = 0xFFFF
    /// Largest reduction (K of FC, k_h·k_w·C_in of conv, k_h·k_w of windows) the runtime accepts.
    public static let maxReduce = 65536
    /// Largest H·W a GLOBAL_AVERAGE_POOL sums (its int32 sum of int8 values cannot overflow).
    public static let maxGapTaps = 1 << 24
    /// Tensor dtype code of int8 (the only one).
    public static let dtypeInt8 = 0

    /// The 32-byte header (artifact offsets).
    public enum Header {
        public static let bytes = 32
        public static let magic = 0, version = 4, flags = 6, headerSize = 8, reserved = 10
        public static let storedBodyBytes = 12, rawBodyBytes = 16, arenaBytes = 20, bodyCRC32 = 24, headerCRC32 = 28
    }

    /// The 24-byte body header (body offsets).
    public enum Body {
        public static let bytes = 24
        public static let nTensors = 0, nOps = 2, inputID = 4, outputID = 6
        public static let tensorsOffset = 8, opsOffset = 12, constOffset = 16, constBytes = 20
    }

    /// A 32-byte tensor record.
    public enum TensorRecord {
        public static let bytes = 32
        public static let rank = 0, dtype = 1, reserved0 = 2, dims = 4, scale = 12, zeroPoint = 16
        public static let arenaOffset = 20, byteSize = 24, reserved1 = 28
    }

    /// A 48-byte op record.
    public enum OpRecord {
        public static let bytes = 48
        public static let opcode = 0, actMin = 1, actMax = 2, reserved0 = 3, input0 = 4, input1 = 6, output = 8
        public static let reserved1 = 10
        /// The 9 parameter words start here; word i is at params + 4·i.
        public static let params = 12, paramWords = 9
        // Window params.
        public static let kernelH = 12, kernelW = 14, strideH = 16, strideW = 18, padTop = 20, padLeft = 22
        public static let depthMultiplier = 24, windowReserved = 26
        // Constant params (offsets into the constant section).
        public static let weightsOffset = 28, biasOffset = 32, multiplierOffset = 36, shiftOffset = 40
        public static let constReserved = 44
        // ADD requant params: six i32 (M_a, e_a, M_b, e_b, M_out, e_out) from byte 12.
        public static let addParams = 12
        // LEAKY_RELU requant params: four i32 (M_id, e_id, M_alpha, e_alpha) from byte 12.
        public static let leakyParams = 12
        // SOFTMAX params: three i32 (M, left shift, diff_min) from byte 12.
        public static let softmaxParams = 12
    }

    /// The artifact shape (rank ≤ 4, batch 1 first) of a per-sample shape: `[C]` → `[1, C]`,
    /// `[H, W, C]` → `[1, H, W, C]`; a GLOBAL_AVERAGE_POOL output is written `[1, 1, 1, C]`
    /// (docs/FORMAT.md 3.3).
    static func deviceShape(_ shape: [Int], gapOutput: Bool) -> [Int] {
        if gapOutput && shape.count == 1 { return [1, 1, 1, shape[0]] }
        return [1] + shape
    }

    /// The per-sample shape of an artifact shape: the batch dimension dropped when it is 1 and
    /// the rank is above 1, a GLOBAL_AVERAGE_POOL output `[1, 1, 1, C]` read as `[C]`.
    static func sampleShape(_ dims: [Int], gapOutput: Bool) -> [Int] {
        if gapOutput && dims.count == 4 && dims[0] == 1 && dims[1] == 1 && dims[2] == 1 { return [dims[3]] }
        return dims.count > 1 && dims[0] == 1 ? Array(dims.dropFirst()) : dims
    }
}

/// The op codes of the device runtime (the C op table `runtime/src`, docs/FORMAT.md 3.3), with
/// the record properties the writer and the reader share.
public enum DeviceOp: UInt8, CaseIterable, Sendable {
    case fullyConnected = 1
    case conv2d = 2
    case depthwiseConv2d = 3
    case maxPool2d = 4
    case averagePool2d = 5
    case globalAveragePool = 6
    case add = 7
    case reshape = 8
    case clamp = 9
    case leakyRelu = 10
    case softmax = 11

    /// The name in the runtime's op table, reports and `kdc inspect`.
    public var name: String {
        switch self {
        case .fullyConnected: return "FULLY_CONNECTED"
        case .conv2d: return "CONV_2D"
        case .depthwiseConv2d: return "DEPTHWISE_CONV_2D"
        case .maxPool2d: return "MAX_POOL_2D"
        case .averagePool2d: return "AVERAGE_POOL_2D"
        case .globalAveragePool: return "GLOBAL_AVERAGE_POOL"
        case .add: return "ADD"
        case .reshape: return "RESHAPE"
        case .clamp: return "CLAMP"
        case .leakyRelu: return "LEAKY_RELU"
        case .softmax: return "SOFTMAX"
        }
    }

    /// The device op of a graph op; nil for ops lowering removes (batch norm, dropout, ReLU,
    /// flatten).
    public init?(_ op: Op) {
        switch op {
        case .dense: self = .fullyConnected
        case .conv2d: self = .conv2d
        case .depthwiseConv2d: self = .depthwiseConv2d
        case .maxPool2d: self = .maxPool2d
        case .avgPool2d: self = .averagePool2d
        case .globalAvgPool: self = .globalAveragePool
        case .add: self = .add
        case .reshape: self = .reshape
        case .clamp: self = .clamp
        case .leakyRelu: self = .leakyRelu
        case .softmax: self = .softmax
        case .relu, .relu6, .batchNorm, .dropout, .flatten: return nil
        }
    }

    /// Inputs read.
    public var arity: Int { self == .add ? 2 : 1 }
    /// Parameter words (bytes 12 + 4i) the op uses; the rest must be zero.
    public var paramMask: Int {
        switch self {
        case .fullyConnected: return 0x0f0
        case .conv2d: return 0x0f7
        case .depthwiseConv2d: return 0x0ff
        case .maxPool2d, .averagePool2d: return 0x007
        case .add: return 0x03f
        case .leakyRelu: return 0x00f
        case .softmax: return 0x007
        case .globalAveragePool, .reshape, .clamp: return 0
        }
    }
    /// Ops with a window (bytes 12..27).
    public var hasWindow: Bool { [.conv2d, .depthwiseConv2d, .maxPool2d, .averagePool2d].contains(self) }
    /// Ops with constant arrays (weights, bias, multipliers, shifts at bytes 28..43).
    public var hasConstants: Bool { [.fullyConnected, .conv2d, .depthwiseConv2d].contains(self) }
}
