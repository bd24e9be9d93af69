/// Writes a kdc `Graph` as a TensorFlow Lite model (`TFLiteModel`, encoded by `TFLiteWriter`):
/// the other direction of `TFLiteImporter` / `TFLiteFloatImporter` (docs/TFLITE.md).
///
/// Tensor i of the model is kdc's tensor i (same names, shapes with a batch of 1 in front);
/// constants (weights, biases, reshape shapes) follow, each with its own buffer (buffer 0 is the
/// empty sentinel every activation points to). Weights go to TFLite's layouts: conv HWIO / OHWI
/// → OHWI `[Cout, KH, KW, Cin]`, depthwise → `[1, KH, KW, C·m]`, dense `[K, N]` / `[N][K]` →
/// `[N, K]`.
public enum TFLiteExporter {
    /// The float graph `graph` (with `FloatParams`; batch norm, dropout, flatten and ReLUs are
    /// lowered first, `Graph.lowered()`) as a float32 model: CONV_2D, DEPTHWISE_CONV_2D,
    /// FULLY_CONNECTED, MAX_POOL_2D, AVERAGE_POOL_2D, ADD, RESHAPE, SOFTMAX with fused RELU /
    /// RELU6, and RELU / RELU6 ops for kdc's clamps.
    /// - Throws: `KDCError.graph` naming a node kdc cannot write (global_avg_pool, leaky_relu).
    public static func floatModel(_ graph: Graph, description: String = "kdc float model") throws -> TFLiteModel {
        let g = try graph.lowered()
        var b = ModelBuilder()
        for t in g.tensors { b.activation(t.name, t.shape, .float32) }
        for node in g.nodes {
            let x = Int32(node.inputs[0].index), y = Int32(node.output.index)
            let act = try fused(node)
            switch node.op {
            case .conv2d, .depthwiseConv2d, .dense:
                guard case let .affine(w, bias) = node.params else {
                    throw KDCError.graph(layer: node.name, message: "\(node.op.kind) has no float weights to write")
                }
                let (shape, values) = floatWeights(node.op, w.data, input: g[node.inputs[0]].shape)
                let wi = b.constant(node.name + "/weights", shape, .float32, floats(values))
                let bi = b.constant(node.name + "/bias", [Int32(bias.count)], .float32, floats(bias.data))
                b.op(try weightedOptions(node, g, act), [x, wi, bi], y, version: 1)
            default:
                try b.plainOp(node, g, act: act, version: 1)
            }
        }
        return b.model(input: Int32(g.input.index), output: Int32(g.output.index), description: description)
    }

