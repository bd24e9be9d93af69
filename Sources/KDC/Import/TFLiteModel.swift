/// A TensorFlow Lite model as its flatbuffer holds it: the tables of TensorFlow Lite's public
/// `schema.fbs` (tensorflow/lite/schema/schema.fbs, schema version 3 with the later additions 3a
/// `builtin_code`, 3c buffers stored after the flatbuffer), restricted to the fields kdc reads.
/// `TFLiteReader` decodes and validates one; `TFLiteWriter` encodes one.
public struct TFLiteModel: Equatable, Sendable {
    /// Schema version (3).
    public var version: UInt32
    public var operatorCodes: [TFLiteOperatorCode]
    /// Subgraph 0 is the main model.
    public var subgraphs: [TFLiteSubGraph]
    public var description: String?
    /// Buffer 0 is the empty sentinel that tensors without data point to.
    public var buffers: [TFLiteBuffer]
    public var metadata: [TFLiteMetadata]
    public var signatureDefs: [TFLiteSignatureDef]

    public init(
        version: UInt32 = 3, operatorCodes: [TFLiteOperatorCode], subgraphs: [TFLiteSubGraph], description: String? = nil,
        buffers: [TFLiteBuffer], metadata: [TFLiteMetadata] = [], signatureDefs: [TFLiteSignatureDef] = []
    ) {
        self.version = version; self.operatorCodes = operatorCodes; self.subgraphs = subgraphs
        self.description = description; self.buffers = buffers; self.metadata = metadata
        self.signatureDefs = signatureDefs
    }

    /// The builtin op an operator runs (its operator code's effective code).
    public func opcode(of op: TFLiteOperator) -> Int32 { operatorCodes[Int(op.opcodeIndex)].code }
}

/// `OperatorCode`: which builtin (or custom) op an operator runs, and the op's version.
public struct TFLiteOperatorCode: Equatable, Sendable {
    /// The original byte-wide code (field 0), kept for readers older than schema 3a.
    public var deprecatedBuiltinCode: Int8
    /// The 32-bit code (field 3), 0 in files written before it existed.
    public var builtinCode: Int32
    public var customCode: String?
    public var version: Int32

    public init(deprecatedBuiltinCode: Int8, builtinCode: Int32, customCode: String? = nil, version: Int32 = 1) {
        self.deprecatedBuiltinCode = deprecatedBuiltinCode; self.builtinCode = builtinCode
        self.customCode = customCode; self.version = version
    }

    /// A code written the way the converter writes it: both fields, the byte one capped at
    /// PLACEHOLDER_FOR_GREATER_OP_CODES (127).
    public init(builtin code: Int32, version: Int32 = 1) {
        self.init(deprecatedBuiltinCode: Int8(min(code, 127)), builtinCode: code, version: version)
    }

    /// The effective builtin code: the larger of the two fields (schema.fbs: the byte field is
    /// used below PLACEHOLDER_FOR_GREATER_OP_CODES, the int32 one above; files older than 3a
    /// leave the int32 one 0, newer ones cap the byte one at 127).
    public var code: Int32 { max(Int32(deprecatedBuiltinCode), builtinCode) }

    /// The op's name ("CONV_2D"), or "CUSTOM(name)".
    public var name: String {
        code == TFLiteOp.custom ? "CUSTOM(\(customCode ?? ""))" : TFLiteOp.name(code)
    }
}

/// Builtin operator codes kdc uses, and the names of all of them (schema.fbs `BuiltinOperator`).
public enum TFLiteOp {
    public static let add: Int32 = 0, averagePool2d: Int32 = 1, conv2d: Int32 = 3, depthwiseConv2d: Int32 = 4
    public static let dequantize: Int32 = 6, fullyConnected: Int32 = 9, maxPool2d: Int32 = 17, reshape: Int32 = 22
    public static let relu: Int32 = 19, relu6: Int32 = 21
    public static let softmax: Int32 = 25, custom: Int32 = 32, squeeze: Int32 = 43, quantize: Int32 = 114

    /// "CONV_2D" for 3; "BUILTIN_OP_<n>" for a code this list does not know.
    public static func name(_ code: Int32) -> String {
        guard let i = Int(exactly: code), names.indices.contains(i) else { return "BUILTIN_OP_\(code)" }
        return String(names[i])
    }

