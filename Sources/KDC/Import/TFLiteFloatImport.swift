/// Imports a float32 TensorFlow Lite model (`TFLiteModel`, as `TFLiteReader` reads it) into a
/// float kdc `Graph` with `FloatParams`, the form `Graph.runFloat` evaluates: a teacher trained
/// elsewhere (`teacher: {tflite: PATH}`, docs/TFLITE.md).
///
/// Supported: CONV_2D, DEPTHWISE_CONV_2D (any depth multiplier), FULLY_CONNECTED, AVERAGE_POOL_2D,
/// MAX_POOL_2D, ADD (same shapes), RESHAPE and SQUEEZE, SOFTMAX, RELU and RELU6, on float32
/// activations of shape [1, C] or [1, H, W, C]; SAME or VALID padding, any stride, dilation 1;
/// fused NONE / RELU / RELU6. Weights and biases are float32 constants, float16 constants, or
/// int8 constants with per-tensor or per-channel scales (a "dynamic range" model, whose
/// weights kdc dequantizes: w = s·(q − z)), directly or through a DEQUANTIZE of a constant.
/// Anything else is a `KDCError.format` naming the file, the operator's index and op.
///
/// The result has canonical numbering (tensor 0 the input, node i writes tensor i + 1); a fused
/// activation becomes a `relu` / `relu6` node after the op (named `<op>_<i>_relu`), so the graph
/// reads like one built from a config. Weights are converted to kdc's float layouts: conv
/// OHWI → HWIO, depthwise [1, KH, KW, C·m] → [KH, KW, C·m], fully connected [N, K] → [K, N].
public enum TFLiteFloatImporter {
    /// What kdc imports as a float model, for messages.
    public static let supported =
        "kdc imports float32 models with CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, ADD, "
        + "RESHAPE, SQUEEZE, SOFTMAX, RELU, RELU6 (and DEQUANTIZE of constant weights)"

    /// Reads and imports the file at `path`.
    public static func importFile(_ path: String) throws -> Graph {
        try importModel(try TFLiteReader.read(path: path), file: path)
    }

    /// Imports `m` (checked as `TFLiteReader` checks a file first); `file` names the model in errors.
    public static func importModel(_ m: TFLiteModel, file: String) throws -> Graph {
        try TFLiteReader.validate(m, file: file)
        var b = try Builder(m, file: file)
        return try b.build()
    }

    struct Builder {
        let m: TFLiteModel
        let file: String
        let sg: TFLiteSubGraph
        /// TFLite tensor index → kdc tensor id (activations).
        var ids: [Int: TensorID] = [:]
        /// TFLite tensor index → values of a DEQUANTIZE of a constant (folded).
        var folded: [Int: [Float]] = [:]
        var tensors: [GraphTensor] = []
        var nodes: [GraphNode] = []

        init(_ m: TFLiteModel, file: String) throws {
            self.m = m
            self.file = file
            guard m.subgraphs.count == 1 else {
                throw KDCError.format(
                    file: file,
                    message: "the model has \(m.subgraphs.count) subgraphs; kdc imports models with exactly one (no control flow)"
                )
            }
            sg = m.subgraphs[0]
            guard sg.inputs.count == 1, sg.outputs.count == 1 else {
                throw KDCError.format(
                    file: file,
                    message:
                        "the model has \(sg.inputs.count) inputs and \(sg.outputs.count) outputs; kdc imports models with one of each"
                )
            }
        }

        func fail(_ message: String) -> KDCError { .format(file: file, message: message) }
        func fail(_ i: Int, _ message: String) -> KDCError { fail("operator \(i) (\(opName(i))): \(message)") }
        func opName(_ i: Int) -> String { m.operatorCodes[Int(sg.operators[i].opcodeIndex)].name }
        func tensor(_ idx: Int32) -> TFLiteTensor { sg.tensors[Int(idx)] }
        func data(_ t: TFLiteTensor) -> [UInt8] { m.buffers[Int(t.buffer)].data }