    /// The int8 graph `g`, in TensorFlow Lite arithmetic (`g.arithmetic == .tflite`: the
    /// parameters TFLite derives from the scales, `tfliteArithmetic()`), as an int8 model that
    /// LiteRT's reference kernels compute byte for byte as kdc's runtime computes `g`:
    /// CONV_2D (v3), DEPTHWISE_CONV_2D (v3), FULLY_CONNECTED (v4) with per-channel int8 weights
    /// (quantized dimension 0, 3 and 0) and int32 biases of scale s_in·s_w[c]; MAX_POOL_2D,
    /// AVERAGE_POOL_2D, ADD, SOFTMAX, RELU / RELU6 for kdc's clamps (v2); RESHAPE (v1) with its
    /// shape tensor; fused NONE / RELU / RELU6 / RELU_N1_TO_1; QUANTIZE (v1) and DEQUANTIZE (v2)
    /// at a float input or output edge (`floatInput`, `floatOutput`).
    ///
    /// Every parameter the artifact carries is checked against what LiteRT derives from the
    /// file (multipliers, double scales, ADD and SOFTMAX parameters, clamp bounds, kept
    /// quantizations): a graph that would compute other bytes is an error naming the node.
    /// - Throws: `KDCError.graph` naming the node (kdc arithmetic, global_avg_pool, leaky_relu,
    ///   a parameter TFLite derives otherwise, weights without their scales).
    public static func int8Model(_ g: Graph, description: String = "kdc int8 model") throws -> TFLiteModel {
        guard g.arithmetic == .tflite else {
            throw KDCError.graph(
                layer: g.nodes.first?.name ?? "input",
                message:
                    "the graph follows kdc's arithmetic; a .tflite computes TFLite's: convert it first (Graph.tfliteArithmetic())"
            )
        }
        var b = ModelBuilder()
        for (i, t) in g.tensors.enumerated() {
            guard t.type == .int8, let q = t.quant else {
                throw KDCError.graph(layer: t.name, message: "tensor \(i) is not int8 with a scale and zero point")
            }
            b.activation(t.name, t.shape, .int8, TFLiteQuantization(scale: [q.scale], zeroPoint: [Int64(q.zeroPoint)]))
        }
        var input = Int32(g.input.index), output = Int32(g.output.index)
        if g.floatInput {
            let x = g[g.input]
            input = b.activation(x.name + "_float", x.shape, .float32)
            b.op((TFLiteOp.quantize, .none), [input], Int32(g.input.index), version: 1)
        }
        for node in g.nodes {
            let p = node.int8 ?? Int8Params()
            let act = try int8Activation(node, g, p)
            let x = Int32(node.inputs[0].index), y = Int32(node.output.index)
            let sIn = g[node.inputs[0]].quant!.scale, qOut = g[node.output].quant!
            switch node.op {
            case .conv2d, .depthwiseConv2d, .dense:
                guard let w = p.weights else { throw KDCError.graph(layer: node.name, message: "no int8 weights") }
                let cout = w.bias.count
                guard w.scales.count == cout, w.multipliers.count == cout, w.shifts.count == cout else {
                    throw KDCError.graph(
                        layer: node.name,
                        message:
                            "the weights carry \(w.scales.count) scales for \(cout) output channels; TFLite needs the weight scales (an artifact read back has none)"
                    )
                }
                let dense = node.op.kind == "dense"
                for c in 0..<cout {
                    let real = TFLiteArithmetic.convMultiplier(inputScale: sIn, weightScale: w.scales[c], outputScale: qOut.scale)
                    let ok: Bool
                    if dense {
                        let words = TFLiteArithmetic.scaleWords(real)
                        ok = words.low == w.multipliers[c] && words.high == w.shifts[c]
                    } else {
                        let e = try TFLiteArithmetic.quantizeMultiplier(real, what: "layer '\(node.name)' channel \(c)")
                        ok = e.M == w.multipliers[c] && e.e == w.shifts[c]
                    }
                    guard ok else { throw mismatch(node, "channel \(c)'s multiplier") }
                }
                let shape: [Int32]
                switch node.op {
                case .depthwiseConv2d: shape = [1] + w.shape.map { Int32($0) }  // [KH, KW, C·m] → [1, KH, KW, C·m]
                default: shape = w.shape.map { Int32($0) }  // OHWI, [N, K]
                }
                let wq = TFLiteQuantization(
                    scale: w.scales, zeroPoint: [Int64](repeating: 0, count: cout),
                    quantizedDimension: node.op.kind == "depthwise_conv2d" ? 3 : 0)
                let wi = b.constant(node.name + "/weights", shape, .int8, w.values.map { UInt8(bitPattern: $0) }, wq)
                let bq = TFLiteQuantization(
                    scale: w.scales.map { sIn * $0 }, zeroPoint: [Int64](repeating: 0, count: cout), quantizedDimension: 0)
                let bi = b.constant(
                    node.name + "/bias", [Int32(cout)], .int32, w.bias.flatMap { le32(UInt32(bitPattern: $0)) }, bq)
                b.op(
                    try weightedOptions(node, g, act), [x, wi, bi], y,
                    version: dense ? 4 : 3)
            case .add:
                let e = try TFLiteArithmetic.addParams(sIn, g[node.inputs[1]].quant!.scale, output: qOut.scale)
                guard p.add == e else { throw mismatch(node, "ADD parameters") }
                try b.plainOp(node, g, act: act, version: 2)
            case let .softmax(beta):
                guard qOut.scale == 1.0 / 256, qOut.zeroPoint == -128 else {
                    throw KDCError.graph(
                        layer: node.name, message: "TFLite's int8 SOFTMAX writes scale 1/256 and zero point -128")
                }
                guard p.softmax == (try TFLiteArithmetic.softmaxParams(beta: beta, inputScale: sIn)) else {
                    throw mismatch(node, "SOFTMAX parameters")
                }
                try b.plainOp(node, g, act: act, version: 2)
            case .maxPool2d, .avgPool2d, .reshape, .clamp:
                guard g[node.inputs[0]].quant.map({ ($0.scale, $0.zeroPoint) }) ?? (0, 0) == (qOut.scale, qOut.zeroPoint) else {
                    throw KDCError.graph(
                        layer: node.name, message: "\(node.op.kind) changes the quantization; TFLite's int8 op keeps its input's")
                }
                try b.plainOp(node, g, act: act, version: node.op == .reshape ? 1 : 2)
            default:
                try b.plainOp(node, g, act: act, version: 2)  // the errors for ops TFLite cannot compute as kdc
            }
        }
        if g.floatOutput {
            let t = g[g.output]
            let f = b.activation(t.name + "_float", t.shape, .float32)
            b.op((TFLiteOp.dequantize, .none), [output], f, version: 2)
            output = f
        }
        return b.model(input: input, output: output, description: description)
    }

