"""TensorFlow Lite's int8 arithmetic, written from the published algorithms, in exact integers.

The specification of kdc's `.tflite` arithmetic mode (docs/QUANTIZATION.md, "TensorFlow Lite
arithmetic"): scripts/tflite_rounding.py checks it op by op against LiteRT's reference kernels, and
Tests/golden/gen_tflite_golden.py takes the golden values of the C and Swift tests from it.

Sources followed (facts, not code): TensorFlow Lite's `MultiplyByQuantizedMultiplier` and
`QuantizeMultiplier` (kernels/internal/common.h, quantization_util.cc), both with and without
`TFLITE_SINGLE_ROUNDING`; gemmlowp's fixedpoint.h (`SaturatingRoundingDoublingHighMul`,
`RoundingDivideByPOT`, `exp_on_negative_values`, `one_over_one_plus_x_for_x_in_0_1`); the
reference int8 kernels (reference/integer_ops/{add,pooling}.h, reference/softmax.h) and the
parameter preparation of kernels/{add,activations}.cc (`PreprocessSoftmaxScaling`,
`CalculateInputRadius`).

Every function takes numpy int64 arrays (or Python ints) holding int32 values and returns int64
arrays; nothing rounds through floating point except the parameter derivations, which TFLite does
in double.
"""

import math

import numpy as np

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


def wrap32(x):
    """Two's complement wrap to int32 (what a C cast of an out-of-range int64 does on every
    compiler TFLite is built with)."""
    x = np.asarray(x, dtype=np.int64)
    return ((x + 2**31) & 0xFFFFFFFF) - 2**31


def trunc_div(x, d):
    """C integer division (truncates toward zero); d > 0."""
    x = np.asarray(x, dtype=np.int64)
    q = np.abs(x) // d
    return np.where(x < 0, -q, q)


# --- gemmlowp fixed point -----------------------------------------------------------------------


def srdhm(a, b):
    """SaturatingRoundingDoublingHighMul: (a·b + nudge) / 2^31 truncated, nudge = 2^30 for a
    non-negative product, 1 − 2^30 for a negative one; a == b == INT32_MIN saturates to INT32_MAX."""
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    ab = a * b
    nudge = np.where(ab >= 0, 2**30, 1 - 2**30)
    r = trunc_div(ab + nudge, 2**31)
    return np.where((a == INT32_MIN) & (b == INT32_MIN), INT32_MAX, r)


def rdbpot(x, exponent):
    """RoundingDivideByPOT: x / 2^exponent rounded to nearest, ties away from zero."""
    x = np.asarray(x, dtype=np.int64)
    exponent = np.asarray(exponent, dtype=np.int64)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def sat_shift_left(x, e):
    """SaturatingRoundingMultiplyByPOT<e> for e > 0: x·2^e saturated to int32."""
    x = np.asarray(x, dtype=np.int64)
    return np.clip(x << e, INT32_MIN, INT32_MAX)


def mul_pot(x, e):
    """SaturatingRoundingMultiplyByPOT<e>: a saturating left shift for e > 0, a rounding
    division for e < 0."""
    if e > 0:
        return sat_shift_left(x, e)
    if e < 0:
        return rdbpot(x, -e)
    return np.asarray(x, dtype=np.int64)


# --- the multiplier -----------------------------------------------------------------------------


def quantize_multiplier(m, single_rounding=True):
    """QuantizeMultiplier(double m) -> (M, shift), m ≈ M·2^(shift − 31): frexp, M = round(f·2^31)
    (half away from zero), 2^31 becomes (2^30, shift + 1), shift < −31 becomes (0, 0). With
    TFLITE_SINGLE_ROUNDING a shift > 30 saturates to (2^31 − 1, 30)."""
    if m == 0.0:
        return 0, 0
    f, shift = math.frexp(m)
    q = math.floor(abs(f) * 2**31 + 0.5) * (1 if f >= 0 else -1)
    if q == 2**31:
        q //= 2
        shift += 1
    if shift < -31:
        return 0, 0
    if single_rounding and shift > 30:
        return 2**31 - 1, 30
    return int(q), int(shift)


def mbqm_double(x, M, shift):
    """MultiplyByQuantizedMultiplier, classic: RoundingDivideByPOT(SRDHM(x·2^left, M), right),
    left = max(shift, 0), right = max(−shift, 0); x·2^left wraps like C's int32 product."""
    shift = np.asarray(shift, dtype=np.int64)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    x = wrap32(np.asarray(x, dtype=np.int64) << left)
    return rdbpot(srdhm(x, M), right)


