import Foundation
import XCTest
@testable import KDC

final class QuantFixedPointTests: XCTestCase {
    /// (acc, M, e, expected requant). Produced with exact rationals by Tests/golden/gen_requant_golden.py (python3 Tests/golden/gen_requant_golden.py), i.e.
    ///   python3 -c 'from fractions import Fraction as F; import math
    ///   rq = lambda a, M, e: max(-2**31, min(2**31-1, (1 if a*M >= 0 else -1) * math.floor(abs(F(a*M, 2**(31-e))) + F(1, 2))))
    ///   print(rq(3, 2**30, 0))'          # one call per row below
    static let golden: [(Int32, Int32, Int32, Int32)] = [
        (100, 1073741824, 0, 50),  // m = 0.5
        (3, 1073741824, 0, 2),  // 1.5: tie at +0.5 rounds away from zero
        (-3, 1073741824, 0, -2),  // −1.5: tie at −0.5 rounds away from zero
        (1, 1073741824, 0, 1),  // 0.5 → 1
        (-1, 1073741824, 0, -1),  // −0.5 → −1
        (2, 1073741824, 0, 1),
        (-2, 1073741824, 0, -1),
        (5, 1073741824, -1, 1),  // 1.25
        (-5, 1073741824, -1, -1),  // −1.25
        (6, 1073741824, -1, 2),  // 1.5
        (-6, 1073741824, -1, -2),  // −1.5
        (-7, 1073741824, -1, -2),  // −1.75
        (7, 1073741824, -1, 2),
        (2147483647, 2147483647, 0, 2147483646),  // m just below 1
        (-2147483648, 2147483647, 0, -2147483647),
        (-2147483648, 1073741824, 0, -1073741824),
        (12345, 2147483647, 0, 12345),
        (-12345, 2147483647, 0, -12345),
        (2147483647, 2147483647, 30, 2147483647),  // saturates high (m ≈ 2^30)
        (-2147483648, 2147483647, 30, -2147483648),  // saturates low
        (1000, 1073741824, 30, 2147483647),
        (-1000, 1073741824, 30, -2147483648),
        (3, 1073741825, 30, 1610612738),  // shift r = 1
        (2147483647, 2147483647, -31, 1),  // shift r = 62
        (-2147483648, 2147483647, -31, -1),
        (-2147483648, 1073741824, -31, -1),  // exactly −0.5 at r = 62 → −1
        (2147483647, 1073741824, -31, 0),  // just below 0.5 → 0
        (1, 2147483647, -31, 0),
        (123456789, 1518500250, -5, 2728035),  // m ≈ √½·2^−5
        (-123456789, 1518500250, -5, -2728035),
        (-98765, 1073741825, -10, -48),
        (4194304, 1073741824, -22, 1),  // 2^22·2^−23 = 0.5 → 1
        (-4194304, 1073741824, -22, -1),
        (7, 0, 0, 0),  // M = 0
        (-2147483648, 0, 30, 0),
        (1, 1073741824, 30, 536870912),
        (-1, 1073741824, 30, -536870912),
        (70000, 1342177280, 16, 2147483647),
        (-70000, 1342177280, 16, -2147483648),
    ]

    func testRequantGoldenVectors() {
        for (acc, M, e, want) in Self.golden {
            XCTAssertEqual(FixedPoint.requant(acc, M, e), want, "requant(\(acc), \(M), \(e))")
        }
    }

    /// (m, M, e). Produced by
    ///   python3 -c 'import math; f, e = math.frexp(m); M = math.floor(f*2**31 + 0.5)  # f·2^31 ≥ 0
    ///   M, e = (2**30, e+1) if M == 2**31 else (M, e); print((0, 0) if e < -31 else (M, e))'
    func testEncodeGoldenVectors() throws {
        let golden: [(Double, Int32, Int32)] = [
            (0.5, 1073741824, 0), (1.0, 1073741824, 1), (1 - 0x1p-40, 1073741824, 1),
            (0x1p-32, 1073741824, -31), (0x1p-33, 0, 0), (0.1, 1717986918, -3), (0.75, 1610612736, 0),
            (1073741823, 2147483646, 30), (3.0e-5, 2111062325, -15), (0.999999999, 2147483646, 0), (0, 0, 0),
        ]
        for (m, M, e) in golden {
            let r = try FixedPoint.encode(m)
            XCTAssertEqual(r.M, M, "encode(\(m)).M"); XCTAssertEqual(r.e, e, "encode(\(m)).e")
        }
        XCTAssertThrowsError(try FixedPoint.encode(0x1p30))
        XCTAssertThrowsError(try FixedPoint.encode(-1))
        XCTAssertThrowsError(try FixedPoint.encode(.nan))
    }