    /// True when `a` and `b` are the same int8 model: equal but for node names (the importer
    /// names nodes after their ops) and calibrated ranges (a `.tflite` has none).
    public static func sameModel(_ a: Graph, _ b: Graph) -> Bool {
        func plain(_ g: Graph) -> Graph {
            var g = g
            for i in g.nodes.indices { g.nodes[i].name = "" }
            for i in g.tensors.indices { g.tensors[i].quant?.calibratedRange = nil }
            g.inputStage = nil  // a .tflite has no input stage
            return g
        }
        return plain(a) == plain(b)
    }

    static func mismatch(_ node: GraphNode, _ what: String) -> KDCError {
        .graph(
            layer: node.name,
            message:
                "\(what) differ from what TFLite derives from the scales, so LiteRT would compute other bytes; convert the graph with Graph.tfliteArithmetic()"
        )
    }

    /// TFLite's int8 bounds of a fused activation (CalculateActivationRangeQuantized: z + round(bound/s),
    /// the quotient in float32, clamped to int8).
    static func tfliteBounds(_ a: TFLiteActivation, scale s: Float, zeroPoint z: Int32) -> (Int32, Int32) {
        func at(_ f: Float) -> Int32 { Int32(max(-1e9, min(1e9, (f / s).rounded()))) + z }
        switch a {
        case .relu: return (max(-128, at(0)), 127)
        case .relu6: return (max(-128, at(0)), min(127, at(6)))
        case .reluN1To1: return (max(-128, at(-1)), min(127, at(1)))
        default: return (-128, 127)
        }
    }

    /// The fused activation TFLite's op needs so that its bounds are the node's: the node's
    /// activation, or RELU_N1_TO_1 for an imported one (kdc keeps only its bounds).
    static func int8Activation(_ node: GraphNode, _ g: Graph, _ p: Int8Params) throws -> TFLiteActivation {
        let q = g[node.output].quant!
        let have = (p.actMin, p.actMax)
        var a = try fused(node)
        if node.op == .clamp || node.op == .reshape || node.op.kind == "softmax" {
            // RELU / RELU6 ops carry their bounds in the op; RESHAPE and SOFTMAX have none.
            let want = node.op == .clamp ? tfliteBounds(a, scale: q.scale, zeroPoint: q.zeroPoint) : (-128, 127)
            guard have == want else { throw boundsError(node, have, want) }
            return .none
        }
        if a == .none && have != (-128, 127)
            && have == tfliteBounds(.reluN1To1, scale: q.scale, zeroPoint: q.zeroPoint)
        {
            a = .reluN1To1
        }
        let want = tfliteBounds(a, scale: q.scale, zeroPoint: q.zeroPoint)
        guard have == want else { throw boundsError(node, have, want) }
        return a
    }

