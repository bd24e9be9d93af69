import Foundation
@testable import KDC

/// Small quantized models for the export tests, built through the real pipeline
/// (FloatGraph with seeded random parameters → `quantize` on seeded random data).
enum ExportFixtures {
    /// `graph` with seeded random float parameters on its dense, conv and depthwise nodes.
    static func randomParams(_ graph: Graph, _ rng: inout SeededRNG) -> Graph {
        var g = graph
        func rand(_ n: Int, _ s: Float) -> Tensor { Tensor(shape: [n], data: (0..<n).map { _ in rng.normal() * s }) }
        for (i, n) in g.nodes.enumerated() {
            let s = g[n.inputs[0]].shape
            switch n.op {
            case let .dense(u):
                g.nodes[i].params = .affine(weight: rand(s.reduce(1, *) * u, 0.3), bias: rand(u, 0.2))
            case let .conv2d(f, k, _, _):
                g.nodes[i].params = .affine(weight: rand(k.h * k.w * s[2] * f, 0.3), bias: rand(f, 0.2))
            case let .depthwiseConv2d(k, _, _, m):
                g.nodes[i].params = .affine(weight: rand(k.h * k.w * s[2] * m, 0.3), bias: rand(s[2] * m, 0.2))
            default: break
            }
        }
        return g
    }

    static func data(shape: [Int], count: Int, classes: Int, seed: UInt64) -> Dataset {
        var rng = SeededRNG(seed: seed)
        let k = shape.reduce(1, *)
        let x = (0..<(count * k)).map { _ in rng.normal() }
        let labels = (0..<count).map { _ in Int32(rng.int(below: classes)) }
        return Dataset(name: "random", sampleShape: shape, x: x, labels: labels, numClasses: classes)
    }

    /// dense 32 → relu → dense 16 → relu6 → dense 10 on [20] inputs.
    static func mlp(seed: UInt64 = 1) throws -> (Graph, Dataset) {
        let spec = GraphSpec.sequential(
            inputShape: [20], [.dense(units: 32), .relu, .dense(units: 16), .relu6, .dense(units: 10)])
        let float = try Model(spec: spec, seed: seed).floatGraph
        let d = data(shape: [20], count: 300, classes: 10, seed: seed + 100)
        return (try quantize(float, calibration: d.subset(Array(0..<100))), d)
    }

    /// Every op kind: conv (fused relu), depthwise ×2, a standalone relu6 (CLAMP, its input is
    /// also read by the residual ADD), conv 1×1, ADD, max pool, average pool (SAME), global
    /// average pool → dense, flatten (RESHAPE) → dense, and a final ADD of the two heads.
    static let cnnSpec = GraphSpec(
        inputShape: [8, 8, 2],
        nodes: [
            NodeSpec(
                name: "conv1", op: .conv2d(filters: 4, kernel: Size2(3, 3), stride: Size2(1, 1), padding: .same),
                inputs: ["input"]),
            NodeSpec(name: "relu1", op: .relu, inputs: ["conv1"]),
            NodeSpec(
                name: "dw", op: .depthwiseConv2d(kernel: Size2(3, 3), stride: Size2(2, 2), padding: .same, multiplier: 2),
                inputs: ["relu1"]),
            NodeSpec(name: "relu2", op: .relu6, inputs: ["dw"]),
            NodeSpec(
                name: "c3", op: .conv2d(filters: 8, kernel: Size2(1, 1), stride: Size2(1, 1), padding: .valid), inputs: ["relu2"]),
            NodeSpec(name: "res", op: .add, inputs: ["dw", "c3"]),
            NodeSpec(name: "mp", op: .maxPool2d(pool: Size2(2, 2), stride: Size2(2, 2), padding: .valid), inputs: ["res"]),
            NodeSpec(name: "ap", op: .avgPool2d(pool: Size2(3, 3), stride: Size2(1, 1), padding: .same), inputs: ["mp"]),
            NodeSpec(name: "gap", op: .globalAvgPool, inputs: ["ap"]),
            NodeSpec(name: "fc1", op: .dense(units: 5), inputs: ["gap"]),
            NodeSpec(name: "flat", op: .flatten, inputs: ["ap"]),
            NodeSpec(name: "fc2", op: .dense(units: 5), inputs: ["flat"]),
            NodeSpec(name: "out", op: .add, inputs: ["fc1", "fc2"]),
        ])

    static func cnn(seed: UInt64 = 2) throws -> (Graph, Dataset) {
        var rng = SeededRNG(seed: seed)
        let float = randomParams(try Graph(spec: cnnSpec), &rng)
        let d = data(shape: [8, 8, 2], count: 250, classes: 5, seed: seed + 100)
        return (try quantize(float, calibration: d.subset(Array(0..<100))), d)
    }

    /// `cnnSpec` with a LEAKY_RELU between the 1×1 conv and the residual ADD: every device op.
    /// (`cnn()` stays as it is: `runtime/tests/kdc_exported.h` is generated from it.) A new op
    /// joins this spec; `testDeviceOpsAreTheRuntimesOpTable` fails until it does.
    static var everyOpSpec: GraphSpec {
        var s = cnnSpec
        let i = s.nodes.firstIndex { $0.name == "res" }!
        s.nodes.insert(NodeSpec(name: "leaky", op: .leakyRelu(alpha: 0.1), inputs: ["c3"]), at: i)
        s.nodes[i + 1].inputs = ["dw", "leaky"]
        return s
    }

    static func everyOp(seed: UInt64 = 2) throws -> (Graph, Dataset) {
        var rng = SeededRNG(seed: seed)
        let float = randomParams(try Graph(spec: everyOpSpec), &rng)
        let d = data(shape: [8, 8, 2], count: 250, classes: 5, seed: seed + 100)
        return (try quantize(float, calibration: d.subset(Array(0..<100))), d)
    }

    /// A structural int8 graph for planner tests: tensors of the given flat sizes, ops given as
    /// (op, inputs, output) tensor indices. No weights (the planner does not read them).
    static func skeleton(sizes: [Int], ops: [(Op, [Int], Int)], output: Int) -> Graph {
        let tensors = sizes.enumerated().map { i, n in
            GraphTensor(name: "t\(i)", shape: [n], type: .int8, quant: QuantParams(scale: 0.1, zeroPoint: 0))
        }
        let nodes = ops.enumerated().map { i, o in
            GraphNode(name: "op\(i)", op: o.0, inputs: o.1.map(TensorID.init), output: TensorID(o.2), int8: Int8Params())
        }
        return Graph(tensors: tensors, nodes: nodes, input: TensorID(0), output: TensorID(output))
    }

    static func tempDir(_ tag: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kdc-\(tag)-\(getpid())-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}