def mbqm_single(x, M, shift):
    """MultiplyByQuantizedMultiplier with TFLITE_SINGLE_ROUNDING: (x·M + 2^(s − 1)) >> s with
    s = 31 − shift (rounds half up, toward +∞), cast to int32 (wraps)."""
    x = np.asarray(x, dtype=np.int64)
    M = np.asarray(M, dtype=np.int64)
    s = 31 - np.asarray(shift, dtype=np.int64)
    return wrap32((x * M + (np.int64(1) << (s - 1))) >> s)


def mbqm_kdc(x, M, shift):
    """kdc's own requant (docs/QUANTIZATION.md §4): one rounding, half away from zero, saturated."""
    x = np.asarray(x, dtype=np.int64)
    M = np.asarray(M, dtype=np.int64)
    r = 31 - np.asarray(shift, dtype=np.int64)
    p = x * M
    half = np.int64(1) << (r - 1)
    q = np.where(p >= 0, (p + half) >> r, -((-p + half) >> r))
    return np.clip(q, INT32_MIN, INT32_MAX)


ROUNDINGS = {"double": mbqm_double, "single": mbqm_single, "kdc": mbqm_kdc}


def scale_double(acc, scale):
    """LiteRT's reference FULLY_CONNECTED: round(double(acc)·scale), scale =
    double(s_in)·double(s_w)/double(s_out) not encoded as (M, shift): the binary64 product, then
    std::round (half away from zero, exactly: the fraction of a double is exact), saturated to
    int32 (LiteRT's cast is undefined there)."""
    v = np.asarray(acc, dtype=np.float64) * np.asarray(scale, dtype=np.float64)
    t = np.trunc(v)
    f = v - t
    r = t + (f >= 0.5) - (f <= -0.5)
    return np.clip(r, INT32_MIN, INT32_MAX).astype(np.int64)


def scale_fp32_even(acc, scale):
    """float32(acc)·float32(scale) rounded half to even (how XNNPACK requantizes, for comparison
    only)."""
    v = np.asarray(acc, dtype=np.float32) * np.asarray(scale, dtype=np.float32)
    return np.rint(v).astype(np.int64)


# --- ops -----------------------------------------------------------------------------------------


def add_params(sa, sb, so, single_rounding=True):
    """kernels/add.cc for int8: left shift 20, twice_max = 2·max(sa, sb) (float32), input
    multipliers sa/twice_max and sb/twice_max, output multiplier twice_max / (2^20·so), all in
    double from the float32 scales, each through QuantizeMultiplier (shift ≤ 0 required)."""
    sa, sb, so = np.float32(sa), np.float32(sb), np.float32(so)
    twice_max = np.float32(2) * max(sa, sb)
    ma = float(sa) / float(twice_max)
    mb = float(sb) / float(twice_max)
    mo = float(twice_max) / float(np.float32(2**20) * so)
    return (
        quantize_multiplier(ma, single_rounding),
        quantize_multiplier(mb, single_rounding),
        quantize_multiplier(mo, single_rounding),
    )


def add_int8(xa, za, xb, zb, zo, params, act_min, act_max, rounding="single"):
    """reference/integer_ops/add.h: each input (x − z)·2^20 scaled by its multiplier, the sum by
    the output multiplier, plus the output zero point, clamped."""
    f = ROUNDINGS[rounding]
    (ma, ea), (mb, eb), (mo, eo) = params
    a = f((np.asarray(xa, dtype=np.int64) - za) << 20, ma, ea)
    b = f((np.asarray(xb, dtype=np.int64) - zb) << 20, mb, eb)
    return np.clip(f(a + b, mo, eo) + zo, act_min, act_max)