    /// `BuiltinOperator` in code order, 0 ... 205.
    static let names: [Substring] = [
        "ADD AVERAGE_POOL_2D CONCATENATION CONV_2D DEPTHWISE_CONV_2D DEPTH_TO_SPACE DEQUANTIZE",
        "EMBEDDING_LOOKUP FLOOR FULLY_CONNECTED HASHTABLE_LOOKUP L2_NORMALIZATION L2_POOL_2D",
        "LOCAL_RESPONSE_NORMALIZATION LOGISTIC LSH_PROJECTION LSTM MAX_POOL_2D MUL RELU RELU_N1_TO_1 RELU6",
        "RESHAPE RESIZE_BILINEAR RNN SOFTMAX SPACE_TO_DEPTH SVDF TANH CONCAT_EMBEDDINGS SKIP_GRAM CALL",
        "CUSTOM EMBEDDING_LOOKUP_SPARSE PAD UNIDIRECTIONAL_SEQUENCE_RNN GATHER BATCH_TO_SPACE_ND",
        "SPACE_TO_BATCH_ND TRANSPOSE MEAN SUB DIV SQUEEZE UNIDIRECTIONAL_SEQUENCE_LSTM STRIDED_SLICE",
        "BIDIRECTIONAL_SEQUENCE_RNN EXP TOPK_V2 SPLIT LOG_SOFTMAX DELEGATE BIDIRECTIONAL_SEQUENCE_LSTM CAST",
        "PRELU MAXIMUM ARG_MAX MINIMUM LESS NEG PADV2 GREATER GREATER_EQUAL LESS_EQUAL SELECT SLICE SIN",
        "TRANSPOSE_CONV SPARSE_TO_DENSE TILE EXPAND_DIMS EQUAL NOT_EQUAL LOG SUM SQRT RSQRT SHAPE POW",
        "ARG_MIN FAKE_QUANT REDUCE_PROD REDUCE_MAX PACK LOGICAL_OR ONE_HOT LOGICAL_AND LOGICAL_NOT UNPACK",
        "REDUCE_MIN FLOOR_DIV REDUCE_ANY SQUARE ZEROS_LIKE FILL FLOOR_MOD RANGE RESIZE_NEAREST_NEIGHBOR",
        "LEAKY_RELU SQUARED_DIFFERENCE MIRROR_PAD ABS SPLIT_V UNIQUE CEIL REVERSE_V2 ADD_N GATHER_ND COS",
        "WHERE RANK ELU REVERSE_SEQUENCE MATRIX_DIAG QUANTIZE MATRIX_SET_DIAG ROUND HARD_SWISH IF WHILE",
        "NON_MAX_SUPPRESSION_V4 NON_MAX_SUPPRESSION_V5 SCATTER_ND SELECT_V2 DENSIFY SEGMENT_SUM BATCH_MATMUL",
        "PLACEHOLDER_FOR_GREATER_OP_CODES CUMSUM CALL_ONCE BROADCAST_TO RFFT2D CONV_3D IMAG REAL COMPLEX_ABS",
        "HASHTABLE HASHTABLE_FIND HASHTABLE_IMPORT HASHTABLE_SIZE REDUCE_ALL CONV_3D_TRANSPOSE VAR_HANDLE",
        "READ_VARIABLE ASSIGN_VARIABLE BROADCAST_ARGS RANDOM_STANDARD_NORMAL BUCKETIZE RANDOM_UNIFORM",
        "MULTINOMIAL GELU DYNAMIC_UPDATE_SLICE RELU_0_TO_1 UNSORTED_SEGMENT_PROD UNSORTED_SEGMENT_MAX",
        "UNSORTED_SEGMENT_SUM ATAN2 UNSORTED_SEGMENT_MIN SIGN BITCAST BITWISE_XOR RIGHT_SHIFT",
        "STABLEHLO_LOGISTIC STABLEHLO_ADD STABLEHLO_DIVIDE STABLEHLO_MULTIPLY STABLEHLO_MAXIMUM",
        "STABLEHLO_RESHAPE STABLEHLO_CLAMP STABLEHLO_CONCATENATE STABLEHLO_BROADCAST_IN_DIM",
        "STABLEHLO_CONVOLUTION STABLEHLO_SLICE STABLEHLO_CUSTOM_CALL STABLEHLO_REDUCE STABLEHLO_ABS",
        "STABLEHLO_AND STABLEHLO_COSINE STABLEHLO_EXPONENTIAL STABLEHLO_FLOOR STABLEHLO_LOG",
        "STABLEHLO_MINIMUM STABLEHLO_NEGATE STABLEHLO_OR STABLEHLO_POWER STABLEHLO_REMAINDER STABLEHLO_RSQRT",
        "STABLEHLO_SELECT STABLEHLO_SUBTRACT STABLEHLO_TANH STABLEHLO_SCATTER STABLEHLO_COMPARE",
        "STABLEHLO_CONVERT STABLEHLO_DYNAMIC_SLICE STABLEHLO_DYNAMIC_UPDATE_SLICE STABLEHLO_PAD",
        "STABLEHLO_IOTA STABLEHLO_DOT_GENERAL STABLEHLO_REDUCE_WINDOW STABLEHLO_SORT STABLEHLO_WHILE",
        "STABLEHLO_GATHER STABLEHLO_TRANSPOSE DILATE STABLEHLO_RNG_BIT_GENERATOR REDUCE_WINDOW",
    ].joined(separator: " ").split(separator: " ")
}

