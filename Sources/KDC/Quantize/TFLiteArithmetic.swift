import Foundation

/// TensorFlow Lite's int8 arithmetic, as LiteRT 2.3.0's reference kernels compute it
/// (docs/QUANTIZATION.md §8): the arithmetic of a graph whose `arithmetic` is `.tflite`. Written
/// from the published algorithms (TFLite's `MultiplyByQuantizedMultiplier`, gemmlowp's
/// `fixedpoint.h`, the reference softmax and the parameter preparation of `add.cc` and
/// `activations.cc`); the C runtime (`runtime/src/kdc_tflite.c`) implements it independently and
/// `Tests/golden/gen_tflite_golden.py` gives the golden values both are tested on.
public enum TFLiteArithmetic {
    // MARK: gemmlowp fixed point

    /// SaturatingRoundingDoublingHighMul: (a·b + nudge) / 2^31 truncated toward zero, nudge 2^30
    /// for a non-negative product and 1 − 2^30 for a negative one; a = b = Int32.min gives
    /// Int32.max.
    @inlinable
    public static func srdhm(_ a: Int32, _ b: Int32) -> Int32 {
        if a == .min && b == .min { return .max }
        let ab = Int64(a) * Int64(b)
        let t = ab >= 0 ? ab + (1 << 30) : ab + 1 - (1 << 30)
        return Int32(t / (1 << 31))  // Swift's division truncates toward zero, as C's
    }

    /// RoundingDivideByPOT: x / 2^e rounded to nearest, ties away from zero; 0 ≤ e ≤ 31.
    @inlinable
    public static func rdbpot(_ x: Int32, _ e: Int32) -> Int32 {
        let mask = Int32(truncatingIfNeeded: (Int64(1) << e) - 1)
        let remainder = x & mask
        let threshold = (mask >> 1) + (x < 0 ? 1 : 0)
        return (x >> e) + (remainder > threshold ? 1 : 0)  // >> on Int32 is arithmetic
    }

    /// MultiplyByQuantizedMultiplier (the classic double rounding LiteRT 2.3.0 is built with):
    /// rdbpot(srdhm(x·2^max(e, 0), M), max(−e, 0)); x·2^left wraps like LiteRT's int32 product.
    /// M is 0 or in [2^30, 2^31 − 1], e in [−31, 30].
    @inlinable
    public static func mbqm(_ x: Int32, _ M: Int32, _ e: Int32) -> Int32 {
        let left = max(e, 0), right = max(-e, 0)
        return rdbpot(srdhm(x &<< left, M), right)
    }

    /// LiteRT's reference FULLY_CONNECTED output stage: round(Double(acc)·scale), the product in
    /// binary64, ties away from zero (C's `round`), saturated to Int32 (LiteRT's cast is
    /// undefined there).
    @inlinable
    public static func scaleRound(_ acc: Int32, _ scale: Double) -> Int32 {
        let v = (Double(acc) * scale).rounded(.toNearestOrAwayFromZero)
        if v >= 2_147_483_647 { return .max }
        if v <= -2_147_483_648 { return .min }
        return Int32(v)
    }

    // MARK: parameters (double precision, from the float32 scales)

    /// QuantizeMultiplier of a real multiplier (§4's encoding, TFLite's `QuantizeMultiplier`).
    public static func quantizeMultiplier(_ m: Double, what: String) throws -> (M: Int32, e: Int32) {
        try FixedPoint.encode(m, what: what)
    }

    /// The per-channel multiplier of CONV_2D and DEPTHWISE_CONV_2D:
    /// double(s_in)·double(s_w) / double(s_out).
    public static func convMultiplier(inputScale: Float, weightScale: Float, outputScale: Float) -> Double {
        Double(inputScale) * Double(weightScale) / Double(outputScale)
    }

