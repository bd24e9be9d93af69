/* kdc_tflite.c - TensorFlow Lite's int8 arithmetic, as LiteRT 2.3.0's reference kernels compute
 * it (docs/QUANTIZATION.md 8): gemmlowp's SaturatingRoundingDoublingHighMul and
 * RoundingDivideByPOT, MultiplyByQuantizedMultiplier, and the double-precision output stage of
 * the reference FULLY_CONNECTED, all in integers. Written from the published algorithms
 * (TFLite's kernels/internal/common.h, gemmlowp's fixedpoint.h); every variant of the kernels
 * uses these, so they are not part of the seam. No right shift of a negative value (C leaves it
 * implementation-defined): floor division by 2^e is ~(~x >> e) for x < 0. Built with KDC_TFLITE
 * 0 (kdc_kernels.h), nothing remains: SOFTMAX, whose kernel uses srdhm and rdbpot, is a
 * TFLite-mode op and goes too. */
#include "kdc_kernels.h"

#if KDC_TFLITE
/* floor(x / 2^e), 0 <= e <= 63 */
static int64_t kdc__floor_shift(int64_t x, int e) { return x >= 0 ? x >> e : ~(~x >> e); }

int32_t kdc_tfl_srdhm(int32_t a, int32_t b)
{
    int64_t ab, t;
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX; /* the one overflow */
    ab = (int64_t)a * b;                                    /* |ab| <= 2^62 */
    t = ab >= 0 ? ab + ((int64_t)1 << 30) : ab + 1 - ((int64_t)1 << 30);
    /* t / 2^31 truncated toward zero: |t| < 2^62 + 2^30, the quotient within int32 */
    return (int32_t)(t >= 0 ? t >> 31 : -((-t) >> 31));
}

int32_t kdc_tfl_rdbpot(int32_t x, int32_t e)
{
    uint32_t mask = (uint32_t)(((uint64_t)1 << e) - 1u);
    uint32_t rem = (uint32_t)x & mask; /* the low e bits of the two's complement form */
    uint32_t threshold = (mask >> 1) + (x < 0 ? 1u : 0u);
    return (int32_t)kdc__floor_shift(x, (int)e) + (rem > threshold ? 1 : 0);
}

int32_t kdc_tfl_mbqm(int32_t x, int32_t M, int32_t e)
{
    int32_t left = e > 0 ? e : 0, right = e > 0 ? 0 : -e;
    uint32_t u = (uint32_t)x << left; /* x * 2^left modulo 2^32, as LiteRT's int32 product */
    int32_t xs = u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
    return kdc_tfl_rdbpot(kdc_tfl_srdhm(xs, M), right);
}

/* Bit length of a 32-bit value (0 for 0): CLZ where the compiler has it (one instruction on
 * Armv7-M), else a binary search. It was a loop of one step per bit, 200 to 300 Cortex-M4
 * instructions per kdc_tfl_scale. */
static int kdc__bits32(uint32_t v)
{
#if defined(__GNUC__)
    return v ? 32 - __builtin_clz(v) : 0;
#else
    int n = 0;
    if (v >> 16) n += 16, v >>= 16;
    if (v >> 8) n += 8, v >>= 8;
    if (v >> 4) n += 4, v >>= 4;
    if (v >> 2) n += 2, v >>= 2;
    if (v >> 1) n += 1, v >>= 1;
    return n + (int)v;
#endif
}

static int kdc__bits64(uint64_t v)
{
    return v >> 32 ? 32 + kdc__bits32((uint32_t)(v >> 32)) : kdc__bits32((uint32_t)v);
}

int kdc_tfl_scale_ok(uint32_t lo, uint32_t hi)
{
    (void)lo;
    return (hi >> 31) == 0 && (hi >> 20) != 0x7ffu; /* sign 0, not infinite or NaN */
}

/* round_half_away(double(acc) * S), saturated. S = m * 2^q with m < 2^53 (the significand with
 * its implicit bit, 0 for S = +0). The exact product P = |acc| * m < 2^85 is held in two 64-bit
 * words; the binary64 product keeps its 53 leading bits, rounded to nearest, ties to even (at
 * most 32 bits dropped); the result is then rounded to an integer, ties away from zero. */
int32_t kdc_tfl_scale(int32_t acc, uint32_t lo, uint32_t hi)
{
    uint32_t a = acc >= 0 ? (uint32_t)acc : 0u - (uint32_t)acc; /* <= 2^31 */
    uint32_t ex = (hi >> 20) & 0x7ffu;
    uint64_t m = ((uint64_t)(hi & 0xfffffu) << 32) | lo, p_lo, p_hi, mid, r;
    int q, bits = 0, d;
    uint32_t mag;
    if (ex != 0) m |= (uint64_t)1 << 52;
    q = (ex != 0 ? (int)ex : 1) - 1075;
    if (a == 0 || m == 0) return 0;
    /* P = a * m = a * (m >> 32) * 2^32 + a * (m & 0xffffffff) */
    mid = (uint64_t)a * (m >> 32); /* < 2^53 */
    p_lo = (uint64_t)a * (m & 0xffffffffu);
    p_hi = mid >> 32;
    p_lo += mid << 32;
    if (p_lo < (mid << 32)) p_hi++; /* carry */
    /* bit length of P */
    bits = p_hi != 0 ? 64 + kdc__bits64(p_hi) : kdc__bits64(p_lo);
    d = bits > 53 ? bits - 53 : 0; /* 0..32 bits the double product drops */
    if (d > 0) {
        uint64_t half = (uint64_t)1 << (d - 1);
        r = p_lo & (((uint64_t)1 << d) - 1u);
        p_lo = (p_lo >> d) | (p_hi << (64 - d)); /* now < 2^53: p_hi is gone */
        if (r > half || (r == half && (p_lo & 1u))) p_lo++;
        q += d;
    }
    /* the double is p_lo * 2^q, p_lo <= 2^53 */
    if (q >= 0) {
        if (q > 31 || p_lo > ((uint64_t)1 << 31) >> q) return acc >= 0 ? INT32_MAX : INT32_MIN;
        mag = (uint32_t)(p_lo << q);
    } else if (-q > 54) {
        mag = 0; /* below 2^-1: rounds to 0 */
    } else {
        uint64_t v = (p_lo + ((uint64_t)1 << (-q - 1))) >> -q; /* half away on the magnitude */
        if (v > ((uint64_t)1 << 31)) return acc >= 0 ? INT32_MAX : INT32_MIN;
        mag = (uint32_t)v;
    }
    if (acc >= 0) return mag > INT32_MAX ? INT32_MAX : (int32_t)mag;
    return mag >= 0x80000000u ? INT32_MIN : -(int32_t)mag;
}
#endif /* KDC_TFLITE */
