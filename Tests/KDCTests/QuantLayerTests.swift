import Foundation
import XCTest
@testable import KDC

/// Random small layers of every op, quantized end to end: the int8 output, dequantized, must
/// stay within one output step of the same layer computed in Double on the dequantized int8
/// input, weights and bias.
final class QuantLayerTests: XCTestCase {
    /// The op in Double on dequantized values, clamped to the op's int8 output range in real units.
    static func reference(_ op: QuantizedGraph.Op, _ ins: [[Double]], _ ts: [QuantizedGraph.TensorInfo]) -> [Double] {
        let xi = ts[op.inputs[0]], yo = ts[op.output]
        let x = ins[0]
        func w(_ i: Int, _ c: Int) -> Double { Double(op.weights[i]) * Double(op.weightScales[c]) }
        func b(_ c: Int) -> Double { Double(op.bias[c]) * Double(xi.scale) * Double(op.weightScales[c]) }
        var y = [Double](repeating: 0, count: yo.count)
        switch op.kind {
        case .fullyConnected:
            let k = x.count
            for o in 0..<y.count { y[o] = b(o) + (0..<k).reduce(0.0) { $0 + x[$1] * w(o * k + $1, o) } }
        case .conv2d, .depthwiseConv2d, .maxPool2d, .averagePool2d:
            let (h, wd, cin) = (xi.shape[0], xi.shape[1], xi.shape[2])
            let (oh, ow, cout) = (yo.shape[0], yo.shape[1], yo.shape[2])
            for oy in 0..<oh {
                for ox in 0..<ow {
                    for oc in 0..<cout {
                        var acc = (op.kind == .conv2d || op.kind == .depthwiseConv2d) ? b(oc) : 0
                        var mx = -Double.infinity, n = 0.0
                        for ky in 0..<op.kernel.h {
                            for kx in 0..<op.kernel.w {
                                let iy = oy * op.stride.h - op.padTop + ky, ix = ox * op.stride.w - op.padLeft + kx
                                guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                                switch op.kind {
                                case .conv2d:
                                    for ci in 0..<cin {
                                        acc +=
                                            x[(iy * wd + ix) * cin + ci]
                                            * w(((oc * op.kernel.h + ky) * op.kernel.w + kx) * cin + ci, oc)
                                    }
                                case .depthwiseConv2d:
                                    acc +=
                                        x[(iy * wd + ix) * cin + oc / op.depthMultiplier]
                                        * w((ky * op.kernel.w + kx) * cout + oc, oc)
                                default:
                                    let v = x[(iy * wd + ix) * cin + oc]
                                    mx = max(mx, v); acc += v; n += 1
                                }
                            }
                        }
                        y[(oy * ow + ox) * cout + oc] = op.kind == .maxPool2d ? mx : op.kind == .averagePool2d ? acc / n : acc
                    }
                }
            }
        case .globalAveragePool:
            let c = xi.shape[2], n = xi.shape[0] * xi.shape[1]
            for ch in 0..<c { y[ch] = (0..<n).reduce(0.0) { $0 + x[$1 * c + ch] } / Double(n) }
        case .add: y = zip(x, ins[1]).map { $0 + $1 }
        case .reshape, .clamp: y = x
        }
        let lo = Double(yo.scale) * Double(op.actMin - yo.zeroPoint), hi = Double(yo.scale) * Double(op.actMax - yo.zeroPoint)
        return y.map { min(max($0, lo), hi) }
    }