        /// The per-sample shape of a float32 activation ([1, C] → [C], [1, H, W, C] → [H, W, C]).
        func sampleShape(_ t: TFLiteTensor, _ what: String) throws -> [Int] {
            guard t.type == .float32 else {
                let hint =
                    t.type == .int8 || t.type == .uint8
                    ? " (a quantized model: `kdc import` compiles int8 models; a teacher must be the float32 model)" : ""
                throw fail("\(what) '\(t.name)' is \(t.type.name); a float teacher has float32 activations\(hint)")
            }
            let s = t.shape.map { Int($0) }
            guard s.count == 2 || s.count == 4, s[0] == 1, s.allSatisfy({ $0 >= 1 }) else {
                throw fail(
                    "\(what) '\(t.name)' has shape \(t.shape); kdc imports activations of shape [1, C] or [1, H, W, C] (batch 1)")
            }
            return Array(s.dropFirst())
        }

        /// The values of constant tensor `idx` as Float: float32, float16, or int8 / int32 with
        /// quantization (dequantized per tensor or along its quantized dimension), or a folded
        /// DEQUANTIZE of one.
        func constant(_ i: Int, _ idx: Int32, _ what: String) throws -> [Float] {
            if let v = folded[Int(idx)] { return v }
            let t = tensor(idx)
            let d = data(t)
            guard !d.isEmpty || t.count == 0 else {
                throw fail(i, "\(what) '\(t.name)' is not constant (no buffer); kdc imports constant weights and biases")
            }
            let n = t.count
            switch t.type {
            case .float32:
                return (0..<n).map { k in Float(bitPattern: le32(d, 4 * k)) }
            case .float16:
                return (0..<n).map { k in halfToFloat(UInt16(d[2 * k]) | UInt16(d[2 * k + 1]) << 8) }
            case .int8, .int32:
                guard let q = t.quantization, !q.scale.isEmpty else {
                    throw fail(i, "\(what) '\(t.name)' is \(t.type.name) without scales; kdc dequantizes quantized weights only")
                }
                let raw: [Int64] =
                    t.type == .int8
                    ? d.map { Int64(Int8(bitPattern: $0)) } : (0..<n).map { Int64(Int32(bitPattern: le32(d, 4 * $0))) }
                // Element k lies in slice (k / inner) % channels along the quantized dimension.
                let dim = q.scale.count > 1 ? Int(q.quantizedDimension) : 0
                let inner = q.scale.count > 1 ? t.shape[(dim + 1)...].reduce(1) { $0 * Int($1) } : n
                let channels = q.scale.count
                for (c, s) in q.scale.enumerated() where !(s.isFinite && s > 0) {
                    throw fail(i, "\(what) '\(t.name)' channel \(c) has scale \(s); a positive finite scale is expected")
                }
                return raw.enumerated().map { k, v in
                    let c = channels > 1 ? (k / inner) % channels : 0
                    let z = q.zeroPoint.isEmpty ? 0 : q.zeroPoint[c]
                    return q.scale[c] * Float(v - z)
                }
            default:
                throw fail(i, "\(what) '\(t.name)' is \(t.type.name); kdc imports float32, float16 or int8 weights")
            }
        }

        /// The kdc tensor an operator input reads: the graph input or an earlier op's output.
        func input(_ i: Int, _ k: Int) throws -> TensorID {
            let op = sg.operators[i]
            guard k < op.inputs.count, op.inputs[k] >= 0 else { throw fail(i, "input \(k) is missing") }
            guard let id = ids[Int(op.inputs[k])] else {
                let t = tensor(op.inputs[k])
                throw fail(
                    i,
                    "input \(k) '\(t.name)' is neither the model input nor the output of an earlier operator"
                        + (data(t).isEmpty ? "" : " (a constant, which kdc supports only as weights, bias or shape)"))
            }
            return id
        }