    static func boundsError(_ node: GraphNode, _ have: (Int32, Int32), _ want: (Int32, Int32)) -> KDCError {
        .graph(
            layer: node.name,
            message:
                "output clamp [\(have.0), \(have.1)] is not TFLite's for its activation ([\(want.0), \(want.1)]); convert the graph with Graph.tfliteArithmetic()"
        )
    }

    /// The float weights in TFLite's layout (shapes from the op and its input shape): conv HWIO
    /// → OHWI, depthwise [KH, KW, C] → [1, KH, KW, C] (same order), dense [K, N] → [N, K].
    static func floatWeights(_ op: Op, _ w: [Float], input: [Int]) -> ([Int32], [Float]) {
        switch op {
        case let .conv2d(co, k, _, _):
            let (kh, kw, ci) = (k.h, k.w, input.last ?? 1)
            var out = [Float](repeating: 0, count: w.count)
            for o in 0..<co {
                for y in 0..<kh {
                    for x in 0..<kw {
                        for c in 0..<ci { out[((o * kh + y) * kw + x) * ci + c] = w[((y * kw + x) * ci + c) * co + o] }
                    }
                }
            }
            return ([co, kh, kw, ci].map { Int32($0) }, out)
        case let .depthwiseConv2d(k, _, _, m):
            return ([1, k.h, k.w, (input.last ?? 1) * m].map { Int32($0) }, w)
        default:
            let k = input.reduce(1, *), n = w.count / max(k, 1)
            var out = [Float](repeating: 0, count: w.count)
            for r in 0..<k { for c in 0..<n { out[c * k + r] = w[r * n + c] } }
            return ([Int32(n), Int32(k)], out)
        }
    }

    /// The fused activation of a node that can carry one.
    static func fused(_ node: GraphNode) throws -> TFLiteActivation {
        switch node.activation {
        case .none: return .none
        case .relu: return .relu
        case .relu6: return .relu6
        }
    }

    /// TFLite's padding for a window op: SAME or VALID, or the one an explicit padding (an
    /// artifact read back) equals.
    static func padding(_ node: GraphNode, _ g: Graph) throws -> TFLitePadding {
        guard let w = node.op.window else { return .valid }
        switch w.padding {
        case .same: return .same
        case .valid: return .valid
        case let .explicit(top, left):
            let x = g[node.inputs[0]].shape, y = g[node.output].shape
            for (p, tp) in [(Padding.same, TFLitePadding.same), (.valid, .valid)] {
                let a = p.output(x[0], kernel: w.kernel.h, stride: w.stride.h)
                let b = p.output(x[1], kernel: w.kernel.w, stride: w.stride.w)
                if a.out == y[0], b.out == y[1], a.padBefore == top, b.padBefore == left { return tp }
            }
            throw KDCError.graph(
                layer: node.name,
                message: "padding \(w.padding) is neither TFLite's SAME nor VALID for input \(x) and output \(y)")
        }
    }

    /// The options of a conv, depthwise or dense node.
    static func weightedOptions(_ node: GraphNode, _ g: Graph, _ act: TFLiteActivation) throws -> (Int32, TFLiteOptions) {
        switch node.op {
        case let .conv2d(_, _, s, _):
            let o = TFLiteConv2DOptions(
                padding: try padding(node, g), strideW: Int32(s.w), strideH: Int32(s.h), activation: act)
            return (TFLiteOp.conv2d, .conv2d(o))
        case let .depthwiseConv2d(_, s, _, m):
            let o = TFLiteDepthwiseConv2DOptions(
                padding: try padding(node, g), strideW: Int32(s.w), strideH: Int32(s.h), depthMultiplier: Int32(m),
                activation: act)
            return (TFLiteOp.depthwiseConv2d, .depthwiseConv2d(o))
        default:
            return (TFLiteOp.fullyConnected, .fullyConnected(TFLiteFullyConnectedOptions(activation: act)))
        }
    }