    /// The slow, obviously right oracle: |p| = q·2^r + rem by integer division; round up when
    /// 2·rem ≥ 2^r (ties away from zero); apply the sign; saturate.
    static func oracle(_ acc: Int32, _ M: Int32, _ e: Int32) -> Int32 {
        let r = UInt64(31 - e)
        let mag = UInt64(acc.magnitude) * UInt64(M)  // < 2^62
        let d = UInt64(1) << r
        var q = mag / d
        let rem = mag % d
        if 2 * rem >= d { q += 1 }
        let s: Int64 = (acc < 0) ? -Int64(q) : Int64(q)
        return Int32(clamping: s)
    }

    func testRequantMatchesOracleOnRandomValues() {
        var rng = SeededRNG(seed: 2026, stream: "requant")
        var failures = 0, doubleChecked = 0
        let n = 300_000
        for i in 0..<n {
            let pick = rng.int(below: 10)
            let M: Int32 =
                pick == 0 ? 0 : pick == 1 ? 1 << 30 : pick == 2 ? Int32.max : Int32(1 << 30) + Int32(rng.int(below: 1 << 30))
            let e = Int32(rng.int(below: 62)) - 31
            let acc: Int32
            switch rng.int(below: 4) {
            case 0: acc = Int32(truncatingIfNeeded: rng.next())  // any value
            case 1: acc = Int32(rng.int(below: 2001)) - 1000  // small
            case 2: acc = [Int32.min, Int32.max, Int32.min + 1, -1, 0, 1][rng.int(below: 6)]
            default:
                acc =
                    Int32(truncatingIfNeeded: Int64(rng.int(below: 1 << 20)) << rng.int(below: 12))
                    * (rng.int(below: 2) == 0 ? 1 : -1)
            }
            let got = FixedPoint.requant(acc, M, e), want = Self.oracle(acc, M, e)
            if got != want {
                failures += 1
                if failures <= 10 { XCTFail("case \(i): requant(\(acc), \(M), \(e)) = \(got), oracle \(want)") }
            }
            // Second oracle where Double is exact: |acc·M| < 2^53 and the scaling by 2^−r is exact.
            let p = Int64(acc) * Int64(M)
            if p.magnitude < (UInt64(1) << 53) {
                let d = (Double(p) * pow(2.0, Double(e - 31))).rounded()  // .toNearestOrAwayFromZero
                let dq = Int32(clamping: Int64(d))
                if got != dq {
                    failures += 1
                    if failures <= 10 { XCTFail("case \(i): requant(\(acc), \(M), \(e)) = \(got), Double says \(dq)") }
                }
                doubleChecked += 1
            }
        }
        XCTAssertEqual(failures, 0)
        XCTAssertGreaterThan(doubleChecked, n / 10)
    }

    func testEncodeRoundTripsOnRandomMultipliers() throws {
        var rng = SeededRNG(seed: 7, stream: "encode")
        for _ in 0..<100_000 {
            let m = pow(2.0, Double(rng.uniform()) * 61 - 31)  // 2^−31 ... 2^30
            guard m < 0x1p30 else { continue }
            let (M, e) = try FixedPoint.encode(m)
            XCTAssertTrue(M == 0 || (M >= 1 << 30), "M \(M) for m \(m)")
            XCTAssertTrue(e >= -31 && e <= 30, "e \(e) for m \(m)")
            let back = FixedPoint.decode(M, e)
            if abs(back - m) > m * 0x1p-31 { XCTFail("m \(m) encodes to (\(M), \(e)) = \(back)"); return }
        }
    }

    func testRoundedDivideAndQuantizeHelpers() {
        XCTAssertEqual(FixedPoint.roundedDivide(5, 2), 3)  // 2.5 → 3
        XCTAssertEqual(FixedPoint.roundedDivide(-5, 2), -3)  // −2.5 → −3
        XCTAssertEqual(FixedPoint.roundedDivide(7, 3), 2)
        XCTAssertEqual(FixedPoint.roundedDivide(-8, 3), -3)
        XCTAssertEqual(FixedPoint.roundedDivide(-7, 3), -2)
        // scale (max − min)/255 and zero point round(−128 − min/scale)
        let (s, z) = Quant.activationParams(min: -1, max: 3)
        XCTAssertEqual(s, 4.0 / 255, accuracy: 1e-9)
        XCTAssertEqual(z, -64)  // −128 + 63.75 → −64.25 → −64
        XCTAssertEqual(Quant.activationParams(min: 0.5, max: 2).zeroPoint, -128)  // range widened to 0
        XCTAssertEqual(Quant.quantize([0.5 * s, -0.5 * s, 1000, -1000], scale: s, zeroPoint: z), [-63, -65, 127, -128])
        XCTAssertEqual(Quant.dequantize([-64, 127], scale: 0.5, zeroPoint: -64), [0, 95.5])
    }
}