    /// The ADD parameters of `kernels/add.cc` for int8: left shift 20, input multipliers
    /// s/(2·max(s_a, s_b)) and output multiplier 2·max(s_a, s_b)/(2^20·s_out), in double from the
    /// float32 scales (2·max and 2^20·s_out are exact in float32).
    public static func addParams(_ sa: Float, _ sb: Float, output so: Float) throws -> AddParams {
        let twiceMax = 2 * max(sa, sb)
        let a = try quantizeMultiplier(Double(sa) / Double(twiceMax), what: "ADD input 1 multiplier")
        let b = try quantizeMultiplier(Double(sb) / Double(twiceMax), what: "ADD input 2 multiplier")
        let o = try quantizeMultiplier(Double(twiceMax) / Double(Float(1 << 20) * so), what: "ADD output multiplier")
        return AddParams(
            leftShift: 20, input1Multiplier: a.M, input1Shift: a.e, input2Multiplier: b.M, input2Shift: b.e,
            outputMultiplier: o.M, outputShift: o.e)
    }

    /// The two 32-bit words (low, high) of a double scale, as a `.tflite` dense node stores
    /// S[c] = double(s_in)·double(s_w[c])/double(s_out) in its multiplier and shift arrays.
    public static func scaleWords(_ s: Double) -> (low: Int32, high: Int32) {
        let bits = s.bitPattern
        return (Int32(bitPattern: UInt32(truncatingIfNeeded: bits)), Int32(bitPattern: UInt32(truncatingIfNeeded: bits >> 32)))
    }

    /// The double a (low, high) word pair encodes.
    public static func scale(low: Int32, high: Int32) -> Double {
        Double(bitPattern: UInt64(UInt32(bitPattern: high)) << 32 | UInt64(UInt32(bitPattern: low)))
    }

    /// A valid stored scale: +0 or a positive finite double (the runtime's rule).
    public static func scaleIsValid(low: Int32, high: Int32) -> Bool {
        let s = scale(low: low, high: high)
        return s.sign == .plus && s.isFinite
    }

    /// `PreprocessSoftmaxScaling(β, s_x, 5)` and `CalculateInputRadius(5, left)`: the input
    /// multiplier min(β·s_x·2^26, 2^31 − 1) as (M, left ≥ 0) and diff_min = −floor(31·2^26/2^left).
    /// - Throws: `KDCError.budget` when β·s_x·2^26 < 0.5 (no left shift ≥ 0 encodes it).
    public static func softmaxParams(beta: Float, inputScale: Float) throws -> SoftmaxParams {
        let real = min(Double(beta) * Double(inputScale) * Double(1 << 26), Double(Int32.max))
        // QuantizeMultiplierGreaterThanOne: §4's encoding, whose exponent may reach 31 here
        // (real up to 2^31 − 1).
        guard real.isFinite, real > 0 else {
            throw KDCError.budget(message: "SOFTMAX: beta·input scale \(real / Double(1 << 26)) is not finite and > 0")
        }
        let (f, exp0) = frexp(real)
        var M = Int64((f * 2_147_483_648.0).rounded()), left = Int32(exp0)
        if M == Int64(1) << 31 { M = Int64(1) << 30; left += 1 }
        guard left >= 0, left <= 31 else {
            throw KDCError.budget(
                message:
                    "SOFTMAX: beta·input scale = \(Double(beta) * Double(inputScale)) is below 2^-27; TFLite's int8 softmax needs a larger input scale"
            )
        }
        return SoftmaxParams(multiplier: Int32(M), leftShift: left, diffMin: -Int32(0x7c00_0000 >> UInt32(left)))
    }

    // MARK: softmax

