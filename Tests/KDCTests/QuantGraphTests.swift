import Foundation
import XCTest
@testable import KDC

/// Graph rewrites (batch-norm folding, fusion), calibration and an end-to-end quantization.
final class QuantGraphTests: XCTestCase {
    /// The graph of `spec` with seeded random float parameters (dense, conv, depthwise, batch norm).
    func randomParams(_ spec: GraphSpec, _ rng: inout SeededRNG) throws -> Graph {
        var g = try Graph(spec: spec)
        func rand(_ n: Int, _ s: Float, _ offset: Float = 0) -> Tensor {
            Tensor(shape: [n], data: (0..<n).map { _ in rng.normal() * s + offset })
        }
        for (i, n) in g.nodes.enumerated() {
            let s = g[n.inputs[0]].shape
            switch n.op {
            case let .dense(u):
                g.nodes[i].params = .affine(weight: rand(s.reduce(1, *) * u, 0.3), bias: rand(u, 0.2))
            case let .conv2d(f, k, _, _):
                g.nodes[i].params = .affine(weight: rand(k.h * k.w * s[2] * f, 0.3), bias: rand(f, 0.2))
            case let .depthwiseConv2d(k, _, _, m):
                g.nodes[i].params = .affine(weight: rand(k.h * k.w * s[2] * m, 0.3), bias: rand(s[2] * m, 0.2))
            case .batchNorm:
                let c = s.last!
                let (gamma, beta, mean) = (rand(c, 0.3, 1), rand(c, 0.3), rand(c, 0.5))
                let variance = Tensor(shape: [c], data: (0..<c).map { _ in 0.2 + rng.uniform() * 2 })
                g.nodes[i].params = .batchNorm(gamma: gamma, beta: beta, mean: mean, variance: variance)
            default: break
            }
        }
        return g
    }

    static let bnSpec = GraphSpec(
        inputShape: [6, 6, 2],
        nodes: [
            NodeSpec(
                name: "conv", op: .conv2d(filters: 4, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same), inputs: ["input"]
            ),
            NodeSpec(name: "bn1", op: .batchNorm(epsilon: 1e-3, momentum: 0.9), inputs: ["conv"]),
            NodeSpec(name: "relu1", op: .relu, inputs: ["bn1"]),
            NodeSpec(
                name: "dw", op: .depthwiseConv2d(kernel: Size2(3, 3), stride: Size2(2, 2), padding: .same, multiplier: 2),
                inputs: ["relu1"]),
            NodeSpec(name: "bn2", op: .batchNorm(epsilon: 1e-3, momentum: 0.9), inputs: ["dw"]),
            NodeSpec(name: "relu2", op: .relu6, inputs: ["bn2"]),
            NodeSpec(name: "flat", op: .flatten, inputs: ["relu2"]),
            NodeSpec(name: "fc1", op: .dense(units: 8), inputs: ["flat"]),
            NodeSpec(name: "drop", op: .dropout(rate: 0.5), inputs: ["fc1"]),
            NodeSpec(name: "bn3", op: .batchNorm(epsilon: 1e-3, momentum: 0.9), inputs: ["drop"]),
            NodeSpec(name: "fc2", op: .dense(units: 3), inputs: ["bn3"]),
        ])

    func testBatchNormFoldingKeepsOutputs() throws {
        var rng = SeededRNG(seed: 1)
        let g = try randomParams(Self.bnSpec, &rng)
        let folded = try g.foldingBatchNorm()
        XCTAssertEqual(folded.spec.nodes.map { $0.name }, ["conv", "relu1", "dw", "relu2", "flat", "fc1", "fc2"])
        XCTAssertEqual(folded.spec.nodes[5].name, "fc1")
        XCTAssertEqual(folded.spec.nodes[6].inputs, ["fc1"])
        let lowered = try g.lowered()
        XCTAssertEqual(
            lowered.nodes.map { DeviceOp($0.op) }, [.conv2d, .depthwiseConv2d, .reshape, .fullyConnected, .fullyConnected])
        XCTAssertEqual(lowered.nodes.map { $0.activation }, [.relu, .relu6, .none, .none, .none])
        XCTAssertEqual(lowered.tensors.map(\.name), ["input", "conv", "dw", "flat", "fc1", "fc2"])
        func id(_ g: Graph, _ name: String) -> Int { g.tensors.firstIndex { $0.name == name }! }
        for _ in 0..<10 {
            let x = (0..<72).map { _ in rng.normal() }
            let all = g.runFloat(x)
            let want = all[g.output.index]
            let got = folded.predictFloat(x), low = lowered.runFloat(x)
            for j in 0..<want.count {
                XCTAssertEqual(got[j], want[j], accuracy: 1e-4)
                XCTAssertEqual(low[lowered.output.index][j], want[j], accuracy: 1e-4)
            }
            // Intermediate tensors too: the folded conv carries bn1 + relu1.
            for (a, b) in zip(low[id(lowered, "conv")], all[id(g, "relu1")]) { XCTAssertEqual(a, b, accuracy: 1e-4) }
            for (a, b) in zip(low[id(lowered, "dw")], all[id(g, "relu2")]) { XCTAssertEqual(a, b, accuracy: 1e-4) }
        }
    }