/// `TensorType`.
public enum TFLiteTensorType: Int8, Equatable, Sendable, CaseIterable {
    case float32 = 0, float16, int32, uint8, int64, string, bool, int16, complex64, int8, float64, complex128
    case uint64, resource, variant, uint32, uint16, int4

    /// Bytes per element, nil for types without a fixed size (string, resource, variant, int4).
    public var byteWidth: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .float16, .int16, .uint16: return 2
        case .float32, .int32, .uint32: return 4
        case .int64, .uint64, .float64, .complex64: return 8
        case .complex128: return 16
        case .string, .resource, .variant, .int4: return nil
        }
    }

    /// The schema's name in lower case ("int8").
    public var name: String { "\(self)" }
}

/// `QuantizationParameters`: real = scale·(q − zero_point), one pair per tensor or one per
/// slice along `quantizedDimension`.
public struct TFLiteQuantization: Equatable, Sendable {
    public var scale: [Float]
    public var zeroPoint: [Int64]
    public var quantizedDimension: Int32

    public init(scale: [Float], zeroPoint: [Int64], quantizedDimension: Int32 = 0) {
        self.scale = scale; self.zeroPoint = zeroPoint; self.quantizedDimension = quantizedDimension
    }
}

/// `Tensor`.
public struct TFLiteTensor: Equatable, Sendable {
    /// NHWC with the batch first, as TFLite stores it; every entry ≥ 0.
    public var shape: [Int32]
    public var type: TFLiteTensorType
    /// Index into `TFLiteModel.buffers`; 0 (the empty buffer) for tensors without data.
    public var buffer: UInt32
    public var name: String
    public var quantization: TFLiteQuantization?
    /// The shape with −1 for unknown dimensions (the batch), when the file has one.
    public var shapeSignature: [Int32]?
    public var isVariable: Bool

    public init(
        shape: [Int32], type: TFLiteTensorType, buffer: UInt32 = 0, name: String = "",
        quantization: TFLiteQuantization? = nil, shapeSignature: [Int32]? = nil, isVariable: Bool = false
    ) {
        self.shape = shape; self.type = type; self.buffer = buffer; self.name = name
        self.quantization = quantization; self.shapeSignature = shapeSignature; self.isVariable = isVariable
    }

    /// Element count (the reader has checked that it fits an Int).
    public var count: Int { shape.reduce(1) { $0 * Int($1) } }
}

/// `Padding`.
public enum TFLitePadding: Int8, Equatable, Sendable {
    case same = 0, valid = 1
}

/// `ActivationFunctionType`.
public enum TFLiteActivation: Int8, Equatable, Sendable {
    case none = 0, relu = 1, reluN1To1 = 2, relu6 = 3, tanh = 4, signBit = 5
}

public struct TFLiteConv2DOptions: Equatable, Sendable {
    public var padding: TFLitePadding
    public var strideW: Int32, strideH: Int32
    public var activation: TFLiteActivation
    public var dilationW: Int32 = 1, dilationH: Int32 = 1

    public init(
        padding: TFLitePadding, strideW: Int32, strideH: Int32, activation: TFLiteActivation,
        dilationW: Int32 = 1, dilationH: Int32 = 1
    ) {
        self.padding = padding; self.strideW = strideW; self.strideH = strideH; self.activation = activation
        self.dilationW = dilationW; self.dilationH = dilationH
    }
}

public struct TFLiteDepthwiseConv2DOptions: Equatable, Sendable {
    public var padding: TFLitePadding
    public var strideW: Int32, strideH: Int32
    /// Redundant with the shapes (schema.fbs: ignored by TFLite after 2.0); kept as written.
    public var depthMultiplier: Int32
    public var activation: TFLiteActivation
    public var dilationW: Int32 = 1, dilationH: Int32 = 1

    public init(
        padding: TFLitePadding, strideW: Int32, strideH: Int32, depthMultiplier: Int32, activation: TFLiteActivation,
        dilationW: Int32 = 1, dilationH: Int32 = 1
    ) {
        self.padding = padding; self.strideW = strideW; self.strideH = strideH; self.depthMultiplier = depthMultiplier
        self.activation = activation; self.dilationW = dilationW; self.dilationH = dilationH
    }
}

public struct TFLiteFullyConnectedOptions: Equatable, Sendable {
    public var activation: TFLiteActivation
    /// 0: DEFAULT, 1: SHUFFLED4x16INT8.
    public var weightsFormat: Int8 = 0
    public var keepNumDims: Bool = false