    /// gemmlowp exp_on_negative_values: a ≤ 0 in Q5.26 → exp(a) in Q0.31.
    public static func expOnNegativeValues(_ a: Int32) -> Int32 {
        if a == 0 { return .max }
        let q = (a & 0xff_ffff) - (1 << 24)  // a mod 1/4, minus 1/4: [−1/4, 0)
        let x = q * 32 + (1 << 28)  // Q0.31, q + 1/8
        let x2 = srdhm(x, x), x3 = srdhm(x2, x), x4 = srdhm(x2, x2)
        let poly = rdbpot(srdhm(rdbpot(x4, 2) + x3, 715_827_883) + x2, 1)
        var result = 1_895_147_668 + srdhm(1_895_147_668, x + poly)  // exp(−1/8)·(1 + x + …)
        let remainder = q - a
        let barrel: [Int32] = [1_672_461_947, 1_302_514_674, 790_015_084, 290_630_308, 39_332_535, 720_401, 242]
        for (k, c) in barrel.enumerated() where remainder & (Int32(1) << (24 + k)) != 0 {
            result = srdhm(result, c)  // × exp(−2^(k−2))
        }
        return result
    }

    /// gemmlowp one_over_one_plus_x_for_x_in_0_1: 1/(1 + a) for a in [0, 1) Q0.31, in Q0.31.
    public static func oneOverOnePlusX(_ a: Int32) -> Int32 {
        func sat(_ v: Int64) -> Int32 { Int32(clamping: v) }
        let h = Int32((Int64(a) + Int64(Int32.max) + 1) / 2)  // RoundingHalfSum(a, one)
        var x = 1_515_870_810 &+ srdhm(h, -1_010_580_540)  // 48/17 − 32/17·h, Q2.29
        for _ in 0..<3 {
            let oneMinus = (1 << 29) - srdhm(h, x)
            x = x &+ sat(Int64(srdhm(x, oneMinus)) * 4)
        }
        return sat(Int64(x) * 2)
    }

    /// TFLite's int8 softmax over rows of `depth` values (reference/softmax.h); output scale
    /// 1/256, zero point −128.
    public static func softmax(_ x: [Int8], depth: Int, _ p: SoftmaxParams) -> [Int8] {
        var y = [Int8](repeating: -128, count: x.count)
        guard depth > 0 else { return y }
        for r in 0..<(x.count / depth) {
            let row = x[(r * depth)..<((r + 1) * depth)]
            let mx = Int32(row.max()!)
            func e(_ v: Int8) -> Int32? {
                let d = Int32(v) - mx
                guard d >= p.diffMin else { return nil }
                // |d·2^left| ≤ 31·2^26 here: no overflow
                return expOnNegativeValues(srdhm(Int32(truncatingIfNeeded: Int64(d) << Int64(p.leftShift)), p.multiplier))
            }
            var sum: Int32 = 0
            for v in row { if let ev = e(v) { sum &+= rdbpot(ev, 12) } }
            let lz = Int32(UInt32(bitPattern: sum).leadingZeroBitCount)
            let bits = 12 - lz
            let scale = oneOverOnePlusX(Int32(bitPattern: (UInt32(bitPattern: sum) << UInt32(lz)) &- 0x8000_0000))
            for (i, v) in row.enumerated() {
                guard let ev = e(v) else { continue }
                let o = rdbpot(srdhm(scale, ev), bits + 23) - 128
                y[r * depth + i] = Int8(min(max(o, -128), 127))
            }
        }
        return y
    }
}

/// The parameters of an int8 SOFTMAX (TFLite's): the input multiplier β·s_x·2^26 as
/// (multiplier, leftShift) and the smallest difference from the row's maximum that still counts.
public struct SoftmaxParams: Equatable, Sendable {
    /// In [2^30, 2^31 − 1].
    public var multiplier: Int32
    /// In [0, 31].
    public var leftShift: Int32
    /// −floor(31·2^26 / 2^leftShift).
    public var diffMin: Int32

    public init(multiplier: Int32, leftShift: Int32, diffMin: Int32) {
        self.multiplier = multiplier; self.leftShift = leftShift; self.diffMin = diffMin
    }
}
