import Foundation

@testable import KDC

/// Int8 graphs in TensorFlow Lite arithmetic built by hand, with the parameters TFLite derives
/// (docs/QUANTIZATION.md §8): what an imported `.tflite` model becomes, without a reader.
enum TFLiteFixtures {
    /// Every op a `.tflite` graph can hold, in one chain on a [8, 8, 3] input:
    /// CONV_2D 3x3 SAME → 6 (ReLU; per-channel multipliers, two of them exact ties) →
    /// DEPTHWISE_CONV_2D 3x3 stride 2 → MAX_POOL_2D 2x2 and AVERAGE_POOL_2D 2x2 of it → ADD of the
    /// two → CLAMP (ReLU) → GLOBAL_AVERAGE_POOL → RESHAPE → FULLY_CONNECTED 6 → 10 (double scales)
    /// → SOFTMAX (β 1). Weights and biases from `seed`.
    static func everyOp(seed: UInt64 = 5) throws -> (Graph, Dataset) {
        var rng = SeededRNG(seed: seed)
        func i8(_ n: Int, _ r: Int32) -> [Int8] { (0..<n).map { _ in Int8(Int32(rng.int(below: Int(2 * r + 1))) - r) } }
        func i32(_ n: Int, _ r: Int32) -> [Int32] { (0..<n).map { _ in Int32(rng.int(below: Int(2 * r + 1))) - r } }
        func q(_ s: Float, _ z: Int32) -> QuantParams { QuantParams(scale: s, zeroPoint: z) }
        let shapes: [[Int]] = [
            [8, 8, 3], [8, 8, 6], [4, 4, 6], [3, 3, 6], [3, 3, 6], [3, 3, 6], [3, 3, 6], [6], [6], [10], [10],
        ]
        let quants = [
            q(0.02, -5), q(0.04, 3), q(0.05, -2), q(0.05, -2), q(0.05, -2), q(0.07, 1), q(0.07, 1), q(0.07, 1), q(0.07, 1),
            q(0.1, -4), q(1.0 / 256, -128),
        ]
        let tensors = zip(shapes, quants).enumerated().map { i, sq in
            GraphTensor(name: i == 0 ? "input" : "t\(i)", shape: sq.0, type: .int8, quant: sq.1)
        }
        func weights(_ values: [Int8], _ shape: [Int], scales: [Float], sIn: Float, sOut: Float) throws -> Int8Weights {
            let pairs = try scales.map {
                try TFLiteArithmetic.quantizeMultiplier(
                    TFLiteArithmetic.convMultiplier(inputScale: sIn, weightScale: $0, outputScale: sOut), what: "fixture")
            }
            return Int8Weights(
                values: values, shape: shape, scales: scales, bias: i32(scales.count, 300), multipliers: pairs.map(\.M),
                shifts: pairs.map(\.e))
        }
        // conv: s_in·s_w/s_out = 0.5 and 0.25 for the first two channels (exact ties)
        let convScales: [Float] = [1.0, 0.5, 0.013, 0.021, 0.008, 0.017]
        let conv = try weights(i8(6 * 9 * 3, 40), [6, 3, 3, 3], scales: convScales, sIn: 0.02, sOut: 0.04)
        let dw = try weights(i8(9 * 6, 60), [3, 3, 6], scales: [0.011, 0.02, 0.009, 0.015, 0.03, 0.012], sIn: 0.04, sOut: 0.05)
        let fcScales: [Float] = (0..<10).map { 0.004 + 0.001 * Float($0) }
        let words = fcScales.map { TFLiteArithmetic.scaleWords(Double(Float(0.07)) * Double($0) / Double(Float(0.1))) }
        let fc = Int8Weights(
            values: i8(10 * 6, 100), shape: [10, 6], scales: fcScales, bias: i32(10, 2000), multipliers: words.map(\.low),
            shifts: words.map(\.high))
        let add = try TFLiteArithmetic.addParams(0.05, 0.05, output: 0.07)
        let sm = try TFLiteArithmetic.softmaxParams(beta: 1, inputScale: 0.1)
        let k3 = Size2(3, 3), k2 = Size2(2, 2), s1 = Size2(1, 1), s2 = Size2(2, 2)
        func node(_ name: String, _ op: Op, _ ins: [Int], _ out: Int, _ p: Int8Params = Int8Params()) -> GraphNode {
            GraphNode(name: name, op: op, inputs: ins.map(TensorID.init), output: TensorID(out), int8: p)
        }
        let nodes = [
            node(
                "conv", .conv2d(filters: 6, kernel: k3, stride: s1, padding: .same), [0], 1, Int8Params(actMin: 3, weights: conv)),
            node(
                "dw", .depthwiseConv2d(kernel: k3, stride: s2, padding: .same, multiplier: 1), [1], 2, Int8Params(weights: dw)),
            node("maxpool", .maxPool2d(pool: k2, stride: s1, padding: .valid), [2], 3),
            node("avgpool", .avgPool2d(pool: k2, stride: s1, padding: .valid), [2], 4),
            node("add", .add, [3, 4], 5, Int8Params(add: add)),
            node("relu", .clamp, [5], 6, Int8Params(actMin: 1)),
            node("gap", .globalAvgPool, [6], 7),
            node("reshape", .reshape, [7], 8),
            node("fc", .dense(units: 10), [8], 9, Int8Params(weights: fc)),
            node("softmax", .softmax(beta: 1), [9], 10, Int8Params(softmax: sm)),
        ]
        var g = Graph(tensors: tensors, nodes: nodes, input: TensorID(0), output: TensorID(10))
        g.arithmetic = .tflite
        let data = ExportFixtures.data(shape: [8, 8, 3], count: 120, classes: 10, seed: seed)
        return (g, data)
    }
}
