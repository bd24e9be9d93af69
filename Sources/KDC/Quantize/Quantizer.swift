import Foundation

/// Quantizes a float graph (with `FloatParams` on its nodes, e.g. `Model.floatGraph`) to int8
/// (docs/QUANTIZATION.md): lowers it (`Graph.lowered()`: batch norm folded, dropout removed,
/// ReLU/ReLU6 fused), calibrates activation ranges on `calibration` (normalized float inputs)
/// with `method` (`percentile`, e.g. 99.99, is used by `.percentile` only), and converts weights
/// to symmetric per-channel int8, biases to int32 and rescaling factors to fixed-point (M, e)
/// pairs. The result is the lowered graph with int8 tensors (`QuantParams`) and `Int8Params`
/// on every node, tensor ids unchanged from the lowered graph. `inputQuant`, when given, is the
/// input's quantization instead of the calibrated one (an input stage such as the audio front end
/// fixes it: the model then reads the stage's int8 output as it is).
/// - Throws: `KDCError.graph` for a graph the rewrites cannot handle (e.g. a batch norm not
///   after conv/depthwise/dense), `KDCError.data` for an empty or mismatched calibration set,
///   `KDCError.budget` for a multiplier too large to encode.
public func quantize(
    _ float: Graph, calibration: Dataset, method: CalibrationMethod = .minmax,
    percentile: Double = 99.99, inputQuant: (scale: Float, zeroPoint: Int32)? = nil
) throws -> Graph {
    let g = try float.lowered()
    let ranges = try Calibration.ranges(g, data: calibration, method: method, percentile: percentile)
    return try Quantizer.convert(g, ranges: ranges, inputQuant: inputQuant)
}

enum Quantizer {
    /// The int8 graph of the lowered float graph `g` and the calibrated range of each tensor.
    static func convert(
        _ g: Graph, ranges: [(min: Float, max: Float)], inputQuant: (scale: Float, zeroPoint: Int32)? = nil
    ) throws -> Graph {
        var q = g
        func params(_ r: (min: Float, max: Float)) -> QuantParams {
            let (s, z) = Quant.activationParams(min: r.min, max: r.max)
            return QuantParams(scale: s, zeroPoint: z, calibratedRange: min(r.min, 0)...max(r.max, 0))
        }
        q[q.input].type = .int8
        q[q.input].quant = params(ranges[q.input.index])
        if let f = inputQuant {
            // The range the fixed (scale, zero point) represents: int8 −128...127.
            let range = (Float(-128 - Int(f.zeroPoint)) * f.scale)...(Float(127 - Int(f.zeroPoint)) * f.scale)
            q[q.input].quant = QuantParams(scale: f.scale, zeroPoint: f.zeroPoint, calibratedRange: range)
        }
        for (i, node) in g.nodes.enumerated() {
            let tin = q[node.inputs[0]].quant!
            // Pools, reshape and clamp keep the input's quantization.
            let tout = node.op.keepsQuantization ? tin : params(ranges[node.output.index])
            q[node.output].type = .int8
            q[node.output].quant = tout
            var p = Int8Params()
            (p.actMin, p.actMax) = activationBounds(node.activation, scale: tout.scale, zeroPoint: tout.zeroPoint)
            if node.op.hasWeights {
                p.weights = try quantizeWeights(g, node, inScale: tin.scale, outScale: tout.scale)
            } else if node.op == .add {
                let sa = Double(tin.scale), sb = Double(q[node.inputs[1]].quant!.scale), so = Double(tout.scale)
                let twiceMax = 2 * max(sa, sb)
                let a = try FixedPoint.encode(sa / twiceMax, what: "layer '\(node.name)' input 1")
                let b = try FixedPoint.encode(sb / twiceMax, what: "layer '\(node.name)' input 2")
                let o = try FixedPoint.encode(twiceMax / (Double(1 << 20) * so), what: "layer '\(node.name)' output")
                p.add = AddParams(
                    leftShift: 20, input1Multiplier: a.M, input1Shift: a.e, input2Multiplier: b.M,
                    input2Shift: b.e, outputMultiplier: o.M, outputShift: o.e)
            } else if case let .leakyRelu(alpha) = node.op {
                p.leaky = try leakyParams(alpha: alpha, inScale: tin.scale, outScale: tout.scale, layer: node.name)
            }
            q.nodes[i].params = nil
            q.nodes[i].int8 = p
        }
        return q
    }