    static func floats(_ v: [Float]) -> [UInt8] { v.flatMap { le32($0.bitPattern) } }

    /// The model under construction: operator codes in first-use order, tensors, buffers, operators.
    struct ModelBuilder {
        var codes: [TFLiteOperatorCode] = []
        var tensors: [TFLiteTensor] = []
        var buffers: [TFLiteBuffer] = [TFLiteBuffer()]
        var operators: [TFLiteOperator] = []

        /// An activation tensor (no buffer) of per-sample `shape`, with a batch of 1 in front.
        @discardableResult
        mutating func activation(
            _ name: String, _ shape: [Int], _ type: TFLiteTensorType, _ q: TFLiteQuantization? = nil
        ) -> Int32 {
            tensors.append(TFLiteTensor(shape: [1] + shape.map { Int32($0) }, type: type, name: name, quantization: q))
            return Int32(tensors.count - 1)
        }

        /// A constant tensor with its own buffer.
        mutating func constant(
            _ name: String, _ shape: [Int32], _ type: TFLiteTensorType, _ bytes: [UInt8], _ q: TFLiteQuantization? = nil
        ) -> Int32 {
            buffers.append(TFLiteBuffer(bytes))
            tensors.append(
                TFLiteTensor(shape: shape, type: type, buffer: UInt32(buffers.count - 1), name: name, quantization: q))
            return Int32(tensors.count - 1)
        }

        /// Appends an operator; its code (with `version`) is added on first use.
        mutating func op(_ codeAndOptions: (Int32, TFLiteOptions), _ inputs: [Int32], _ output: Int32, version: Int32) {
            let (code, options) = codeAndOptions
            let k: Int
            if let i = codes.firstIndex(where: { $0.code == code && $0.version == version }) {
                k = i
            } else {
                codes.append(TFLiteOperatorCode(builtin: code, version: version))
                k = codes.count - 1
            }
            operators.append(TFLiteOperator(opcodeIndex: UInt32(k), inputs: inputs, outputs: [output], options: options))
        }

        /// The ops without weights: pools, ADD, RESHAPE, SOFTMAX and clamps (RELU / RELU6).
        mutating func plainOp(_ node: GraphNode, _ g: Graph, act: TFLiteActivation, version: Int32) throws {
            let x = Int32(node.inputs[0].index), y = Int32(node.output.index)
            switch node.op {
            case let .maxPool2d(k, s, _), let .avgPool2d(k, s, _):
                let o = TFLitePool2DOptions(
                    padding: try padding(node, g), strideW: Int32(s.w), strideH: Int32(s.h), filterWidth: Int32(k.w),
                    filterHeight: Int32(k.h), activation: act)
                let code = node.op.kind == "max_pool2d" ? TFLiteOp.maxPool2d : TFLiteOp.averagePool2d
                op((code, .pool2d(o)), [x], y, version: version)
            case .add:
                op((TFLiteOp.add, .add(activation: act)), [x, Int32(node.inputs[1].index)], y, version: version)
            case .reshape, .flatten:
                let shape = [1] + g[node.output].shape.map { Int32($0) }
                let s = constant(
                    node.name + "/shape", [Int32(shape.count)], .int32, shape.flatMap { le32(UInt32(bitPattern: $0)) })
                op((TFLiteOp.reshape, .reshape(newShape: shape)), [x, s], y, version: 1)
            case let .softmax(beta):
                op((TFLiteOp.softmax, .softmax(beta: beta)), [x], y, version: version)
            case .clamp, .relu, .relu6:
                let a: Activation = node.op == .relu ? .relu : node.op == .relu6 ? .relu6 : node.activation
                guard a != .none else {
                    throw KDCError.graph(layer: node.name, message: "a clamp without bounds has no TFLite op")
                }
                op((a == .relu ? TFLiteOp.relu : TFLiteOp.relu6, .none), [x], y, version: version)
            case .globalAvgPool:
                throw KDCError.graph(
                    layer: node.name,
                    message:
                        "global_avg_pool has no TFLite op with the same arithmetic (TFLite's MEAN rounds otherwise); "
                        + "hint: use {op: avg_pool2d, pool: [H, W]} and flatten, which TFLite computes as kdc does")
            case .leakyRelu:
                throw KDCError.graph(
                    layer: node.name,
                    message: "leaky_relu is not written to TFLite: kdc's int8 LEAKY_RELU rounds otherwise than TFLite's")
            default:
                throw KDCError.graph(layer: node.name, message: "\(node.op.kind) cannot be written as a TFLite op")
            }
        }