    public init(activation: TFLiteActivation, weightsFormat: Int8 = 0, keepNumDims: Bool = false) {
        self.activation = activation; self.weightsFormat = weightsFormat; self.keepNumDims = keepNumDims
    }
}

public struct TFLitePool2DOptions: Equatable, Sendable {
    public var padding: TFLitePadding
    public var strideW: Int32, strideH: Int32
    public var filterWidth: Int32, filterHeight: Int32
    public var activation: TFLiteActivation

    public init(
        padding: TFLitePadding, strideW: Int32, strideH: Int32, filterWidth: Int32, filterHeight: Int32,
        activation: TFLiteActivation
    ) {
        self.padding = padding; self.strideW = strideW; self.strideH = strideH
        self.filterWidth = filterWidth; self.filterHeight = filterHeight; self.activation = activation
    }
}

/// `BuiltinOptions` of an operator (the union's type number in the schema on each case).
public enum TFLiteOptions: Equatable, Sendable {
    case none
    /// 1
    case conv2d(TFLiteConv2DOptions)
    /// 2
    case depthwiseConv2d(TFLiteDepthwiseConv2DOptions)
    /// 5
    case pool2d(TFLitePool2DOptions)
    /// 8
    case fullyConnected(TFLiteFullyConnectedOptions)
    /// 9
    case softmax(beta: Float)
    /// 11
    case add(activation: TFLiteActivation)
    /// 17; `newShape` nil when the table has no vector (the shape then comes from input 2).
    case reshape(newShape: [Int32]?)
    /// 30
    case squeeze(squeezeDims: [Int32])
    /// Another options table, by its union type; its fields are not read (the writer writes an
    /// empty table of that type, so the op gets the schema defaults).
    case other(type: UInt8)

    /// The union type number.
    public var unionType: UInt8 {
        switch self {
        case .none: return 0
        case .conv2d: return 1
        case .depthwiseConv2d: return 2
        case .pool2d: return 5
        case .fullyConnected: return 8
        case .softmax: return 9
        case .add: return 11
        case .reshape: return 17
        case .squeeze: return 30
        case let .other(t): return t
        }
    }
}

/// `Operator`.
public struct TFLiteOperator: Equatable, Sendable {
    /// Index into `TFLiteModel.operatorCodes`.
    public var opcodeIndex: UInt32
    /// Tensor indices; −1 marks an optional input or output that is absent.
    public var inputs: [Int32]
    public var outputs: [Int32]
    public var options: TFLiteOptions

    public init(opcodeIndex: UInt32, inputs: [Int32], outputs: [Int32], options: TFLiteOptions = .none) {
        self.opcodeIndex = opcodeIndex; self.inputs = inputs; self.outputs = outputs; self.options = options
    }
}

/// `SubGraph`.
public struct TFLiteSubGraph: Equatable, Sendable {
    public var tensors: [TFLiteTensor]
    public var inputs: [Int32]
    public var outputs: [Int32]
    /// In execution order.
    public var operators: [TFLiteOperator]
    public var name: String?

    public init(
        tensors: [TFLiteTensor], inputs: [Int32], outputs: [Int32], operators: [TFLiteOperator], name: String? = nil
    ) {
        self.tensors = tensors; self.inputs = inputs; self.outputs = outputs; self.operators = operators; self.name = name
    }
}

/// `Buffer`: the bytes of a constant tensor (little-endian), read from inside the flatbuffer or,
/// in the schema 3c form, from `offset`/`size` after it; empty for tensors without data.
public struct TFLiteBuffer: Equatable, Sendable {
    public var data: [UInt8]
    public init(_ data: [UInt8] = []) { self.data = data }
}

/// `Metadata`: a named buffer (e.g. "min_runtime_version").
public struct TFLiteMetadata: Equatable, Sendable {
    public var name: String
    public var buffer: UInt32
    public init(name: String, buffer: UInt32) { self.name = name; self.buffer = buffer }
}

/// `SignatureDef` with its `TensorMap`s (name → tensor index).
public struct TFLiteSignatureDef: Equatable, Sendable {
    public struct TensorMap: Equatable, Sendable {
        public var name: String
        public var tensorIndex: UInt32
        public init(name: String, tensorIndex: UInt32) { self.name = name; self.tensorIndex = tensorIndex }
    }
    public var inputs: [TensorMap]
    public var outputs: [TensorMap]
    public var signatureKey: String?
    public var subgraphIndex: UInt32

    public init(inputs: [TensorMap], outputs: [TensorMap], signatureKey: String?, subgraphIndex: UInt32) {
        self.inputs = inputs; self.outputs = outputs; self.signatureKey = signatureKey; self.subgraphIndex = subgraphIndex
    }
}
