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
