import Foundation
import XCTest
@testable import KDC

/// Random small layers of every op, quantized end to end: the int8 output, dequantized, must
/// stay within one output step of the same layer computed in Double on the dequantized int8
/// input, weights and bias.
final class QuantLayerTests: XCTestCase {
    /// The node in Double on dequantized values, clamped to the node's int8 output range in real units.
    static func reference(_ node: GraphNode, _ ins: [[Double]], _ g: Graph) -> [Double] {
        let xi = g[node.inputs[0]], yo = g[node.output]
        let (sx, so, zo) = (Double(xi.quant!.scale), Double(yo.quant!.scale), yo.quant!.zeroPoint)
        let p = node.int8!
        let x = ins[0]
        func w(_ i: Int, _ c: Int) -> Double { Double(p.weights!.values[i]) * Double(p.weights!.scales[c]) }
        func b(_ c: Int) -> Double { Double(p.weights!.bias[c]) * sx * Double(p.weights!.scales[c]) }
        var y = [Double](repeating: 0, count: yo.count)
        switch node.op {
        case .dense:
            let k = x.count
            for o in 0..<y.count { y[o] = b(o) + (0..<k).reduce(0.0) { $0 + x[$1] * w(o * k + $1, o) } }
        case .conv2d, .depthwiseConv2d, .maxPool2d, .avgPool2d:
            let geo = g.window(of: node)!
            let (h, wd, cin) = (xi.shape[0], xi.shape[1], xi.shape[2])
            let (oh, ow, cout) = (yo.shape[0], yo.shape[1], yo.shape[2])
            var mult = 1
            if case let .depthwiseConv2d(_, _, _, m) = node.op { mult = m }
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for oc in 0..<cout {
                        var acc = node.op.hasWeights ? b(oc) : 0
                        var mx = -Double.infinity, n = 0.0
                        for ky in 0..<geo.kh {
                            for kx in 0..<geo.kw {
                                let iy = oy * geo.sh - geo.padTop + ky, ix = ox * geo.sw - geo.padLeft + kx
                                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                switch node.op {
                                case .conv2d:
                                    for ci in 0..<cin {
                                        acc += x[(iy * wd + ix) * cin + ci] * w(((oc * geo.kh + ky) * geo.kw + kx) * cin + ci, oc)
                                    }
                                case .depthwiseConv2d:
                                    acc += x[(iy * wd + ix) * cin + oc / mult] * w((ky * geo.kw + kx) * cout + oc, oc)
                                default:
                                    let v = x[(iy * wd + ix) * cin + oc]
                                    mx = max(mx, v); acc += v; n += 1
                                }
                            }
                        }
                        let isMax: Bool
                        if case .maxPool2d = node.op { isMax = true } else { isMax = false }
                        var isAvg = false
                        if case .avgPool2d = node.op { isAvg = true }
                        y[(oy * ow + ox) * cout + oc] = isMax ? mx : isAvg ? acc / n : acc
                    }
                }
            }
        case .globalAvgPool:
            let c = xi.shape[2], n = xi.shape[0] * xi.shape[1]
            for ch in 0..<c { y[ch] = (0..<n).reduce(0.0) { $0 + x[$1 * c + ch] } / Double(n) }
        case .add: y = zip(x, ins[1]).map { $0 + $1 }
        case .reshape, .clamp: y = x
        case let .leakyRelu(alpha): y = x.map { $0 >= 0 ? $0 : Double(alpha) * $0 }
        default: XCTFail("\(node.op.kind) in an int8 graph")
        }
        let lo = so * Double(p.actMin - zo), hi = so * Double(p.actMax - zo)
        return y.map { min(max($0, lo), hi) }
    }

    /// Builds a float graph from `nodes` with random parameters, quantizes it on random data,
    /// and checks every op against `reference` on 12 fresh samples. Returns the graph.
    @discardableResult
    func check(
        _ label: String, input: [Int], _ nodes: [NodeSpec], seed: UInt64, file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> Graph {
        var rng = SeededRNG(seed: seed, stream: label)
        var float = try Graph(spec: GraphSpec(inputShape: input, nodes: nodes))
        for (i, n) in float.nodes.enumerated() {
            let s = float[n.inputs[0]].shape
            func rand(_ count: Int, _ scale: Float) -> Tensor {
                Tensor(shape: [count], data: (0..<count).map { _ in rng.normal() * scale })
            }
            switch n.op {
            case let .dense(u):
                float.nodes[i].params = .affine(weight: rand(s.reduce(1, *) * u, 0.4), bias: rand(u, 0.3))
            case let .conv2d(f, k, _, _):
                float.nodes[i].params = .affine(weight: rand(k.h * k.w * s[2] * f, 0.3), bias: rand(f, 0.3))
            case let .depthwiseConv2d(k, _, _, m):
                float.nodes[i].params = .affine(weight: rand(k.h * k.w * s[2] * m, 0.4), bias: rand(s[2] * m, 0.3))
            default: break
            }
        }
        let size = input.reduce(1, *)
        func data(_ n: Int) -> Dataset {
            Dataset(
                name: label, sampleShape: input, x: (0..<(n * size)).map { _ in rng.normal() },
                labels: [Int32](repeating: -1, count: n), numClasses: 1)
        }
        let q = try quantize(float, calibration: data(64), method: .minmax)
        let test = data(12)
        var worst = 0.0
        for i in 0..<test.count {
            let x = Array(test.x[(i * size)..<((i + 1) * size)])
            let all = Int8Interpreter().runAll(q, input: q.quantizeInput(x))
            for op in q.nodes {
                let ins = op.inputs.map { id in q.dequantize(all[id.index], tensor: id).map(Double.init) }
                let want = Self.reference(op, ins, q)
                let got = q.dequantize(all[op.output.index], tensor: op.output)
                let step = Double(q[op.output].quant!.scale)
                for j in 0..<want.count {
                    let err = abs(Double(got[j]) - want[j])
                    worst = max(worst, err / step)
                    if err > step {
                        XCTFail(
                            "\(label) op \(op.name) (\(op.op.kind)) sample \(i) element \(j): int8 \(got[j]) vs reference \(want[j]), step \(step)",
                            file: file, line: line)
                        return q
                    }
                }
            }
        }
        XCTAssertGreaterThan(q.nodes.count, 0)
        XCTAssertLessThanOrEqual(worst, 1)
        // Against the float model too (catches weight layout mistakes the reference cannot see).
        let report = quantizationReport(float: float, quantized: q, test: test)
        XCTAssertEqual(report.layers.count, q.nodes.count)
        for l in report.layers where l.sqnrDB < 25 {
            XCTFail("\(label): layer \(l.name) SQNR \(l.sqnrDB) dB against the float graph", file: file, line: line)
        }
        return q
    }

    func node(_ name: String, _ op: Op, _ inputs: [String]) -> NodeSpec { NodeSpec(name: name, op: op, inputs: inputs) }

    func testFullyConnected() throws {
        for (i, act) in [nil, Op.relu, Op.relu6].enumerated() {
            var nodes = [node("fc", .dense(units: 5), ["input"])]
            if let act { nodes.append(node("act", act, ["fc"])) }
            let q = try check("fc\(i)", input: [7], nodes, seed: UInt64(i))
            XCTAssertEqual(q.nodes.count, 1, "activation fused")
            if act != nil { XCTAssertEqual(q.nodes[0].int8?.actMin, q[q.output].quant!.zeroPoint) }
        }
    }

    func testConv2DSameValidStrideTwo() throws {
        let cases: [(Size2, Size2, Padding, [Int])] = [
            (Size2(3, 3), Size2(1, 1), .same, [5, 5, 2]), (Size2(3, 3), Size2(1, 1), .valid, [5, 6, 2]),
            (Size2(3, 3), Size2(2, 2), .same, [6, 7, 3]), (Size2(2, 3), Size2(2, 1), .valid, [5, 5, 1]),
            (Size2(1, 1), Size2(2, 2), .same, [5, 5, 2]),
        ]
        for (i, (k, s, p, shape)) in cases.enumerated() {
            for (j, act) in [nil, Op.relu, Op.relu6].enumerated() {
                var nodes = [node("conv", .conv2d(filters: 3, kernel: k, stride: s, padding: p), ["input"])]
                if let act { nodes.append(node("act", act, ["conv"])) }
                try check("conv\(i).\(j)", input: shape, nodes, seed: UInt64(10 + i))
            }
        }
    }

    func testDepthwiseMultiplierOneAndTwo() throws {
        for (i, (m, p, s)) in [(1, Padding.same, 1), (2, .same, 2), (2, .valid, 1), (1, .valid, 2)].enumerated() {
            for (j, act) in [nil, Op.relu].enumerated() {
                var nodes = [
                    node(
                        "dw", .depthwiseConv2d(kernel: Size2(3, 3), stride: Size2(square: s), padding: p, multiplier: m),
                        ["input"])
                ]
                if let act { nodes.append(node("act", act, ["dw"])) }
                try check("dw\(i).\(j)", input: [6, 5, 3], nodes, seed: UInt64(20 + i))
            }
        }
    }

    func testPoolsAndGlobalAverage() throws {
        for (i, (k, s, p)) in [(2, 2, Padding.same), (3, 2, .same), (2, 1, .valid), (3, 3, .valid)].enumerated() {
            try check(
                "max\(i)", input: [5, 6, 3],
                [node("p", .maxPool2d(pool: Size2(square: k), stride: Size2(square: s), padding: p), ["input"])],
                seed: UInt64(30 + i))
            try check(
                "avg\(i)", input: [5, 6, 3],
                [node("p", .avgPool2d(pool: Size2(square: k), stride: Size2(square: s), padding: p), ["input"])],
                seed: UInt64(40 + i))
        }
        let q = try check("gap", input: [4, 3, 5], [node("g", .globalAvgPool, ["input"])], seed: 50)
        XCTAssertEqual(q[q.output].quant!.scale, q[q.input].quant!.scale, "pools keep the input's qparams")
        XCTAssertEqual(q[q.output].quant!.zeroPoint, q[q.input].quant!.zeroPoint)
    }

    func testAddWithAndWithoutReLU() throws {
        for (i, act) in [nil, Op.relu].enumerated() {
            var nodes = [
                node("c", .conv2d(filters: 3, kernel: Size2(1, 1), stride: Size2(1, 1), padding: .same), ["input"]),
                node("sum", .add, ["input", "c"]),
            ]
            if let act { nodes.append(node("act", act, ["sum"])) }
            let q = try check("add\(i)", input: [4, 4, 3], nodes, seed: UInt64(60 + i))
            XCTAssertEqual(q.nodes.last?.op, .add)
            XCTAssertEqual(q.nodes.last?.int8?.add?.leftShift, 20)
        }
    }

    func testLeakyReLUStandaloneWithItsOwnQuantization() throws {
        for (i, alpha) in [Float(0.2), 0.01, 0].enumerated() {
            let q = try check(
                "leaky\(i)", input: [4, 4, 3],
                [
                    node("conv", .conv2d(filters: 4, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), ["input"]),
                    node("leaky", .leakyRelu(alpha: alpha), ["conv"]),
                    node("flat", .flatten, ["leaky"]),
                    node("fc", .dense(units: 3), ["flat"]),
                ], seed: UInt64(80 + i))
            XCTAssertEqual(q.nodes.map { DeviceOp($0.op) }, [.conv2d, .leakyRelu, .reshape, .fullyConnected])
            let l = q.nodes[1], tin = q[l.inputs[0]].quant!, tout = q[l.output].quant!
            XCTAssertEqual(q.nodes[0].activation, .none, "nothing is fused into the conv")
            XCTAssertEqual(l.int8?.actMin, -128)
            XCTAssertEqual(l.int8?.actMax, 127)
            // Calibrated output range: the negative side shrinks by α, so the scale differs.
            XCTAssertNotEqual(tout.scale, tin.scale)
            let p = try XCTUnwrap(l.int8?.leaky)
            let r = Double(tin.scale) / Double(tout.scale)
            XCTAssertEqual(FixedPoint.decode(p.identityMultiplier, p.identityShift), r, accuracy: r * 1e-9)
            XCTAssertEqual(FixedPoint.decode(p.alphaMultiplier, p.alphaShift), Double(alpha) * r, accuracy: r * 1e-9)
        }
    }

    func testStandaloneReLUAfterPoolBecomesClampAndFlattenBecomesReshape() throws {
        let q = try check(
            "clamp", input: [4, 4, 2],
            [
                node("conv", .conv2d(filters: 2, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), ["input"]),
                node("pool", .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid), ["conv"]),
                node("relu", .relu6, ["pool"]),
                node("flat", .flatten, ["relu"]),
                node("fc", .dense(units: 3), ["flat"]),
            ], seed: 70)
        XCTAssertEqual(q.nodes.map { DeviceOp($0.op) }, [.conv2d, .maxPool2d, .clamp, .reshape, .fullyConnected])
        let clamp = q.nodes[2], t = q[clamp.output].quant!
        XCTAssertEqual(clamp.int8?.actMin, max(-128, t.zeroPoint))
        XCTAssertEqual(clamp.int8?.actMax, Int32(min(127, Double(t.zeroPoint) + (6 / Double(t.scale)).rounded())))
    }
}