        /// Adds the node of operator `i` and the tensor it writes; a fused activation adds a
        /// relu / relu6 node after it, which then writes the operator's output tensor.
        mutating func add(_ i: Int, op: Op, inputs: [TensorID], params: FloatParams? = nil, fused: TFLiteActivation) throws {
            let o = sg.operators[i]
            guard o.outputs.count == 1, o.outputs[0] >= 0 else { throw fail(i, "kdc imports operators with one output") }
            let t = tensor(o.outputs[0])
            guard ids[Int(o.outputs[0])] == nil else { throw fail(i, "output '\(t.name)' is written by an earlier operator too") }
            let shape = try sampleShape(t, "output")
            let name = "\(opName(i).lowercased())_\(i)"
            if op != .reshape {
                let inferred = try op.outputShape(inputs.map { tensors[$0.index].shape }, layer: name)
                guard inferred == shape else {
                    throw fail(i, "output '\(t.name)' has shape \(t.shape) but the op gives \([1] + inferred)")
                }
            }
            let act: Op?
            switch fused {
            case .none: act = nil
            case .relu: act = .relu
            case .relu6: act = .relu6
            default:
                throw fail(i, "fused activation \(fused) is not supported (kdc's float import fuses NONE, RELU, RELU6)")
            }
            tensors.append(GraphTensor(name: act == nil ? t.name : t.name + "/pre_activation", shape: shape))
            nodes.append(GraphNode(name: name, op: op, inputs: inputs, output: TensorID(tensors.count - 1), params: params))
            if let a = act {
                tensors.append(GraphTensor(name: t.name, shape: shape))
                nodes.append(
                    GraphNode(
                        name: name + "_relu", op: a, inputs: [TensorID(tensors.count - 2)], output: TensorID(tensors.count - 1)))
            }
            ids[Int(o.outputs[0])] = TensorID(tensors.count - 1)
        }

        /// The bias of operator `i` (input 2) with `count` values, zeros when absent.
        func bias(_ i: Int, count: Int) throws -> Tensor {
            let op = sg.operators[i]
            guard op.inputs.count >= 3, op.inputs[2] >= 0 else { return Tensor(shape: [count]) }
            let v = try constant(i, op.inputs[2], "bias")
            guard v.count == count else {
                throw fail(i, "bias '\(tensor(op.inputs[2]).name)' has \(v.count) values; \(count) expected")
            }
            return Tensor(shape: [count], data: v)
        }

        /// The weights of operator `i` (input 1): shape (rank `rank`, all positive) and values.
        func weights(_ i: Int, rank: Int) throws -> (shape: [Int], values: [Float]) {
            let op = sg.operators[i]
            guard op.inputs.count >= 2, op.inputs[1] >= 0 else { throw fail(i, "the weights (input 1) are missing") }
            let w = tensor(op.inputs[1])
            guard w.shape.count == rank, w.shape.allSatisfy({ $0 >= 1 }) else {
                throw fail(i, "weights '\(w.name)' have shape \(w.shape); \(rank) positive dimensions expected")
            }
            return (w.shape.map { Int($0) }, try constant(i, op.inputs[1], "weights"))
        }

        func padding(_ p: TFLitePadding) -> Padding { p == .same ? .same : .valid }

        func stride(_ h: Int32, _ w: Int32, _ i: Int) throws -> Size2 {
            guard h >= 1, w >= 1 else { throw fail(i, "stride \(h)x\(w); strides must be ≥ 1") }
            return Size2(Int(h), Int(w))
        }

        mutating func build() throws -> Graph {
            let x = tensor(sg.inputs[0])
            tensors.append(GraphTensor(name: x.name, shape: try sampleShape(x, "the model input")))
            ids[Int(sg.inputs[0])] = TensorID(0)
            for i in sg.operators.indices { try importOp(i) }
            let outputIndex = sg.outputs[0]
            guard let out = ids[Int(outputIndex)] else {
                throw fail("the model output '\(tensor(outputIndex).name)' is not written by any operator kdc runs")
            }
            guard !nodes.isEmpty, out.index == tensors.count - 1 else {
                throw fail(
                    "the model output '\(tensor(outputIndex).name)' is not written by the last operator; kdc runs the ops up to the output"
                )
            }
            return Graph(tensors: tensors, nodes: nodes, input: TensorID(0), output: out)
        }