    func testBatchNormThatCannotBeFoldedIsAnError() throws {
        var rng = SeededRNG(seed: 2)
        let afterPool = GraphSpec(
            inputShape: [4, 4, 2],
            nodes: [
                NodeSpec(name: "p", op: .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid), inputs: ["input"]),
                NodeSpec(name: "bn", op: .batchNorm(epsilon: 1e-3, momentum: 0.9), inputs: ["p"]),
            ])
        let g = try randomParams(afterPool, &rng)
        XCTAssertThrowsError(try g.foldingBatchNorm()) { XCTAssertTrue("\($0)".contains("layer 'bn'"), "\($0)") }
        // A conv whose output is read by the batch norm and by another layer.
        let shared = GraphSpec(
            inputShape: [4],
            nodes: [
                NodeSpec(name: "d", op: .dense(units: 4), inputs: ["input"]),
                NodeSpec(name: "bn", op: .batchNorm(epsilon: 1e-3, momentum: 0.9), inputs: ["d"]),
                NodeSpec(name: "sum", op: .add, inputs: ["d", "bn"]),
            ])
        let g2 = try randomParams(shared, &rng)
        XCTAssertThrowsError(try g2.foldingBatchNorm()) { XCTAssertTrue("\($0)".contains("other readers"), "\($0)") }
        XCTAssertThrowsError(
            try quantize(g2, calibration: Dataset(name: "c", sampleShape: [4], x: [0, 1, 2, 3], labels: [0], numClasses: 1)))
    }

    func testQuantizedBatchNormModelTracksFloat() throws {
        var rng = SeededRNG(seed: 3)
        let g = try randomParams(Self.bnSpec, &rng)
        let data = Dataset(
            name: "r", sampleShape: [6, 6, 2], x: (0..<(100 * 72)).map { _ in rng.normal() },
            labels: [Int32](repeating: -1, count: 100), numClasses: 3)
        let q = try quantize(g, calibration: data.subset(Array(0..<50)), method: .minmax)
        XCTAssertEqual(q.nodes.map { DeviceOp($0.op) }, [.conv2d, .depthwiseConv2d, .reshape, .fullyConnected, .fullyConnected])
        XCTAssertEqual(q.nodes[0].int8?.weights?.shape, [4, 3, 3, 2])
        XCTAssertEqual(q.nodes[1].int8?.weights?.shape, [3, 3, 8])
        XCTAssertEqual(q.nodes[3].int8?.weights?.shape, [8, 72])
        XCTAssertEqual(q.window(of: q.nodes[1])?.padTop, 0); XCTAssertEqual(q.window(of: q.nodes[0])?.padTop, 1)
        let report = quantizationReport(float: g, quantized: q, test: data.subset(Array(50..<100)))
        XCTAssertNil(report.floatAccuracy)
        XCTAssertEqual(report.samples, 50)
        for l in report.layers { XCTAssertGreaterThan(l.sqnrDB, 20, "\(l.name)") }
    }

    func testCalibrationMethodsClipOutliers() throws {
        var rng = SeededRNG(seed: 4)
        let spec = GraphSpec.sequential(inputShape: [16], [.dense(units: 4)])
        let g = try randomParams(spec, &rng)
        var x = (0..<(200 * 16)).map { _ in rng.normal() }
        x[17] = 60  // one outlier
        let data = Dataset(name: "c", sampleShape: [16], x: x, labels: [Int32](repeating: 0, count: 200), numClasses: 4)
        let mm = try quantize(g, calibration: data, method: .minmax)
        let pc = try quantize(g, calibration: data, method: .percentile, percentile: 99.9)
        let mse = try quantize(g, calibration: data, method: .mse)
        func range(_ q: Graph, _ t: Int) -> ClosedRange<Float> { q.tensors[t].quant!.calibratedRange! }
        XCTAssertEqual(range(mm, 0).upperBound, 60)
        XCTAssertLessThan(range(pc, 0).upperBound, 10)
        XCTAssertGreaterThan(range(pc, 0).upperBound, 2)
        // One outlier among 3,200 values costs more clipped than the rounding it saves: mse keeps it.
        XCTAssertLessThanOrEqual(range(mse, 0).upperBound, 60)
        for q in [mm, pc, mse] {
            for (i, t) in q.tensors.enumerated() {
                let r = range(q, i), p = t.quant!
                XCTAssertLessThanOrEqual(r.lowerBound, 0); XCTAssertGreaterThanOrEqual(r.upperBound, 0)
                XCTAssertTrue((-128...127).contains(p.zeroPoint)); XCTAssertGreaterThan(p.scale, 0)
            }
        }
        XCTAssertThrowsError(try quantize(g, calibration: data, method: .percentile, percentile: 20))
        XCTAssertThrowsError(try quantize(g, calibration: data.subset([]), method: .minmax))
    }

    func testMSEClipsWhenManyValuesGainFromAFinerStep() {
        // Histogram over [0, 100]: 5,000 values in each bin up to 10, one value at 100.
        // Full range: step 100/255, error ≈ 1.03M · step²/12 ≈ 13,000. α = 0.2: step 20/255,
        // error ≈ 530 plus the clipped outlier (100 − 20)² = 6,400. So the range shrinks.
        var h = [Double](repeating: 0, count: Calibration.bins)
        for i in 0..<205 { h[i] = 5000 }
        h[Calibration.bins - 1] = 1
        let (lo, hi) = Calibration.mseRange(h, 0, 100)
        XCTAssertEqual(lo, 0)
        XCTAssertLessThan(hi, 50)
        XCTAssertGreaterThanOrEqual(hi, 10)
        // Without the crowd the outlier wins and the full range is kept.
        var few = [Double](repeating: 0, count: Calibration.bins)
        for i in 0..<205 { few[i] = 10 }
        few[Calibration.bins - 1] = 1
        XCTAssertEqual(Calibration.mseRange(few, 0, 100).1, 100)
        // Percentile from a histogram of 100 equal bins over [0, 100]: p = 99 drops one bin at each end.
        let flat = [Double](repeating: 1, count: 100)
        let r = Calibration.percentileRange(flat, 0, 100, 99)
        XCTAssertEqual(r.0, 1, accuracy: 1e-9); XCTAssertEqual(r.1, 99, accuracy: 1e-9)
        let r2 = Calibration.percentileRange(flat, 0, 100, 97.5)
        XCTAssertEqual(r2.0, 2, accuracy: 1e-9); XCTAssertEqual(r2.1, 98, accuracy: 1e-9)
    }

    func testEndToEndRandomDenseModel() throws {
        let spec = GraphSpec.sequential(
            inputShape: [12], [.dense(units: 32), .relu, .dense(units: 24), .relu6, .dense(units: 6)])
        let model = try Model(spec: spec, seed: 11)
        let float = model.floatGraph
        var rng = SeededRNG(seed: 12)
        let n = 600
        let x = (0..<(n * 12)).map { _ in rng.normal() }
        // The float reference agrees with the model's own forward pass.
        let logits = model.predict(Tensor(shape: [n, 12], data: x))
        for i in 0..<20 {
            let f = float.predictFloat(Array(x[(i * 12)..<((i + 1) * 12)]))
            for j in 0..<6 { XCTAssertEqual(f[j], logits.data[i * 6 + j], accuracy: 1e-4) }
        }
        // Labels: the float argmax for the first half, random for the rest.
        var labels = logits.argmaxRows().map { Int32($0) }
        for i in (n / 2)..<n { labels[i] = Int32(rng.int(below: 6)) }
        let data = Dataset(name: "rand", sampleShape: [12], x: x, labels: labels, numClasses: 6)
        let q = try quantize(float, calibration: data.subset(Array(0..<200)), method: .minmax)
        XCTAssertEqual(q.nodes.map { DeviceOp($0.op) }, [.fullyConnected, .fullyConnected, .fullyConnected])
        XCTAssertEqual(q[q.input].shape, [12]); XCTAssertEqual(q[q.output].shape, [6])
        XCTAssertEqual(q.inputQuant, q.tensors[0].quant)
        let test = data.subset(Array(200..<n))
        let r = quantizationReport(float: float, quantized: q, test: test)
        XCTAssertEqual(r.samples, 400)
        XCTAssertGreaterThanOrEqual(r.top1Agreement, 0.95)
        let fa = try XCTUnwrap(r.floatAccuracy), ia = try XCTUnwrap(r.int8Accuracy)
        let argmax = logits.argmaxRows()
        XCTAssertEqual(fa, Double((200..<n).filter { labels[$0] == Int32(argmax[$0]) }.count) / 400, accuracy: 1e-9)
        XCTAssertGreaterThan(fa, 0.25)  // 100 labels are the float argmax
        XCTAssertEqual(ia, fa, accuracy: 0.05)
        XCTAssertEqual(r.layers.count, 3)
        XCTAssertEqual(r.layerSamples, 64)
        for l in r.layers { XCTAssertGreaterThan(l.sqnrDB, 25, "\(l.name)"); XCTAssertLessThan(l.sqnrDB, 80) }
        // Deterministic: the same inputs give the same graph.
        XCTAssertEqual(try quantize(float, calibration: data.subset(Array(0..<200))), q)
        // The report is JSON-encodable.
        XCTAssertNoThrow(try JSONEncoder().encode(r))
    }
}
