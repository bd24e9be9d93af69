/// The int8 reference interpreter: node by node, readable loops. It defines what the device
/// computes; the C runtime must match it bit for bit. Arithmetic: docs/QUANTIZATION.md, kdc's
/// (§4–5, integer-only) or, for a graph whose `arithmetic` is `.tflite`, TensorFlow Lite's (§8:
/// `TFLiteArithmetic`; its dense layers multiply by a Double scale). It runs int8 graphs:
/// `quantize`'s output or an artifact read back (`ArtifactReader`).
public struct Int8Interpreter: Sendable {
    public init() {}

    /// Runs `graph` on one quantized input (the input tensor's element count) and returns the
    /// output tensor's int8 values.
    public func run(_ graph: Graph, input: [Int8]) -> [Int8] {
        runAll(graph, input: input)[graph.output.index]
    }

    /// Runs `graph` and returns every tensor's int8 values, indexed by tensor id (tensors no node
    /// writes, other than the input, are empty).
    public func runAll(_ graph: Graph, input: [Int8]) -> [[Int8]] {
        precondition(
            input.count == graph[graph.input].count,
            "Int8Interpreter: input has \(input.count) values, expected \(graph[graph.input].count)")
        var values = [[Int8]](repeating: [], count: graph.tensors.count)
        values[graph.input.index] = input
        for node in graph.nodes {
            values[node.output.index] = Int8Interpreter.execute(node, node.inputs.map { values[$0.index] }, graph)
        }
        return values
    }

    /// Executes one node of an int8 graph on its input values.
    public static func execute(_ node: GraphNode, _ ins: [[Int8]], _ g: Graph) -> [Int8] {
        let x = ins[0]
        let xi = g[node.inputs[0]], yo = g[node.output]
        let zx = xi.quant!.zeroPoint, zy = yo.quant!.zeroPoint
        let p = node.int8 ?? Int8Params()
        let tfl = g.arithmetic == .tflite
        // The requantization of conv, depthwise and ADD: kdc's one rounding or TFLite's two.
        @inline(__always) func rq(_ acc: Int32, _ M: Int32, _ e: Int32) -> Int32 {
            tfl ? TFLiteArithmetic.mbqm(acc, M, e) : FixedPoint.requant(acc, M, e)
        }
        // The final clamp; sums with the zero point are formed in 64 bits so they cannot wrap.
        @inline(__always) func out(_ v: Int64) -> Int8 { Int8(min(max(v, Int64(p.actMin)), Int64(p.actMax))) }
        @inline(__always) func out(_ v: Int32) -> Int8 { out(Int64(v)) }
        var y = [Int8](repeating: 0, count: yo.count)
        switch node.op {
        case .dense:
            let w = p.weights!
            let k = x.count, n = yo.count
            for o in 0..<n {
                var acc = w.bias[o]
                for i in 0..<k { acc &+= (Int32(x[i]) - zx) * Int32(w.values[o * k + i]) }
                let r =
                    tfl
                    ? TFLiteArithmetic.scaleRound(
                        acc, TFLiteArithmetic.scale(low: w.multipliers[o], high: w.shifts[o]))
                    : FixedPoint.requant(acc, w.multipliers[o], w.shifts[o])
                y[o] = out(Int64(r) + Int64(zy))
            }
        case .conv2d, .depthwiseConv2d, .maxPool2d, .avgPool2d:
            let gm = g.window(of: node)!
            let (h, w, cin) = (gm.h, gm.w, gm.c)
            let (oh, ow, cout) = (gm.oh, gm.ow, yo.shape[2])
            let (kh, kw) = (gm.kh, gm.kw)
            var multiplier = 1
            if case let .depthwiseConv2d(_, _, _, m) = node.op { multiplier = m }
            let weights = p.weights
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for oc in 0..<cout {
                        let y0 = oy * gm.sh - gm.padTop, x0 = ox * gm.sw - gm.padLeft
                        var acc: Int32 = weights?.bias[oc] ?? 0
                        var mx: Int32 = -128, count: Int32 = 0
                        for ky in 0..<kh {
                            let iy = y0 + ky
                            if iy < 0 || iy >= h { continue }  // taps outside the input: nothing
                            for kx in 0..<kw {
                                let ix = x0 + kx
                                if ix < 0 || ix >= w { continue }
                                let base = (iy * w + ix) * cin
                                switch node.op {
                                case .conv2d:
                                    // weights OHWI: [oc][ky][kx][ci]
                                    let wb = ((oc * kh + ky) * kw + kx) * cin
                                    for ci in 0..<cin { acc &+= (Int32(x[base + ci]) - zx) * Int32(weights!.values[wb + ci]) }
                                case .depthwiseConv2d:
                                    let ic = oc / multiplier
                                    acc &+= (Int32(x[base + ic]) - zx) * Int32(weights!.values[(ky * kw + kx) * cout + oc])
                                default:
                                    let v = Int32(x[base + oc])
                                    mx = max(mx, v); acc += v; count += 1
                                }
                            }
                        }
                        let r: Int64
                        switch node.op {
                        case .maxPool2d: r = Int64(mx)
                        case .avgPool2d: r = Int64(FixedPoint.roundedDivide(acc, max(count, 1)))
                        default:
                            r = Int64(rq(acc, weights!.multipliers[oc], weights!.shifts[oc])) + Int64(zy)
                        }
                        y[(oy * ow + ox) * cout + oc] = out(r)
                    }
                }
            }
        case .globalAvgPool:
            let n = xi.shape[0] * xi.shape[1], c = xi.shape[2]
            for ch in 0..<c {
                var sum: Int32 = 0
                for q in 0..<n { sum += Int32(x[q * c + ch]) }
                y[ch] = out(FixedPoint.roundedDivide(sum, Int32(n)))
            }
        case .add:
            let a = p.add!
            let b = ins[1], zb = g[node.inputs[1]].quant!.zeroPoint
            for i in 0..<y.count {
                let a1 = rq((Int32(x[i]) - zx) << a.leftShift, a.input1Multiplier, a.input1Shift)
                let b1 = rq((Int32(b[i]) - zb) << a.leftShift, a.input2Multiplier, a.input2Shift)
                y[i] = out(Int64(rq(a1 &+ b1, a.outputMultiplier, a.outputShift)) + Int64(zy))
            }
        case .reshape:
            y = x
        case .clamp:
            for i in 0..<y.count { y[i] = out(Int32(x[i])) }
        case .leakyRelu:
            let l = p.leaky!
            for i in 0..<y.count {
                let v = Int32(x[i]) - zx  // −255...255: the identity from the zero point on, α below it
                let r =
                    v >= 0
                    ? FixedPoint.requant(v, l.identityMultiplier, l.identityShift)
                    : FixedPoint.requant(v, l.alphaMultiplier, l.alphaShift)
                y[i] = out(Int64(r) + Int64(zy))
            }
        case .softmax:
            y = TFLiteArithmetic.softmax(x, depth: xi.shape.last ?? x.count, p.softmax!)
        case .relu, .relu6, .batchNorm, .dropout, .flatten:
            preconditionFailure("Int8Interpreter: \(node.op.kind) in an int8 graph (lower and quantize it first)")
        }
        return y
    }
}
