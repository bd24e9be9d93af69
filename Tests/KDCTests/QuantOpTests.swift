import XCTest
@testable import KDC

/// Tiny hand-checkable cases for each int8 op of the reference interpreter.
final class QuantOpTests: XCTestCase {
    static let one: (Int32, Int32) = (1 << 30, 1)  // m = 1.0
    static let half: (Int32, Int32) = (1 << 30, 0)  // m = 0.5

    func t(_ shape: [Int], _ z: Int32 = 0, _ s: Float = 1) -> GraphTensor {
        GraphTensor(name: "t", shape: shape, type: .int8, quant: QuantParams(scale: s, zeroPoint: z))
    }

    /// Runs one node over tensors `ts` (its inputs are 0 (and 1), its output the last tensor).
    func run(_ node: GraphNode, _ ts: [GraphTensor], _ ins: [[Int8]]) -> [Int8] {
        let g = Graph(tensors: ts, nodes: [node], input: TensorID(0), output: node.output)
        return Int8Interpreter.execute(node, ins, g)
    }

    func node(_ op: Op, _ inputs: [Int] = [0], _ output: Int = 1, _ p: Int8Params = Int8Params()) -> GraphNode {
        GraphNode(name: "n", op: op, inputs: inputs.map(TensorID.init), output: TensorID(output), int8: p)
    }

    func weights(_ values: [Int8], _ shape: [Int], bias: [Int32], _ m: (Int32, Int32)) -> Int8Weights {
        Int8Weights(
            values: values, shape: shape, scales: [], bias: bias, multipliers: [Int32](repeating: m.0, count: bias.count),
            shifts: [Int32](repeating: m.1, count: bias.count))
    }

    func testFullyConnected() {
        // x − zx = [2, −2]; acc0 = 10 + 2·1 − 2·2 = 8 → 4; acc1 = −5 − 6 − 8 = −19 → −9.5 → −10; + zy 3.
        var op = node(.dense(units: 2), [0], 1, Int8Params(weights: weights([1, 2, -3, 4], [2, 2], bias: [10, -5], Self.half)))
        let ts = [t([2], 1), t([2], 3)]
        XCTAssertEqual(run(op, ts, [[3, -1]]), [7, -7])
        op.int8?.actMin = 3  // fused ReLU with zy = 3
        XCTAssertEqual(run(op, ts, [[3, -1]]), [7, 3])
    }

    func testConv2DSamePaddingAndOHWILayout() {
        // 3×3 input 1...9, 2×2 kernel, stride 1, SAME: pad total 1 → top/left 0, taps past the
        // bottom/right edge contribute nothing. Channel 0 sums the window; channel 1 copies x.
        let op = node(
            .conv2d(filters: 2, kernel: Size2(2, 2), stride: Size2(1, 1), padding: .same), [0], 1,
            Int8Params(weights: weights([1, 1, 1, 1, 1, 0, 0, 0], [2, 2, 2, 1], bias: [0, 0], Self.one)))
        let y = run(op, [t([3, 3, 1]), t([3, 3, 2])], [[1, 2, 3, 4, 5, 6, 7, 8, 9]])
        XCTAssertEqual(stride(from: 0, to: 18, by: 2).map { y[$0] }, [12, 16, 9, 24, 28, 15, 15, 17, 9])
        XCTAssertEqual(stride(from: 1, to: 18, by: 2).map { y[$0] }, [1, 2, 3, 4, 5, 6, 7, 8, 9])
    }

    func testConv2DStrideTwoWithPadTopAndZeroPoint() {
        // 4×4 ones (zx = −1 so x − zx = 2), 3×3 kernel of ones, stride 2, SAME: out 2×2,
        // pad total = 1·2 + 3 − 4 = 1 → pad top/left 0; windows rows {0,1,2} and {2,3}.
        // Counts 9, 6, 6, 4 taps → acc = 2·taps − 3 (bias), m = 0.5, zy = −2.
        let p = Int8Params(weights: weights([Int8](repeating: 1, count: 9), [1, 3, 3, 1], bias: [-3], Self.half))
        let op = node(.conv2d(filters: 1, kernel: Size2(3, 3), stride: Size2(2, 2), padding: .same), [0], 1, p)
        let ts = [t([4, 4, 1], -1), t([2, 2, 1], -2)]
        let y = run(op, ts, [[Int8](repeating: 1, count: 16)])
        // 15·0.5 = 7.5 → 8; 9·0.5 = 4.5 → 5; 5·0.5 = 2.5 → 3; then − 2.
        XCTAssertEqual(y, [6, 3, 3, 1])
        // Explicit padding (as read from an artifact): windows rows {−1,0,1} and {1,2,3}: 4, 6, 6, 9 taps.
        let padded = node(
            .conv2d(filters: 1, kernel: Size2(3, 3), stride: Size2(2, 2), padding: .explicit(top: 1, left: 1)), [0], 1, p)
        XCTAssertEqual(run(padded, ts, [[Int8](repeating: 1, count: 16)]), [1, 3, 3, 6])
    }

    func testDepthwiseMultiplierTwo() {
        // [1, 1, 2] = [5, −3]; mult 2: oc 0,1 read ic 0 (w 1, 2); oc 2,3 read ic 1 (w 3, −1).
        let op = node(
            .depthwiseConv2d(kernel: Size2(1, 1), stride: Size2(1, 1), padding: .valid, multiplier: 2), [0], 1,
            Int8Params(weights: weights([1, 2, 3, -1], [1, 1, 4], bias: [0, 0, 0, 1], Self.one)))
        XCTAssertEqual(run(op, [t([1, 1, 2]), t([1, 1, 4])], [[5, -3]]), [5, 10, -9, 4])
    }