    /// Builds a float graph from `nodes` with random parameters, quantizes it on random data,
    /// and checks every op against `reference` on 12 fresh samples. Returns the graph.
    @discardableResult
    func check(
        _ label: String, input: [Int], _ nodes: [NodeSpec], seed: UInt64, file: StaticString = #filePath,
        line: UInt = #line
    ) throws -> QuantizedGraph {
        var rng = SeededRNG(seed: seed, stream: label)
        let spec = GraphSpec(inputShape: input, nodes: nodes)
        // Parameter shapes from a first pass with placeholder sizes: ask the spec checker.
        var params: [String: Tensor] = [:]
        var shapes: [String: [Int]] = ["input": input]
        for n in nodes {
            let s = shapes[n.inputs[0]]!
            func rand(_ count: Int, _ scale: Float) -> Tensor {
                Tensor(shape: [count], data: (0..<count).map { _ in rng.normal() * scale })
            }
            switch n.op {
            case let .dense(u):
                params["\(n.name).weight"] = rand(s.reduce(1, *) * u, 0.4); params["\(n.name).bias"] = rand(u, 0.3)
            case let .conv2d(f, k, _, _):
                params["\(n.name).weight"] = rand(k.h * k.w * s[2] * f, 0.3); params["\(n.name).bias"] = rand(f, 0.3)
            case let .depthwiseConv2d(k, _, _, m):
                params["\(n.name).weight"] = rand(k.h * k.w * s[2] * m, 0.4); params["\(n.name).bias"] = rand(s[2] * m, 0.3)
            default: break
            }
            let g = try FloatGraph(
                spec: GraphSpec(inputShape: input, nodes: Array(nodes.prefix { $0.name != n.name }) + [n]), params: params)
            shapes[n.name] = g.shapes[n.name]!
        }
        let float = try FloatGraph(spec: spec, params: params)
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
            for op in q.ops {
                let ins = op.inputs.map { id in q.dequantize(all[id], tensor: id).map(Double.init) }
                let want = Self.reference(op, ins, q.tensors)
                let got = q.dequantize(all[op.output], tensor: op.output)
                let step = Double(q.tensors[op.output].scale)
                for j in 0..<want.count {
                    let err = abs(Double(got[j]) - want[j])
                    worst = max(worst, err / step)
                    if err > step {
                        XCTFail(
                            "\(label) op \(op.name) (\(op.kind)) sample \(i) element \(j): int8 \(got[j]) vs reference \(want[j]), step \(step)",
                            file: file, line: line)
                        return q
                    }
                }
            }
        }
        XCTAssertGreaterThan(q.ops.count, 0)
        XCTAssertLessThanOrEqual(worst, 1)
        // Against the float model too (catches weight layout mistakes the reference cannot see).
        let report = quantizationReport(float: float, quantized: q, test: test)
        XCTAssertEqual(report.layers.count, q.ops.count)
        for l in report.layers where l.sqnrDB < 25 {
            XCTFail("\(label): layer \(l.name) SQNR \(l.sqnrDB) dB against the float graph", file: file, line: line)
        }
        return q
    }

    func node(_ name: String, _ op: OpSpec, _ inputs: [String]) -> NodeSpec { NodeSpec(name: name, op: op, inputs: inputs) }

    func testFullyConnected() throws {
        for (i, act) in [nil, OpSpec.relu, OpSpec.relu6].enumerated() {
            var nodes = [node("fc", .dense(units: 5), ["input"])]
            if let act { nodes.append(node("act", act, ["fc"])) }
            let q = try check("fc\(i)", input: [7], nodes, seed: UInt64(i))
            XCTAssertEqual(q.ops.count, 1, "activation fused")
            if act != nil { XCTAssertEqual(q.ops[0].actMin, q.tensors[q.output].zeroPoint) }
        }
    }

    func testConv2DSameValidStrideTwo() throws {
        let cases: [(Size2, Size2, Padding, [Int])] = [
            (Size2(3, 3), Size2(1, 1), .same, [5, 5, 2]), (Size2(3, 3), Size2(1, 1), .valid, [5, 6, 2]),
            (Size2(3, 3), Size2(2, 2), .same, [6, 7, 3]), (Size2(2, 3), Size2(2, 1), .valid, [5, 5, 1]),
            (Size2(1, 1), Size2(2, 2), .same, [5, 5, 2]),
        ]
        for (i, (k, s, p, shape)) in cases.enumerated() {
            for (j, act) in [nil, OpSpec.relu, OpSpec.relu6].enumerated() {
                var nodes = [node("conv", .conv2d(filters: 3, kernel: k, stride: s, padding: p), ["input"])]
                if let act { nodes.append(node("act", act, ["conv"])) }
                try check("conv\(i).\(j)", input: shape, nodes, seed: UInt64(10 + i))
            }
        }
    }

    func testDepthwiseMultiplierOneAndTwo() throws {
        for (i, (m, p, s)) in [(1, Padding.same, 1), (2, .same, 2), (2, .valid, 1), (1, .valid, 2)].enumerated() {
            for (j, act) in [nil, OpSpec.relu].enumerated() {
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
        XCTAssertEqual(q.tensors[q.output].scale, q.tensors[q.input].scale, "pools keep the input's qparams")
        XCTAssertEqual(q.tensors[q.output].zeroPoint, q.tensors[q.input].zeroPoint)
    }

    func testAddWithAndWithoutReLU() throws {
        for (i, act) in [nil, OpSpec.relu].enumerated() {
            var nodes = [
                node("c", .conv2d(filters: 3, kernel: Size2(1, 1), stride: Size2(1, 1), padding: .same), ["input"]),
                node("sum", .add, ["input", "c"]),
            ]
            if let act { nodes.append(node("act", act, ["sum"])) }
            let q = try check("add\(i)", input: [4, 4, 3], nodes, seed: UInt64(60 + i))
            XCTAssertEqual(q.ops.last?.kind, .add)
            XCTAssertEqual(q.ops.last?.add?.leftShift, 20)
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
        XCTAssertEqual(q.ops.map { $0.kind }, [.conv2d, .maxPool2d, .clamp, .reshape, .fullyConnected])
        let clamp = q.ops[2], t = q.tensors[clamp.output]
        XCTAssertEqual(clamp.actMin, max(-128, t.zeroPoint))
        XCTAssertEqual(clamp.actMax, Int32(min(127, Double(t.zeroPoint) + (6 / Double(t.scale)).rounded())))
    }
}