def avg_round(acc, n):
    """reference/integer_ops/pooling.h: acc > 0 ? (acc + n/2)/n : (acc − n/2)/n, C division (the
    sum of the raw int8 values, rounded half away from zero)."""
    acc = np.asarray(acc, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    return np.where(acc > 0, trunc_div(acc + n // 2, n), -trunc_div(-acc + n // 2, n))


def softmax_params(beta, input_scale, single_rounding=True):
    """PreprocessSoftmaxScaling(beta, s, 5) and CalculateInputRadius(5, left_shift): the input
    multiplier min(β·s·2^26, cap) as (M, left_shift) (QuantizeMultiplierGreaterThanOne), cap
    2^31 − 1 (2^30 − 1 with TFLITE_SINGLE_ROUNDING), and diff_min = −floor(31·2^26 / 2^left_shift)."""
    cap = (2**30 - 1.0) if single_rounding else (2**31 - 1.0)
    real = min(float(beta) * float(input_scale) * float(1 << 26), cap)
    M, left = quantize_multiplier(real, single_rounding)
    assert left >= 0, "softmax input multiplier below one"
    radius = math.floor(1.0 * ((1 << 5) - 1) * (1 << 26) / (1 << left))
    return M, left, -radius


def _exp_quarter(a):
    """exp_on_interval_between_negative_one_quarter_and_0_excl, Q0.31 in and out."""
    x = a + (1 << 28)
    x2 = srdhm(x, x)
    x3 = srdhm(x2, x)
    x4 = srdhm(x2, x2)
    x4_over_4 = rdbpot(x4, 2)
    poly = rdbpot(srdhm(x4_over_4 + x3, 715827883) + x2, 1)
    return 1895147668 + srdhm(1895147668, x + poly)


_BARREL = [(-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535),
           (3, 720401), (4, 242)]  # fmt: skip


def exp_on_negative_values(a):
    """gemmlowp exp_on_negative_values for Q5.26 input a ≤ 0, Q0.31 output."""
    a = np.asarray(a, dtype=np.int64)
    quarter = 1 << 24
    a_mod = (a & (quarter - 1)) - quarter
    result = _exp_quarter(sat_shift_left(a_mod, 5))
    remainder = a_mod - a
    for exponent, multiplier in _BARREL:
        bit = np.int64(1) << (26 + exponent)
        result = np.where((remainder & bit) != 0, srdhm(result, multiplier), result)
    return np.where(a == 0, INT32_MAX, result)


def one_over_one_plus_x(a):
    """gemmlowp one_over_one_plus_x_for_x_in_0_1: Q0.31 in [0, 1) -> 1/(1 + x) in Q0.31 (the
    Newton–Raphson division of fixedpoint.h, three steps, in Q2.29)."""
    a = np.asarray(a, dtype=np.int64)
    s = a + INT32_MAX
    half_den = trunc_div(s + np.where(s >= 0, 1, -1), 2)  # RoundingHalfSum(a, One)
    x = 1515870810 + srdhm(half_den, -1010580540)
    for _ in range(3):
        one_minus = (1 << 29) - srdhm(half_den, x)
        x = x + sat_shift_left(srdhm(x, one_minus), 2)
    return sat_shift_left(x, 1)


def clz32(x):
    x = np.asarray(x, dtype=np.int64) & 0xFFFFFFFF
    out = np.full(x.shape, 32, dtype=np.int64)
    for i in range(32):
        out = np.where((out == 32) & ((x >> (31 - i)) & 1 == 1), i, out)
    return out


def get_reciprocal(x, integer_digits):
    """GetReciprocal(x, 12): the reciprocal of a positive Q12.19 sum as a Q0.31 scale and the
    number of bits over unit."""
    x = np.asarray(x, dtype=np.int64)
    headroom = clz32(x)
    bits_over_unit = integer_digits - headroom
    shifted = wrap32(((x << headroom) & 0xFFFFFFFF) - 2**31)
    return one_over_one_plus_x(shifted), bits_over_unit


def softmax_int8(x, M, left, diff_min, single_rounding=True):
    """reference/softmax.h, int8 in and out (output scale 1/256, zero point −128), over the last
    axis of x."""
    x = np.asarray(x, dtype=np.int64)
    mul = mbqm_single if single_rounding else mbqm_double
    diff = x - x.max(axis=-1, keepdims=True)
    live = diff >= diff_min
    scaled = mul(diff, M, left)  # MultiplyByQuantizedMultiplierGreaterThanOne
    e = exp_on_negative_values(np.where(live, scaled, 0))
    sum_exps = np.where(live, rdbpot(e, 12), 0).sum(axis=-1, keepdims=True)
    scale, bits = get_reciprocal(sum_exps, 12)
    out = rdbpot(srdhm(scale, e), bits + 31 - 8) - 128
    return np.where(live, np.clip(out, -128, 127), -128)


def act_range(fused, scale, zp):
    """CalculateActivationRangeQuantized for int8: none, RELU, RELU6, RELU_N1_TO_1 (round half
    away of f/scale in float32)."""

    def q(f):
        v = np.float32(f) / np.float32(scale)
        return zp + int(math.floor(abs(float(v)) + 0.5) * (1 if v >= 0 else -1))

    lo, hi = -128, 127
    if fused == "RELU":
        lo = max(lo, q(0.0))
    elif fused == "RELU6":
        lo, hi = max(lo, q(0.0)), min(hi, q(6.0))
    elif fused == "RELU_N1_TO_1":
        lo, hi = max(lo, q(-1.0)), min(hi, q(1.0))
    elif fused != "NONE":
        raise ValueError(f"fused activation {fused} not supported")
    return lo, hi
