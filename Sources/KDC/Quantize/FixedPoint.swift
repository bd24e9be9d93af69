import Foundation

/// The fixed-point arithmetic shared with the C runtime. It is fixed: the runtime implements
/// exactly these formulas and must agree bit for bit. See docs/QUANTIZATION.md.
public enum FixedPoint {
    /// Multiplies `acc` by the real multiplier `M·2^(e−31)` with a single rounding, half away
    /// from zero, and saturates to Int32.
    ///
    /// - Parameters:
    ///   - acc: any Int32 accumulator.
    ///   - M: 0 or in [2^30, 2^31 − 1].
    ///   - e: in [−31, 30]; the right shift is r = 31 − e ∈ [1, 62].
    /// - Returns: q = sign(p)·((|p| + 2^(r−1)) >> r) with p = acc·M computed in Int64, saturated.
    @inlinable
    public static func requant(_ acc: Int32, _ M: Int32, _ e: Int32) -> Int32 {
        let r = Int64(31 - e)
        let p = Int64(acc) * Int64(M)  // |p| < 2^62, no overflow
        let half = Int64(1) << (r - 1)
        // |p| + 2^(r−1) < 2^62 + 2^61 < 2^63: no overflow in either branch.
        let q = p >= 0 ? (p + half) >> r : -((-p + half) >> r)
        if q > Int64(Int32.max) { return Int32.max }
        if q < Int64(Int32.min) { return Int32.min }
        return Int32(q)
    }

    /// Encodes a real multiplier m ≥ 0 as (M, e) with m ≈ M·2^(e−31).
    ///
    /// m = f·2^e with f ∈ [0.5, 1) (frexp); M = round(f·2^31); M == 2^31 becomes (2^30, e+1);
    /// e < −31 (m < 2^−32) encodes as (0, 0), i.e. the multiplier is 0.
    /// - Throws: `KDCError.budget` when e > 30 (m ≥ 2^30), naming `what`.
    public static func encode(_ m: Double, what: String = "multiplier") throws -> (M: Int32, e: Int32) {
        guard m.isFinite, m >= 0 else {
            throw KDCError.budget(
                message: "\(what): real multiplier \(m) is not a finite non-negative number; hint: check the calibration ranges")
        }
        if m == 0 { return (0, 0) }
        let (f, exp0) = frexp(m)
        var e = exp0
        var M = Int64((f * 2_147_483_648.0).rounded())  // round half away from zero
        if M == Int64(1) << 31 { M = Int64(1) << 30; e += 1 }
        if e < -31 { return (0, 0) }
        if e > 30 {
            throw KDCError.budget(
                message:
                    "\(what): real multiplier \(m) is too large (≥ 2^30) for the int8 requantization; hint: an activation range is degenerate"
            )
        }
        return (Int32(M), Int32(e))
    }

    /// The real value M·2^(e−31) an encoded multiplier stands for.
    public static func decode(_ M: Int32, _ e: Int32) -> Double {
        Double(M) * pow(2.0, Double(e - 31))
    }

    /// x / n for integers, rounding half away from zero (n > 0), as average pooling does. The
    /// magnitude is taken unsigned, as in the C runtime: a sum of INT32_MIN (a global average
    /// pool over 2^24 taps of −128) has no Int32 negation.
    @inlinable
    public static func roundedDivide(_ sum: Int32, _ n: Int32) -> Int32 {
        let q = Int64((UInt64(sum.magnitude) + UInt64(n) / 2) / UInt64(n))
        return Int32(clamping: sum >= 0 ? q : -q)
    }
}