    func testMaxAndAveragePoolCountInBoundsTaps() {
        // 3×3 input −1...−9, 2×2 window, stride 2, SAME: pad total 1 → top/left 0.
        let x: [Int8] = [-1, -2, -3, -4, -5, -6, -7, -8, -9]
        let ts = [t([3, 3, 1]), t([2, 2, 1])]
        let (k, s) = (Size2(2, 2), Size2(2, 2))
        XCTAssertEqual(run(node(.maxPool2d(pool: k, stride: s, padding: .same)), ts, [x]), [-1, -3, -7, -9])
        var avg = node(.avgPool2d(pool: k, stride: s, padding: .same))
        // −12/4 = −3; −9/2 = −4.5 → −5; −15/2 = −7.5 → −8; −9/1.
        XCTAssertEqual(run(avg, ts, [x]), [-3, -5, -8, -9])
        XCTAssertEqual(run(avg, ts, [x.map { -$0 }]), [3, 5, 8, 9])
        avg.int8 = Int8Params(actMin: -4, actMax: 8)
        XCTAssertEqual(run(avg, ts, [x]), [-3, -4, -4, -4])
    }

    func testGlobalAveragePool() {
        // channel 0: 1+2+3+5 = 11/4 = 2.75 → 3; channel 1: −2/4 = −0.5 → −1.
        XCTAssertEqual(run(node(.globalAvgPool), [t([2, 2, 2]), t([2])], [[1, 0, 2, -1, 3, -1, 5, 0]]), [3, -1])
    }

    func testRoundedDivideOfInt32Min() {
        // A global average pool over 2^24 taps of −128 sums to Int32.min: no negation overflow.
        XCTAssertEqual(FixedPoint.roundedDivide(Int32.min, 1 << 24), -128)
        XCTAssertEqual(FixedPoint.roundedDivide(Int32.min, 1), Int32.min)
        XCTAssertEqual(FixedPoint.roundedDivide(-5, 2), -3)
        XCTAssertEqual(FixedPoint.roundedDivide(5, 2), 3)
    }

    func testAddScheme() throws {
        // sa = 1, sb = 0.5, so = 1: twice_max = 2; ma = 0.5, mb = 0.25, mo = 2/2^20 = 2^−19.
        let a = try FixedPoint.encode(0.5), b = try FixedPoint.encode(0.25), o = try FixedPoint.encode(0x1p-19)
        XCTAssertTrue(a == (1 << 30, 0) && b == (1 << 30, -1) && o == (1 << 30, -18))
        let params = AddParams(
            leftShift: 20, input1Multiplier: a.M, input1Shift: a.e, input2Multiplier: b.M,
            input2Shift: b.e, outputMultiplier: o.M, outputShift: o.e)
        var op = node(.add, [0, 1], 2, Int8Params(add: params))
        let ts = [t([3], 0, 1), t([3], 0, 0.5), t([3], 0, 1)]
        // 3 + 2.5 = 5.5 → 6; −3 − 2.5 → −6; 100 + 50 → 127 (saturates at the clamp).
        XCTAssertEqual(run(op, ts, [[3, -3, 100], [5, -5, 100]]), [6, -6, 127])
        op.int8?.actMin = 0
        XCTAssertEqual(run(op, ts, [[3, -3, 100], [5, -5, 100]]), [6, 0, 127])
    }

    func testLeakyReLUTwoMultipliers() throws {
        // s_x = 0.625, s_y = 0.5, α = 0.25: identity 1.25 = 0.625·2^1, α·1.25 = 0.3125 = 0.625·2^−1.
        let l = try Quantizer.leakyParams(alpha: 0.25, inScale: 0.625, outScale: 0.5, layer: "l")
        XCTAssertEqual(
            l,
            LeakyReluParams(identityMultiplier: 1_342_177_280, identityShift: 1, alphaMultiplier: 1_342_177_280, alphaShift: -1))
        var op = node(.leakyRelu(alpha: 0.25), [0], 1, Int8Params(leaky: l))
        let ts = [t([7], -7, 0.625), t([7], 5, 0.5)]
        // v = x + 7: 0 → 0; 10·1.25 = 12.5 → 13 (half away); −113·0.3125 = −35.3125 → −35;
        // −85·0.3125 = −26.5625 → −27; 134·1.25 = 167.5 → 168 (→ 127); −114·0.3125 = −35.625 → −36;
        // −8·0.3125 = −2.5 → −3 (half away); then + z_y 5.
        let x: [Int8] = [-7, 3, -120, -92, 127, -121, -15]
        XCTAssertEqual(run(op, ts, [x]), [5, 18, -30, -22, 127, -31, 2])
        op.int8?.actMin = 0
        XCTAssertEqual(run(op, ts, [x]), [5, 18, 0, 0, 127, 0, 2])
        // α = 0 encodes as (0, 0): everything below the zero point maps to z_y.
        let z = try Quantizer.leakyParams(alpha: 0, inScale: 0.625, outScale: 0.5, layer: "l")
        XCTAssertTrue(z.alphaMultiplier == 0 && z.alphaShift == 0)
        let t4 = [t([4], -7, 0.625), t([4], 5, 0.5)]
        XCTAssertEqual(run(node(.leakyRelu(alpha: 0), [0], 1, Int8Params(leaky: z)), t4, [[-128, -8, -7, 3]]), [5, 5, 5, 18])
    }

    func testClampAndReshape() {
        let c = node(.clamp, [0], 1, Int8Params(actMin: -10, actMax: 20))
        XCTAssertEqual(run(c, [t([3]), t([3])], [[-128, 0, 127]]), [-10, 0, 20])
        XCTAssertEqual(run(node(.reshape), [t([1, 1, 3]), t([3])], [[-128, 0, 127]]), [-128, 0, 127])
    }
}
