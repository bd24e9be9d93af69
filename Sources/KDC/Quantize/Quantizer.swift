import Foundation

/// Quantizes a float graph to int8 (docs/QUANTIZATION.md): folds batch norm, removes dropout,
/// fuses ReLU/ReLU6 into the preceding conv/depthwise/dense/add, calibrates activation ranges
/// on `calibration` (normalized float inputs) with `method` (`percentile`, e.g. 99.99, is used
/// by `.percentile` only), and converts weights to symmetric per-channel int8, biases to int32
/// and rescaling factors to fixed-point (M, e) pairs.
/// - Throws: `KDCError.graph` for a graph the rewrites cannot handle (e.g. a batch norm not
///   after conv/depthwise/dense), `KDCError.data` for an empty or mismatched calibration set,
///   `KDCError.budget` for a multiplier too large to encode.
public func quantize(
    _ float: FloatGraph, calibration: Dataset, method: CalibrationMethod = .minmax,
    percentile: Double = 99.99
) throws -> QuantizedGraph {
    let g = try LoweredGraph(float)
    let ranges = try Calibration.ranges(g, data: calibration, method: method, percentile: percentile)
    return try Quantizer.convert(g, ranges: ranges)
}

enum Quantizer {
    /// Builds the int8 graph from the rewritten float graph and the calibrated ranges.
    static func convert(_ g: LoweredGraph, ranges: [String: (min: Float, max: Float)]) throws -> QuantizedGraph {
        var tensors: [QuantizedGraph.TensorInfo] = []
        var id: [String: Int] = [:]
        func addTensor(_ name: String, _ shape: [Int], _ r: (min: Float, max: Float)) {
            let (s, z) = Quant.activationParams(min: r.min, max: r.max)
            id[name] = tensors.count
            tensors.append(
                .init(
                    name: name, shape: shape, scale: s, zeroPoint: z,
                    calibratedMin: min(r.min, 0), calibratedMax: max(r.max, 0)))
        }
        addTensor("input", g.inputShape, ranges["input"]!)
        var ops: [QuantizedGraph.Op] = []
        for lop in g.ops {
            let inIds = lop.inputs.map { id[$0]! }
            let tin = tensors[inIds[0]]
            switch lop.kind {
            case .maxPool2d, .averagePool2d, .globalAveragePool, .reshape, .clamp:
                // These keep the input's quantization.
                id[lop.name] = tensors.count
                tensors.append(
                    .init(
                        name: lop.name, shape: lop.outputShape, scale: tin.scale, zeroPoint: tin.zeroPoint,
                        calibratedMin: tin.calibratedMin, calibratedMax: tin.calibratedMax))
            default:
                addTensor(lop.name, lop.outputShape, ranges[lop.name]!)
            }
            let outId = id[lop.name]!
            let tout = tensors[outId]
            var op = QuantizedGraph.Op(kind: lop.kind, name: lop.name, inputs: inIds, output: outId)
            (op.actMin, op.actMax) = activationBounds(lop.activation, scale: tout.scale, zeroPoint: tout.zeroPoint)
            switch lop.kind {
            case .conv2d, .depthwiseConv2d, .maxPool2d, .averagePool2d:
                op.kernel = lop.kernel; op.stride = lop.stride; op.depthMultiplier = lop.multiplier
                op.padTop = lop.padding.output(lop.inputShape[0], kernel: lop.kernel.h, stride: lop.stride.h).padBefore
                op.padLeft = lop.padding.output(lop.inputShape[1], kernel: lop.kernel.w, stride: lop.stride.w).padBefore
            default: break
            }
            switch lop.kind {
            case .fullyConnected, .conv2d, .depthwiseConv2d:
                try quantizeWeights(lop, &op, inScale: tin.scale, outScale: tout.scale)
            case .add:
                let sa = Double(tin.scale), sb = Double(tensors[inIds[1]].scale), so = Double(tout.scale)
                let twiceMax = 2 * max(sa, sb)
                let a = try FixedPoint.encode(sa / twiceMax, what: "layer '\(lop.name)' input 1")
                let b = try FixedPoint.encode(sb / twiceMax, what: "layer '\(lop.name)' input 2")
                let o = try FixedPoint.encode(twiceMax / (Double(1 << 20) * so), what: "layer '\(lop.name)' output")
                op.add = .init(
                    leftShift: 20, input1Multiplier: a.M, input1Shift: a.e, input2Multiplier: b.M,
                    input2Shift: b.e, outputMultiplier: o.M, outputShift: o.e)
            default: break
            }
            ops.append(op)
        }
        return QuantizedGraph(tensors: tensors, ops: ops, input: 0, output: id[g.output]!)
    }

    /// Fused clamp bounds in int8 units: ReLU → [max(−128, z + round(0/s)), 127];
    /// ReLU6 → also max = min(127, z + round(6/s)); none → [−128, 127].
    static func activationBounds(_ a: FusedActivation, scale: Float, zeroPoint z: Int32) -> (Int32, Int32) {
        switch a {
        case .none: return (-128, 127)
        case .relu: return (max(-128, z), 127)
        case .relu6:
            let six = (6 / Double(scale)).rounded()
            return (max(-128, z), Int32(min(127, Double(z) + six)))
        }
    }

    /// Symmetric per-output-channel int8 weights, int32 biases and (M, e) per channel.
    static func quantizeWeights(_ lop: LoweredOp, _ op: inout QuantizedGraph.Op, inScale: Float, outScale: Float) throws {
        let w = lop.weight
        let cout = lop.bias.count
        // Every float layout has the output channel last, so element j of channel c (j running
        // over the other axes in order) sits at j·cout + c: dense [in, out], conv HWIO, depthwise
        // [kh, kw, cin·mult].
        let perChannel = w.count / cout
        let floatIndex = { (c: Int, j: Int) in j * cout + c }
        switch lop.kind {
        case .fullyConnected: op.weightShape = [cout, perChannel]  // [out][in]
        case .conv2d: op.weightShape = [cout, lop.kernel.h, lop.kernel.w, lop.inputShape[2]]  // OHWI
        default: op.weightShape = [lop.kernel.h, lop.kernel.w, cout]  // depthwise, unchanged
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
                q[lop.kind == .depthwiseConv2d ? f : c * perChannel + j] = v
            }
        }
        op.weights = q
        op.weightScales = scales
        op.bias = (0..<cout).map { c in
            let b = (Double(lop.bias[c]) / (Double(inScale) * Double(scales[c]))).rounded()
            return Int32(min(max(b, Double(Int32.min)), Double(Int32.max)))
        }
        op.outputMultipliers = []; op.outputShifts = []
        for c in 0..<cout {
            let m = try FixedPoint.encode(
                Double(inScale) * Double(scales[c]) / Double(outScale),
                what: "layer '\(lop.name)' channel \(c)")
            op.outputMultipliers.append(m.M); op.outputShifts.append(m.e)
        }
    }
}