        func model(input: Int32, output: Int32, description: String) -> TFLiteModel {
            let sg = TFLiteSubGraph(tensors: tensors, inputs: [input], outputs: [output], operators: operators, name: "main")
            return TFLiteModel(operatorCodes: codes, subgraphs: [sg], description: description, buffers: buffers)
        }
    }
}

extension Graph {
    /// This int8 graph (kdc's arithmetic, as `quantize` gives it) in TensorFlow Lite's
    /// arithmetic (docs/QUANTIZATION.md §8), with every parameter as TFLite derives it from the
    /// scales: conv and depthwise (M, e) of double(s_in)·double(s_w[c])/double(s_out); dense the
    /// double scale words; ADD's multipliers from `TFLiteArithmetic.addParams`; SOFTMAX's from
    /// `softmaxParams`; fused and clamp bounds z + round(bound/s) with the quotient in float32.
    /// Scales, zero points, weights and biases are unchanged, so the `.kdc` artifact of the
    /// result and `TFLiteExporter.int8Model` of it compute the same bytes.
    /// - Throws: `KDCError.graph` naming a node TFLite cannot compute as kdc (global_avg_pool,
    ///   leaky_relu) or weights without scales.
    public func tfliteArithmetic() throws -> Graph {
        var g = self
        g.arithmetic = .tflite
        for (i, node) in nodes.enumerated() {
            guard var p = node.int8, let qIn = self[node.inputs[0]].quant, let qOut = self[node.output].quant else {
                throw KDCError.graph(layer: node.name, message: "not an int8 node (quantize the graph first)")
            }
            switch node.op {
            case .conv2d, .depthwiseConv2d, .dense:
                guard var w = p.weights, w.scales.count == w.bias.count else {
                    throw KDCError.graph(layer: node.name, message: "TFLite's multipliers need the weight scales")
                }
                for c in w.scales.indices {
                    let real = TFLiteArithmetic.convMultiplier(
                        inputScale: qIn.scale, weightScale: w.scales[c], outputScale: qOut.scale)
                    if node.op.kind == "dense" {
                        let words = TFLiteArithmetic.scaleWords(real)
                        (w.multipliers[c], w.shifts[c]) = (words.low, words.high)
                    } else {
                        let e = try TFLiteArithmetic.quantizeMultiplier(real, what: "layer '\(node.name)' channel \(c)")
                        (w.multipliers[c], w.shifts[c]) = (e.M, e.e)
                    }
                }
                p.weights = w
            case .add:
                p.add = try TFLiteArithmetic.addParams(qIn.scale, self[node.inputs[1]].quant!.scale, output: qOut.scale)
            case let .softmax(beta):
                p.softmax = try TFLiteArithmetic.softmaxParams(beta: beta, inputScale: qIn.scale)
            case .globalAvgPool, .leakyRelu:
                var b = TFLiteExporter.ModelBuilder()
                try b.plainOp(node, self, act: .none, version: 1)  // throws the op's error
            default:
                break
            }
            if node.activation != .none {
                let a: TFLiteActivation = node.activation == .relu ? .relu : .relu6
                (p.actMin, p.actMax) = TFLiteExporter.tfliteBounds(a, scale: qOut.scale, zeroPoint: qOut.zeroPoint)
            }
            g.nodes[i].int8 = p
        }
        return g
    }
}