        mutating func importOp(_ i: Int) throws {
            let op = sg.operators[i]
            let code = m.opcode(of: op)
            switch code {
            case TFLiteOp.dequantize:
                // A DEQUANTIZE of a constant (float16 or int8 weights) is folded into the constant.
                guard op.inputs.count == 1, op.inputs[0] >= 0, op.outputs.count == 1, op.outputs[0] >= 0,
                    !data(tensor(op.inputs[0])).isEmpty
                else {
                    throw fail(
                        i, "DEQUANTIZE of an activation (a quantized model); kdc's float import dequantizes only constants")
                }
                folded[Int(op.outputs[0])] = try constant(i, op.inputs[0], "input")
            case TFLiteOp.conv2d, TFLiteOp.depthwiseConv2d:
                let x = try input(i, 0)
                let depthwise = code == TFLiteOp.depthwiseConv2d
                let (pad, sh, sw, dh, dw, act): (TFLitePadding, Int32, Int32, Int32, Int32, TFLiteActivation)
                switch op.options {
                case let .conv2d(o) where !depthwise:
                    (pad, sh, sw, dh, dw, act) = (o.padding, o.strideH, o.strideW, o.dilationH, o.dilationW, o.activation)
                case let .depthwiseConv2d(o) where depthwise:
                    (pad, sh, sw, dh, dw, act) = (o.padding, o.strideH, o.strideW, o.dilationH, o.dilationW, o.activation)
                default: throw fail(i, "options are \(op.options), not the op's own")
                }
                guard dh == 1, dw == 1 else { throw fail(i, "dilation \(dh)x\(dw); kdc supports dilation 1 only") }
                let (ws, w) = try weights(i, rank: 4)
                let cin = tensors[x.index].shape.last ?? 0
                let kernel = Size2(ws[1], ws[2]), s = try stride(sh, sw, i)
                if depthwise {
                    guard ws[0] == 1, cin > 0, ws[3] % cin == 0 else {
                        throw fail(
                            i, "depthwise weights \(ws) do not fit \(cin) input channels ([1, KH, KW, Cin·multiplier] expected)")
                    }
                    // [1, KH, KW, C·m] is kdc's [KH, KW, C·m] with the same element order.
                    let p = FloatParams.affine(
                        weight: Tensor(shape: [ws[1], ws[2], ws[3]], data: w), bias: try bias(i, count: ws[3]))
                    try add(
                        i, op: .depthwiseConv2d(kernel: kernel, stride: s, padding: padding(pad), multiplier: ws[3] / cin),
                        inputs: [x], params: p, fused: act)
                } else {
                    guard ws[3] == cin else {
                        throw fail(i, "weights \(ws) do not fit \(cin) input channels ([Cout, KH, KW, Cin] expected)")
                    }
                    let (co, kh, kw) = (ws[0], ws[1], ws[2])
                    var hwio = [Float](repeating: 0, count: w.count)
                    for o in 0..<co {
                        for y in 0..<kh {
                            for xx in 0..<kw {
                                for c in 0..<cin {
                                    hwio[((y * kw + xx) * cin + c) * co + o] = w[((o * kh + y) * kw + xx) * cin + c]
                                }
                            }
                        }
                    }
                    let p = FloatParams.affine(
                        weight: Tensor(shape: [kh, kw, cin, co], data: hwio), bias: try bias(i, count: co))
                    try add(
                        i, op: .conv2d(filters: co, kernel: kernel, stride: s, padding: padding(pad)), inputs: [x], params: p,
                        fused: act)
                }
            case TFLiteOp.fullyConnected:
                guard case let .fullyConnected(o) = op.options else { throw fail(i, "options are \(op.options)") }
                guard o.weightsFormat == 0 else {
                    throw fail(i, "weights format \(o.weightsFormat) (shuffled); kdc imports the DEFAULT format")
                }
                let x = try input(i, 0)
                let (ws, w) = try weights(i, rank: 2)
                let k = tensors[x.index].count
                guard ws[1] == k else {
                    throw fail(
                        i, "weights have shape \(ws); [N, \(k)] expected for an input of \(tensors[x.index].shape) (batch 1)")
                }
                let n = ws[0]
                var t = [Float](repeating: 0, count: w.count)  // [N, K] → [K, N]
                for r in 0..<n { for c in 0..<k { t[c * n + r] = w[r * k + c] } }
                let p = FloatParams.affine(weight: Tensor(shape: [k, n], data: t), bias: try bias(i, count: n))
                try add(i, op: .dense(units: n), inputs: [x], params: p, fused: o.activation)
            case TFLiteOp.averagePool2d, TFLiteOp.maxPool2d:
                guard case let .pool2d(o) = op.options else { throw fail(i, "options are \(op.options)") }
                let x = try input(i, 0)
                guard o.filterHeight >= 1, o.filterWidth >= 1 else {
                    throw fail(i, "filter \(o.filterHeight)x\(o.filterWidth); filters must be ≥ 1")
                }
                let k = Size2(Int(o.filterHeight), Int(o.filterWidth)), s = try stride(o.strideH, o.strideW, i)
                let kop: Op =
                    code == TFLiteOp.maxPool2d
                    ? .maxPool2d(pool: k, stride: s, padding: padding(o.padding))
                    : .avgPool2d(pool: k, stride: s, padding: padding(o.padding))
                try add(i, op: kop, inputs: [x], fused: o.activation)
            case TFLiteOp.add:
                guard case let .add(act) = op.options else { throw fail(i, "options are \(op.options)") }
                let a = try input(i, 0), b = try input(i, 1)
                guard tensors[a.index].shape == tensors[b.index].shape else {
                    throw fail(
                        i,
                        "inputs of shapes \(tensors[a.index].shape) and \(tensors[b.index].shape); kdc adds tensors of the same shape (no broadcasting)"
                    )
                }
                try add(i, op: .add, inputs: [a, b], fused: act)
            case TFLiteOp.reshape, TFLiteOp.squeeze:
                let x = try input(i, 0)
                guard op.outputs.count == 1, op.outputs[0] >= 0 else { throw fail(i, "kdc imports operators with one output") }
                let outT = tensor(op.outputs[0])
                guard try sampleShape(outT, "output").reduce(1, *) == tensors[x.index].count else {
                    throw fail(i, "output shape \(outT.shape) has another element count than the input")
                }
                try add(i, op: .reshape, inputs: [x], fused: .none)
            case TFLiteOp.softmax:
                guard case let .softmax(beta) = op.options else { throw fail(i, "options are \(op.options)") }
                guard beta > 0, beta.isFinite else { throw fail(i, "beta \(beta); kdc's softmax needs a finite beta > 0") }
                let x = try input(i, 0)
                try add(i, op: .softmax(beta: beta), inputs: [x], fused: .none)
            case TFLiteOp.relu, TFLiteOp.relu6:
                let x = try input(i, 0)
                try add(i, op: code == TFLiteOp.relu ? .relu : .relu6, inputs: [x], fused: .none)
            case TFLiteOp.quantize:
                throw fail(i, "QUANTIZE in a float model; `kdc import` compiles int8 models, a teacher must be float32")
            default:
                throw fail(i, "not supported; \(supported)")
            }
        }
    }

    /// IEEE 754 binary16 → Float (every half value is exact in Float).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let e = Int((h >> 10) & 0x1f), f = Int(h & 0x3ff)
        switch e {
        case 0: return sign * Float(f) * 0x1p-24  // zero and subnormals: f·2^−24
        case 31: return f == 0 ? sign * .infinity : .nan
        default: return sign * Float(1024 + f) * Float(sign: .plus, exponent: e - 25, significand: 1)
        }
    }

    static func le32(_ d: [UInt8], _ at: Int) -> UInt32 {
        UInt32(d[at]) | UInt32(d[at + 1]) << 8 | UInt32(d[at + 2]) << 16 | UInt32(d[at + 3]) << 24
    }
}
