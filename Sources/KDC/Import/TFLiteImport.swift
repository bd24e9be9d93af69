/// Imports an int8 TensorFlow Lite model (`TFLiteModel`, as `TFLiteReader` reads it) into kdc's
/// int8 `Graph`, the shape `quantize` gives (docs/ARCHITECTURE.md): canonical numbering (tensor 0
/// is the input, node i writes tensor i + 1), int8 tensors with `QuantParams`, `Int8Params` on
/// every node, `arithmetic = .tflite`.
///
/// Supported (the int8 ops of TFLite's quantization spec that kdc's runtime has):
/// CONV_2D, DEPTHWISE_CONV_2D (any depth multiplier), FULLY_CONNECTED, AVERAGE_POOL_2D,
/// MAX_POOL_2D, ADD (same shapes), RESHAPE and SQUEEZE, SOFTMAX, RELU and RELU6 (kdc's CLAMP, when
/// they keep the input's quantization), and QUANTIZE / DEQUANTIZE at the model's
/// edges (a float input or output: `floatInput` / `floatOutput`); SAME or VALID padding, any
/// stride, fused NONE / RELU / RELU6 / RELU_N1_TO_1; per-tensor or per-channel int8 weights with
/// zero point 0 and int32 biases. Anything else is a `KDCError.format` naming the file, the
/// operator's index and op, and what kdc supports.
///
/// The parameters follow LiteRT's reference kernels (`TFLiteArithmetic`, docs/QUANTIZATION.md §8):
/// conv and depthwise per channel the real multiplier s_in·s_w[c]/s_out in double, encoded as
/// (M, e) (TFLite's QuantizeMultiplier); fully connected that double itself (its two words in the
/// multiplier and shift arrays); ADD a left shift of 20 and the multipliers s_a/(2·max),
/// s_b/(2·max), 2·max/(2^20·s_out); SOFTMAX its input multiplier and diff_min from β and s_in;
/// fused activation bounds are z + round(bound/s) computed in float and clamped to int8
/// (CalculateActivationRangeQuantized); SAME padding puts ⌊total/2⌋ before, as
/// ComputePaddingHeightWidth does. Per-tensor weights become per-channel with one value repeated.
public enum TFLiteImporter {
    /// What kdc imports, for messages.
    public static let supported =
        "kdc imports CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, ADD, RESHAPE, SQUEEZE, SOFTMAX, "
        + "RELU, RELU6 (same quantization in and out), "
        + "and QUANTIZE/DEQUANTIZE at the model's input and output, on int8 tensors"

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
        /// TFLite tensor index → kdc tensor id.
        var ids: [Int: TensorID] = [:]
        var tensors: [GraphTensor] = []
        var nodes: [GraphNode] = []