    /// LEAKY_RELU's two multipliers (docs/QUANTIZATION.md): s_x/s_y for x ≥ z_x and α·s_x/s_y
    /// below (α = 0 encodes as (0, 0)).
    static func leakyParams(alpha: Float, inScale: Float, outScale: Float, layer: String) throws -> LeakyReluParams {
        let r = Double(inScale) / Double(outScale)
        let id = try FixedPoint.encode(r, what: "layer '\(layer)' identity")
        let a = try FixedPoint.encode(Double(alpha) * r, what: "layer '\(layer)' alpha")
        return LeakyReluParams(identityMultiplier: id.M, identityShift: id.e, alphaMultiplier: a.M, alphaShift: a.e)
    }

    /// Fused clamp bounds in int8 units: ReLU → [max(−128, z + round(0/s)), 127];
    /// ReLU6 → also max = min(127, z + round(6/s)); none → [−128, 127].
    static func activationBounds(_ a: Activation, scale: Float, zeroPoint z: Int32) -> (Int32, Int32) {
        switch a {
        case .none: return (-128, 127)
        case .relu: return (max(-128, z), 127)
        case .relu6:
            let six = (6 / Double(scale)).rounded()
            return (max(-128, z), Int32(min(127, Double(z) + six)))
        }
    }

    /// Symmetric per-output-channel int8 weights, int32 biases and (M, e) per channel.
    static func quantizeWeights(_ g: Graph, _ node: GraphNode, inScale: Float, outScale: Float) throws -> Int8Weights {
        guard case let .affine(weight, biasT) = node.params else {
            throw KDCError.graph(layer: node.name, message: "\(node.op.kind) has no float weights to quantize")
        }
        let w = weight.data, fb = biasT.data
        let cout = fb.count
        // Every float layout has the output channel last, so element j of channel c (j running
        // over the other axes in order) sits at j·cout + c: dense [in, out], conv HWIO, depthwise
        // [kh, kw, cin·mult].
        let perChannel = w.count / cout
        let floatIndex = { (c: Int, j: Int) in j * cout + c }
        let shape: [Int]
        var depthwise = false
        switch node.op {
        case .dense: shape = [cout, perChannel]  // [out][in]
        case let .conv2d(_, k, _, _): shape = [cout, k.h, k.w, g[node.inputs[0]].shape[2]]  // OHWI
        case let .depthwiseConv2d(k, _, _, _):
            shape = [k.h, k.w, cout]  // unchanged
            depthwise = true
        default: throw KDCError.graph(layer: node.name, message: "\(node.op.kind) has no weights")
        }
        var scales = [Float](repeating: 0, count: cout)
        for c in 0..<cout {
            var m: Float = 0
            for j in 0..<perChannel { m = max(m, abs(w[floatIndex(c, j)])) }
            // An all-zero channel gets scale 1/127 (any positive value works: its weights are 0).
            scales[c] = m > 0 ? m / 127 : 1.0 / 127
        }
        var q = [Int8](repeating: 0, count: w.count)
        for c in 0..<cout {
            for j in 0..<perChannel {
                let f = floatIndex(c, j)
                let v = Int8(min(max((Double(w[f]) / Double(scales[c])).rounded(), -127), 127))
                // OHWI / [out][in]: channel-major; depthwise: same position as the float layout.
                q[depthwise ? f : c * perChannel + j] = v
            }
        }
        let bias = (0..<cout).map { c in
            let b = (Double(fb[c]) / (Double(inScale) * Double(scales[c]))).rounded()
            return Int32(min(max(b, Double(Int32.min)), Double(Int32.max)))
        }
        var mult: [Int32] = [], shift: [Int32] = []
        for c in 0..<cout {
            let m = try FixedPoint.encode(
                Double(inScale) * Double(scales[c]) / Double(outScale),
                what: "layer '\(node.name)' channel \(c)")
            mult.append(m.M); shift.append(m.e)
        }
        return Int8Weights(values: q, shape: shape, scales: scales, bias: bias, multipliers: mult, shifts: shift)
    }
}
