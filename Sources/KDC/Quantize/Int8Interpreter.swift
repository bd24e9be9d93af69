/// The int8 reference interpreter: integer-only, op by op, readable loops. It defines what the
/// device computes; the C runtime must match it bit for bit. Arithmetic: docs/QUANTIZATION.md.
public struct Int8Interpreter: Sendable {
    public init() {}

    /// Runs `graph` on one quantized input (the input tensor's element count) and returns the
    /// output tensor's int8 values.
    public func run(_ graph: QuantizedGraph, input: [Int8]) -> [Int8] {
        runAll(graph, input: input)[graph.output]
    }

    /// Runs `graph` and returns every tensor's int8 values, indexed by tensor id (tensors no op
    /// writes, other than the input, are empty).
    public func runAll(_ graph: QuantizedGraph, input: [Int8]) -> [[Int8]] {
        precondition(
            input.count == graph.tensors[graph.input].count,
            "Int8Interpreter: input has \(input.count) values, expected \(graph.tensors[graph.input].count)")
        var values = [[Int8]](repeating: [], count: graph.tensors.count)
        values[graph.input] = input
        for op in graph.ops {
            let ins = op.inputs.map { values[$0] }
            values[op.output] = Int8Interpreter.execute(op, ins, graph.tensors)
        }
        return values
    }

    /// Executes one op on its input values.
    public static func execute(_ op: QuantizedGraph.Op, _ ins: [[Int8]], _ t: [QuantizedGraph.TensorInfo]) -> [Int8] {
        let x = ins[0]
        let xi = t[op.inputs[0]], yo = t[op.output]
        let zx = xi.zeroPoint, zy = yo.zeroPoint
        // The final clamp; sums with the zero point are formed in 64 bits so they cannot wrap.
        @inline(__always) func out(_ v: Int64) -> Int8 { Int8(min(max(v, Int64(op.actMin)), Int64(op.actMax))) }
        @inline(__always) func out(_ v: Int32) -> Int8 { out(Int64(v)) }
        var y = [Int8](repeating: 0, count: yo.count)
        switch op.kind {
        case .fullyConnected:
            let k = x.count, n = yo.count
            for o in 0..<n {
                var acc = op.bias[o]
                for i in 0..<k { acc &+= (Int32(x[i]) - zx) * Int32(op.weights[o * k + i]) }
                y[o] = out(Int64(FixedPoint.requant(acc, op.outputMultipliers[o], op.outputShifts[o])) + Int64(zy))
            }
        case .conv2d, .depthwiseConv2d, .maxPool2d, .averagePool2d:
            let (h, w, cin) = (xi.shape[0], xi.shape[1], xi.shape[2])
            let (oh, ow, cout) = (yo.shape[0], yo.shape[1], yo.shape[2])
            let (kh, kw) = (op.kernel.h, op.kernel.w)
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for oc in 0..<cout {
                        let y0 = oy * op.stride.h - op.padTop, x0 = ox * op.stride.w - op.padLeft
                        var acc: Int32 = op.kind == .conv2d || op.kind == .depthwiseConv2d ? op.bias[oc] : 0
                        var mx: Int32 = -128, count: Int32 = 0
                        for ky in 0..<kh {
                            let iy = y0 + ky
                            if iy < 0 || iy >= h { continue }  // taps outside the input: nothing
                            for kx in 0..<kw {
                                let ix = x0 + kx
                                if ix < 0 || ix >= w { continue }
                                let base = (iy * w + ix) * cin
                                switch op.kind {
                                case .conv2d:
                                    // weights OHWI: [oc][ky][kx][ci]
                                    let wb = ((oc * kh + ky) * kw + kx) * cin
                                    for ci in 0..<cin { acc &+= (Int32(x[base + ci]) - zx) * Int32(op.weights[wb + ci]) }
                                case .depthwiseConv2d:
                                    let ic = oc / op.depthMultiplier
                                    acc &+= (Int32(x[base + ic]) - zx) * Int32(op.weights[(ky * kw + kx) * cout + oc])
                                default:
                                    let v = Int32(x[base + oc])
                                    mx = max(mx, v); acc += v; count += 1
                                }
                            }
                        }
                        let r: Int64
                        switch op.kind {
                        case .maxPool2d: r = Int64(mx)
                        case .averagePool2d: r = Int64(FixedPoint.roundedDivide(acc, max(count, 1)))
                        default: r = Int64(FixedPoint.requant(acc, op.outputMultipliers[oc], op.outputShifts[oc])) + Int64(zy)
                        }
                        y[(oy * ow + ox) * cout + oc] = out(r)
                    }
                }
            }
        case .globalAveragePool:
            let n = xi.shape[0] * xi.shape[1], c = xi.shape[2]
            for ch in 0..<c {
                var sum: Int32 = 0
                for p in 0..<n { sum += Int32(x[p * c + ch]) }
                y[ch] = out(FixedPoint.roundedDivide(sum, Int32(n)))
            }
        case .add:
            let p = op.add!
            let b = ins[1], zb = t[op.inputs[1]].zeroPoint
            for i in 0..<y.count {
                let a1 = FixedPoint.requant((Int32(x[i]) - zx) << p.leftShift, p.input1Multiplier, p.input1Shift)
                let b1 = FixedPoint.requant((Int32(b[i]) - zb) << p.leftShift, p.input2Multiplier, p.input2Shift)
                y[i] = out(Int64(FixedPoint.requant(a1 &+ b1, p.outputMultiplier, p.outputShift)) + Int64(zy))
            }
        case .reshape:
            y = x
        case .clamp:
            for i in 0..<y.count { y[i] = out(Int32(x[i])) }
        }
        return y
    }
}