        init(_ m: TFLiteModel, file: String) throws {
            self.m = m
            self.file = file
            guard m.subgraphs.count == 1 else {
                throw KDCError.format(
                    file: file,
                    message:
                        "the model has \(m.subgraphs.count) subgraphs; kdc imports models with exactly one (no control flow)")
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

        func fail(_ i: Int, _ message: String) -> KDCError {
            fail("operator \(i) (\(opName(i))): \(message)")
        }

        func opName(_ i: Int) -> String { m.operatorCodes[Int(sg.operators[i].opcodeIndex)].name }

        func tensor(_ idx: Int32) -> TFLiteTensor { sg.tensors[Int(idx)] }

        func data(_ t: TFLiteTensor) -> [UInt8] { m.buffers[Int(t.buffer)].data }

        /// The per-sample shape of an activation: the batch (first) dimension must be 1 and is
        /// dropped; [1, C] → [C], [1, H, W, C] → [H, W, C].
        func sampleShape(_ t: TFLiteTensor, _ what: String) throws -> [Int] {
            let s = t.shape.map { Int($0) }
            guard s.count == 2 || s.count == 4, s[0] == 1, s.allSatisfy({ $0 >= 1 }) else {
                throw fail(
                    "\(what) '\(t.name)' has shape \(t.shape); kdc imports activations of shape [1, C] or [1, H, W, C] (batch 1)")
            }
            return Array(s.dropFirst())
        }

        /// The (scale, zero point) of an int8 activation tensor, checked.
        func quant(_ t: TFLiteTensor, _ what: String) throws -> QuantParams {
            guard t.type == .int8 else {
                let hint =
                    t.type == .int16
                    ? " (int16 activations are not supported)"
                    : t.type == .float32
                        ? " (a float model: convert it with the TFLite converter's full-integer int8 quantization)" : ""
                throw fail("\(what) '\(t.name)' is \(t.type.name); kdc imports int8 activations\(hint)")
            }
            guard let q = t.quantization, q.scale.count == 1, q.zeroPoint.count == 1 else {
                throw fail("\(what) '\(t.name)' has no per-tensor quantization (one scale and one zero point expected)")
            }
            guard q.scale[0].isFinite, q.scale[0] > 0 else {
                throw fail("\(what) '\(t.name)' has scale \(q.scale[0]); a positive finite scale is expected")
            }
            guard (-128...127).contains(q.zeroPoint[0]) else {
                throw fail("\(what) '\(t.name)' has zero point \(q.zeroPoint[0]); int8 needs −128...127")
            }
            return QuantParams(scale: q.scale[0], zeroPoint: Int32(q.zeroPoint[0]))
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

        /// Adds the tensor `op` writes and the node writing it (canonical numbering).
        mutating func add(_ i: Int, op: Op, inputs: [TensorID], activation: Activation, int8: Int8Params) throws {
            let o = sg.operators[i]
            guard o.outputs.count == 1, o.outputs[0] >= 0 else { throw fail(i, "kdc imports operators with one output") }
            let t = tensor(o.outputs[0])
            guard ids[Int(o.outputs[0])] == nil else { throw fail(i, "output '\(t.name)' is written by an earlier operator too") }
            let shape = try sampleShape(t, "output")
            guard shape.allSatisfy({ $0 <= 0xFFFF }) else {
                throw fail(i, "output '\(t.name)' has shape \(t.shape); kdc's artifact holds dimensions up to 65535")
            }
            let q = try quant(t, "output")
            tensors.append(GraphTensor(name: t.name, shape: shape, type: .int8, quant: q))
            let id = TensorID(tensors.count - 1)
            ids[Int(o.outputs[0])] = id
            let name = "\(opName(i).lowercased())_\(i)"
            nodes.append(GraphNode(name: name, op: op, inputs: inputs, output: id, activation: activation, int8: int8))
            // Where kdc infers the shape, it must be TFLite's.
            if op != .reshape {
                let inferred = try op.outputShape(inputs.map { tensors[$0.index].shape }, layer: name)
                guard inferred == shape else {
                    throw fail(i, "output '\(t.name)' has shape \(t.shape) but the op gives \([1] + inferred)")
                }
            }
        }

        /// Fused activation → (kdc activation, int8 bounds), as TFLite's CalculateActivationRangeQuantized.
        func activation(_ a: TFLiteActivation, _ q: QuantParams, _ i: Int) throws -> (Activation, Int32, Int32) {
            func at(_ f: Float) -> Int32 {
                let r = (f / q.scale).rounded()  // TfLiteRound in float
                return Int32(max(-1e9, min(1e9, r))) + q.zeroPoint
            }
            switch a {
            case .none: return (.none, -128, 127)
            case .relu: return (.relu, max(-128, at(0)), 127)
            case .relu6: return (.relu6, max(-128, at(0)), min(127, at(6)))
            case .reluN1To1: return (.none, max(-128, at(-1)), min(127, at(1)))
            case .tanh, .signBit:
                throw fail(i, "fused activation \(a) is not supported (kdc fuses NONE, RELU, RELU6, RELU_N1_TO_1)")
            }
        }

        /// Int8 weights (+ bias, per-channel (M, e)) of a conv, depthwise or fully connected op.
        /// `channelDim` is the weight dimension holding the output channels.
        func weights(_ i: Int, rank: Int, channelDim: Int, outScale: Float, inScale: Float, doubleScales: Bool = false) throws
            -> Int8Weights
        {
            let op = sg.operators[i]
            let w = try weightTensor(i, rank: rank)
            guard w.type == .int8 else {
                throw fail(i, "weights '\(w.name)' are \(w.type.name); kdc imports int8 weights")
            }
            let values = data(w)
            guard !values.isEmpty else {
                throw fail(i, "weights '\(w.name)' are not constant (no buffer); kdc imports constant weights")
            }
            let cout = Int(w.shape[channelDim])
            guard let q = w.quantization, q.scale.count == 1 || q.scale.count == cout else {
                throw fail(i, "weights '\(w.name)' need one scale or one per output channel (\(cout))")
            }
            if q.scale.count > 1 && Int(q.quantizedDimension) != channelDim {
                throw fail(
                    i,
                    "weights '\(w.name)' are quantized along dimension \(q.quantizedDimension); kdc expects the output channel, dimension \(channelDim)"
                )
            }
            guard q.zeroPoint.allSatisfy({ $0 == 0 }) else {
                throw fail(i, "weights '\(w.name)' have a non-zero zero point; int8 weights must be symmetric (zero point 0)")
            }
            let scales = q.scale.count == 1 ? [Float](repeating: q.scale[0], count: cout) : q.scale
            var bias = [Int32](repeating: 0, count: cout)
            if op.inputs.count >= 3, op.inputs[2] >= 0 {
                let bt = tensor(op.inputs[2])
                guard bt.type == .int32, bt.count == cout else {
                    throw fail(i, "bias '\(bt.name)' is \(bt.type.name) \(bt.shape); kdc imports an int32 bias of \(cout) values")
                }
                let d = data(bt)
                guard d.count == 4 * cout else {
                    throw fail(i, "bias '\(bt.name)' is not constant (no buffer); kdc imports a constant bias")
                }
                for c in 0..<cout {
                    var v: UInt32 = 0
                    for k in 0..<4 { v |= UInt32(d[4 * c + k]) << (8 * UInt32(k)) }
                    bias[c] = Int32(bitPattern: v)
                }
            }
            var mult: [Int32] = [], shift: [Int32] = []
            for c in 0..<cout {
                guard scales[c].isFinite, scales[c] > 0 else {
                    throw fail(i, "weights '\(w.name)' channel \(c) has scale \(scales[c]); a positive finite scale is expected")
                }
                let real = TFLiteArithmetic.convMultiplier(inputScale: inScale, weightScale: scales[c], outputScale: outScale)
                if doubleScales {
                    // FULLY_CONNECTED: LiteRT's reference kernel multiplies by the double itself.
                    let words = TFLiteArithmetic.scaleWords(real)
                    mult.append(words.low); shift.append(words.high)
                } else {
                    let e = try TFLiteArithmetic.quantizeMultiplier(
                        real, what: "\(file): operator \(i) (\(opName(i))) channel \(c)")
                    mult.append(e.M); shift.append(e.e)
                }
            }
            let shape: [Int]
            switch channelDim {
            case 3: shape = w.shape.dropFirst().map { Int($0) }  // depthwise [1, KH, KW, C] → [KH, KW, C]
            default: shape = w.shape.map { Int($0) }
            }
            return Int8Weights(
                values: values.map { Int8(bitPattern: $0) }, shape: shape, scales: scales, bias: bias, multipliers: mult,
                shifts: shift)
        }

        /// Input 1 of operator `i`, with `rank` dimensions.
        func weightTensor(_ i: Int, rank: Int) throws -> TFLiteTensor {
            let op = sg.operators[i]
            guard op.inputs.count >= 2, op.inputs[1] >= 0 else { throw fail(i, "the weights (input 1) are missing") }
            let w = tensor(op.inputs[1])
            guard w.shape.count == rank, w.shape.allSatisfy({ $0 >= 1 }) else {
                throw fail(i, "weights '\(w.name)' have shape \(w.shape); \(rank) positive dimensions expected")
            }
            return w
        }

        func padding(_ p: TFLitePadding) -> Padding { p == .same ? .same : .valid }

        func stride(_ h: Int32, _ w: Int32, _ i: Int) throws -> Size2 {
            guard h >= 1, w >= 1 else { throw fail(i, "stride \(h)x\(w); strides must be ≥ 1") }
            return Size2(Int(h), Int(w))
        }

        mutating func build() throws -> Graph {
            var floatInput = false, floatOutput = false
            var first = 0, last = sg.operators.count
            var inputIndex = sg.inputs[0], outputIndex = sg.outputs[0]
            // QUANTIZE at the input edge: float32 in, the op's int8 output is kdc's input.
            if let op = sg.operators.first, m.opcode(of: op) == TFLiteOp.quantize, op.inputs.first == inputIndex,
                tensor(inputIndex).type == .float32, op.outputs.count == 1
            {
                floatInput = true
                inputIndex = op.outputs[0]
                first = 1
            }
            // DEQUANTIZE at the output edge: kdc's output is its int8 input.
            if last > first, let op = sg.operators.last, m.opcode(of: op) == TFLiteOp.dequantize,
                op.outputs.first == outputIndex, tensor(outputIndex).type == .float32, op.inputs.count == 1, op.inputs[0] >= 0
            {
                floatOutput = true
                outputIndex = op.inputs[0]
                last -= 1
            }
            let x = tensor(inputIndex)
            guard x.shape.allSatisfy({ $0 <= 0xFFFF }) else {
                throw fail("the model input '\(x.name)' has shape \(x.shape); kdc's artifact holds dimensions up to 65535")
            }
            tensors.append(
                GraphTensor(
                    name: x.name, shape: try sampleShape(x, "the model input"), type: .int8,
                    quant: try quant(x, "the model input")))
            ids[Int(inputIndex)] = TensorID(0)
            guard first < last else { throw fail("the model has no operator kdc can run (\(supported))") }
            for i in first..<last { try importOp(i) }
            guard let out = ids[Int(outputIndex)] else {
                throw fail("the model output '\(tensor(outputIndex).name)' is not written by any operator")
            }
            guard out.index == tensors.count - 1 else {
                throw fail(
                    "the model output '\(tensor(outputIndex).name)' is not written by the last operator; kdc runs the ops up to the output"
                )
            }
            var g = Graph(tensors: tensors, nodes: nodes, input: TensorID(0), output: out)
            // The work must be countable (Graph.macs adds without overflow checks).
            var total = 0
            for n in g.nodes {
                let x = g[n.inputs[0]].shape, y = g[n.output].count
                var perOutput = 0
                switch n.op {
                case .dense: perOutput = x.reduce(1, *)
                case let .conv2d(_, k, _, _): perOutput = k.h * k.w * (x.last ?? 1)
                case let .depthwiseConv2d(k, _, _, _): perOutput = k.h * k.w
                default: break
                }
                let (m, o1) = y.multipliedReportingOverflow(by: perOutput)
                let (t, o2) = total.addingReportingOverflow(m)
                guard !o1, !o2 else { throw fail("the model needs more than 2^63 multiply-accumulates per inference") }
                total = t
            }
            g.arithmetic = .tflite
            g.floatInput = floatInput
            g.floatOutput = floatOutput
            return g
        }

        mutating func importOp(_ i: Int) throws {
            let op = sg.operators[i]
            let code = m.opcode(of: op)
            guard op.outputs.count == 1, op.outputs[0] >= 0 else { throw fail(i, "kdc imports operators with one output") }
            let outT = tensor(op.outputs[0])
            let qOut = try quant(outT, "output")
            switch code {
            case TFLiteOp.conv2d, TFLiteOp.depthwiseConv2d:
                let x = try input(i, 0)
                let qIn = tensors[x.index].quant!
                let depthwise = code == TFLiteOp.depthwiseConv2d
                let (pad, sh, sw, dh, dw, act): (TFLitePadding, Int32, Int32, Int32, Int32, TFLiteActivation)
                switch op.options {
                case let .conv2d(o) where !depthwise:
                    (pad, sh, sw, dh, dw, act) = (o.padding, o.strideH, o.strideW, o.dilationH, o.dilationW, o.activation)
                case let .depthwiseConv2d(o) where depthwise:
                    (pad, sh, sw, dh, dw, act) = (o.padding, o.strideH, o.strideW, o.dilationH, o.dilationW, o.activation)
                default: throw fail(i, "options are \(op.options), not the op's own")
                }
                guard dh == 1, dw == 1 else {
                    throw fail(i, "dilation \(dh)x\(dw); kdc supports dilation 1 only")
                }
                let w = try weights(i, rank: 4, channelDim: depthwise ? 3 : 0, outScale: qOut.scale, inScale: qIn.scale)
                let ws = w.shape.count == 4 ? w.shape : [1] + w.shape  // depthwise: [KH, KW, C] → [1, KH, KW, C]
                let cin = tensors[x.index].shape.last ?? 0
                let kernel = Size2(ws[1], ws[2]), s = try stride(sh, sw, i)
                let kop: Op
                if depthwise {
                    guard ws[0] == 1, cin > 0, ws[3] % cin == 0 else {
                        throw fail(
                            i, "depthwise weights \(ws) do not fit \(cin) input channels ([1, KH, KW, Cin·multiplier] expected)")
                    }
                    kop = .depthwiseConv2d(kernel: kernel, stride: s, padding: padding(pad), multiplier: ws[3] / cin)
                } else {
                    guard ws[3] == cin else {
                        throw fail(i, "weights \(ws) do not fit \(cin) input channels ([Cout, KH, KW, Cin] expected)")
                    }
                    kop = .conv2d(filters: ws[0], kernel: kernel, stride: s, padding: padding(pad))
                }
                let (a, lo, hi) = try activation(act, qOut, i)
                try add(i, op: kop, inputs: [x], activation: a, int8: Int8Params(actMin: lo, actMax: hi, weights: w))
            case TFLiteOp.fullyConnected:
                guard case let .fullyConnected(o) = op.options else { throw fail(i, "options are \(op.options)") }
                guard o.weightsFormat == 0 else {
                    throw fail(i, "weights format \(o.weightsFormat) (shuffled); kdc imports the DEFAULT format")
                }
                let x = try input(i, 0)
                let qIn = tensors[x.index].quant!
                let ws = try weightTensor(i, rank: 2).shape.map { Int($0) }
                guard ws[1] == tensors[x.index].count else {
                    throw fail(
                        i,
                        "weights have shape \(ws); [N, \(tensors[x.index].count)] expected for an input of \(tensors[x.index].shape) (batch 1)"
                    )
                }
                let w = try weights(i, rank: 2, channelDim: 0, outScale: qOut.scale, inScale: qIn.scale, doubleScales: true)
                let (a, lo, hi) = try activation(o.activation, qOut, i)
                try add(
                    i, op: .dense(units: ws[0]), inputs: [x], activation: a, int8: Int8Params(actMin: lo, actMax: hi, weights: w))
            case TFLiteOp.averagePool2d, TFLiteOp.maxPool2d:
                guard case let .pool2d(o) = op.options else { throw fail(i, "options are \(op.options)") }
                let x = try input(i, 0)
                guard tensors[x.index].quant! == qOut else {
                    throw fail(i, "input and output quantization differ; TFLite's int8 pools keep the input's")
                }
                guard o.filterHeight >= 1, o.filterWidth >= 1 else {
                    throw fail(i, "filter \(o.filterHeight)x\(o.filterWidth); filters must be ≥ 1")
                }
                let k = Size2(Int(o.filterHeight), Int(o.filterWidth)), s = try stride(o.strideH, o.strideW, i)
                let kop: Op =
                    code == TFLiteOp.maxPool2d
                    ? .maxPool2d(pool: k, stride: s, padding: padding(o.padding))
                    : .avgPool2d(pool: k, stride: s, padding: padding(o.padding))
                let (a, lo, hi) = try activation(o.activation, qOut, i)
                try add(i, op: kop, inputs: [x], activation: a, int8: Int8Params(actMin: lo, actMax: hi))
            case TFLiteOp.add:
                guard case let .add(act) = op.options else { throw fail(i, "options are \(op.options)") }
                let a = try input(i, 0), b = try input(i, 1)
                guard tensors[a.index].shape == tensors[b.index].shape else {
                    throw fail(
                        i,
                        "inputs of shapes \(tensors[a.index].shape) and \(tensors[b.index].shape); kdc adds tensors of the same shape (no broadcasting)"
                    )
                }
                let p: AddParams
                do {
                    p = try TFLiteArithmetic.addParams(
                        tensors[a.index].quant!.scale, tensors[b.index].quant!.scale, output: qOut.scale)
                } catch let e as KDCError {
                    throw fail(i, "\(e)")
                }
                let (fa, lo, hi) = try activation(act, qOut, i)
                try add(i, op: .add, inputs: [a, b], activation: fa, int8: Int8Params(actMin: lo, actMax: hi, add: p))
            case TFLiteOp.softmax:
                guard case let .softmax(beta) = op.options else { throw fail(i, "options are \(op.options)") }
                let x = try input(i, 0)
                guard beta.isFinite, beta > 0 else { throw fail(i, "beta \(beta); a finite beta > 0 is expected") }
                // TFLite's int8 softmax writes probabilities with scale 1/256 and zero point −128.
                guard qOut.scale == 1.0 / 256, qOut.zeroPoint == -128 else {
                    throw fail(
                        i,
                        "output '\(outT.name)' has scale \(qOut.scale) and zero point \(qOut.zeroPoint); TFLite's int8 softmax writes scale 1/256, zero point -128"
                    )
                }
                let p: SoftmaxParams
                do {
                    p = try TFLiteArithmetic.softmaxParams(beta: beta, inputScale: tensors[x.index].quant!.scale)
                } catch let e as KDCError {
                    throw fail(i, "\(e)")
                }
                try add(i, op: .softmax(beta: beta), inputs: [x], activation: .none, int8: Int8Params(softmax: p))
            case TFLiteOp.reshape, TFLiteOp.squeeze:
                let x = try input(i, 0)
                guard tensors[x.index].quant! == qOut else {
                    throw fail(i, "input and output quantization differ; a reshape keeps the input's")
                }
                let shape = try sampleShape(outT, "output")
                guard shape.reduce(1, *) == tensors[x.index].count else {
                    throw fail(i, "output shape \(outT.shape) has another element count than the input")
                }
                try add(i, op: .reshape, inputs: [x], activation: .none, int8: Int8Params())
            case TFLiteOp.relu, TFLiteOp.relu6:
                // kdc's CLAMP: TFLite's int8 RELU / RELU6 rescale by s_in/s_out (exactly 1 here) and clamp.
                let x = try input(i, 0)
                guard tensors[x.index].quant! == qOut else {
                    throw fail(i, "input and output quantization differ; kdc imports a RELU that keeps the input's")
                }
                let (a, lo, hi) = try activation(code == TFLiteOp.relu ? .relu : .relu6, qOut, i)
                try add(i, op: .clamp, inputs: [x], activation: a, int8: Int8Params(actMin: lo, actMax: hi))
            case TFLiteOp.quantize, TFLiteOp.dequantize:
                throw fail(
                    i,
                    "\(opName(i)) inside the model; kdc imports QUANTIZE only as the first operator (float input) and DEQUANTIZE only as the last (float output)"
                )
            default:
                throw fail(i, "not supported; \(supported)")
            }
        }
    }
}
