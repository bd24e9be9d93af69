"""Golden values of TensorFlow Lite's int8 arithmetic (docs/QUANTIZATION.md §8), in exact integers.

    python3 Tests/golden/gen_tflite_golden.py

writes Tests/golden/tflite_golden.json (read by Tests/KDCTests/QuantTFLiteTests.swift) and
runtime/tests/golden_tflite.h (read by runtime/tests/test_kdc.c). The multiplier and the double
scale are computed here with Python integers and fractions, from the definitions, and must agree
with scripts/tflite_arith.py (numpy), which scripts/tflite_rounding.py checks against LiteRT; ADD
and SOFTMAX come from tflite_arith. Run with the project venv (`.venv/bin/python`) and the ADD and
SOFTMAX rows are also run through LiteRT 2.3.0's reference kernels (one-op models,
scripts/tflite_tiny.py) and must give the same bytes.
"""

import json
import os
import random
import sys
from fractions import Fraction

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import numpy as np  # noqa: E402
import tflite_arith as TA  # noqa: E402

I32_MIN, I32_MAX = -(2**31), 2**31 - 1


def wrap32(v):
    return (v + 2**31) % 2**32 - 2**31


def srdhm(a, b):
    """(a·b + nudge) / 2^31 truncated toward zero; MIN·MIN saturates."""
    if a == b == I32_MIN:
        return I32_MAX
    ab = a * b
    t = ab + (2**30 if ab >= 0 else 1 - 2**30)
    q = abs(t) // 2**31
    return q if t >= 0 else -q


def rdbpot(x, e):
    """x / 2^e to nearest, ties away from zero (exact rational)."""
    q = Fraction(x, 2**e)
    r = abs(q)
    n = int(r + Fraction(1, 2))  # floor(|q| + 1/2)
    return n if q >= 0 else -n


def mbqm(x, M, e):
    left, right = max(e, 0), max(-e, 0)
    return rdbpot(srdhm(wrap32(x << left), M), right)


def scale_round(acc, s):
    """round_half_away(fl(acc·s)), saturated: the binary64 product (Python floats are IEEE),
    then the exact rational rounding of that double."""
    v = Fraction(float(acc) * s)
    n = int(abs(v) + Fraction(1, 2))
    n = n if v >= 0 else -n
    return max(I32_MIN, min(I32_MAX, n))


def double_words(s):
    bits = int(np.array([s], dtype="<f8").view("<u8")[0])
    return wrap32(bits & 0xFFFFFFFF), wrap32(bits >> 32)


def mbqm_rows(rnd):
    rows = [
        (3, 2**30, 0),  # 1.5: SRDHM ties toward +inf -> 2
        (-3, 2**30, 0),  # -1.5 -> -1 (kdc's requant: -2)
        (1, 2**30, 0),
        (-1, 2**30, 0),  # -0.5 -> 0
        (5, 2**30, -1),  # 1.25: SRDHM gives 3 (1.5), RDBPOT 2 (double rounding; kdc: 1)
        (-5, 2**30, -1),  # -1.25 -> -1
        (-7, 2**30, -1),  # -1.75 -> -2
        (6, 2**30, -2),  # 0.75 -> 1
        (-6, 2**30, -2),
        (1000, 2**30, 2),  # left shift: 1000·4·0.5 = 2000
        (-1000, 3 * 2**29, 3),  # -1000·8·0.75 = -6000
        (2**29, 2**30, 3),  # x·2^3 wraps to 0 (LiteRT's int32 product)
        (2**28 + 1, 2**30, 3),  # wraps to 8
        (I32_MAX, 2**31 - 1, 0),
        (I32_MIN, 2**31 - 1, 0),
        (I32_MIN, 2**30, -31),
        (I32_MAX, 2**30, -31),
        (123456789, 1518500250, -5),
        (-98765, 2**30 + 1, -10),
        (7, 0, 0),
        (-7, 0, -31),
    ]
    for _ in range(200):
        rows.append(
            (rnd.randint(I32_MIN, I32_MAX), rnd.randint(2**30, I32_MAX), rnd.randint(-31, 30))
        )
    out = []
    for x, M, e in rows:
        v = mbqm(x, M, e)
        assert v == int(TA.mbqm_double(x, M, e)), (x, M, e)
        out.append([x, M, e, v])
    return out


def scale_rows(rnd):
    ss = [
        0.5,
        0.25,
        1.5,
        3.0,
        0.0,
        2.0**-60,
        2.0**40,
        5e-324,
        0.5 - 2.0**-54,
        0.0123456789,
        1.0 / 3,
    ]
    accs = [0, 1, -1, 3, -3, 5, -5, 7, -7, 1000, -1000, I32_MAX, I32_MIN]
    pairs = [(a, s) for s in ss for a in accs]
    # products the binary64 rounding moves onto a half-integer: s = fl((k + 1/2) / a), so that
    # a·s is within half an ulp of k + 1/2 without being it (the exact value rounds the other way
    # in half of them: what an integer multiplier would get wrong)
    found = 0
    for a in (7, -7, 11, 13, -13, 19, 23, 29, 31, 37, 41, 43):
        for k in (1, 2, 5, 12, 100):
            s = (k + 0.5) / abs(a)
            p, exact = float(a) * s, Fraction(a) * Fraction(s)
            if Fraction(p) != exact and Fraction(p).denominator == 2 and found < 12:
                pairs.append((a, s))
                found += 1
    pairs += [(rnd.randint(I32_MIN, I32_MAX), rnd.uniform(1e-6, 0.1)) for _ in range(100)]
    out = []
    for a, s in pairs:
        v = scale_round(a, s)
        assert v == int(TA.scale_double(a, s)), (a, s)
        lo, hi = double_words(s)
        out.append([a, lo, hi, v])
    return out, found


def add_rows(rnd):
    cases = [
        (0.5, 3, 0.5, -4, 1.0, 0),
        (0.031, -10, 0.047, 22, 0.06, -3),
        (1.0, 0, 0.25, 0, 0.5, 7),
        (0.2, 5, 0.013, 0, 0.21, -128),
    ]
    out = []
    for sa, za, sb, zb, so, zo in cases:
        params = TA.add_params(sa, sb, so, single_rounding=False)
        a = [rnd.randint(-128, 127) for _ in range(32)] + [-128, 127, za, za + 1]
        b = [rnd.randint(-128, 127) for _ in range(32)] + [127, -128, zb, zb - 1]
        y = TA.add_int8(np.array(a), za, np.array(b), zb, zo, params, -128, 127, rounding="double")
        flat = [v for pq in params for v in pq]
        out.append(
            dict(
                scales=[sa, sb, so],
                zero_points=[za, zb, zo],
                params=flat,
                a=a,
                b=b,
                y=[int(v) for v in y],
            )
        )
    return out


def softmax_rows(rnd):
    cases = [
        (0.1, 1.0),
        (0.0625, 1.0),
        (0.5, 1.0),
        (0.01, 2.0),
        (0.2, 0.5),
        (20.0, 1.0),
        (0.003, 1.0),
    ]
    out = []
    for sx, beta in cases:
        M, left, dmin = TA.softmax_params(beta, np.float32(sx), single_rounding=False)
        rows = [
            [rnd.randint(-128, 127) for _ in range(10)],
            [127] * 10,
            [-128] * 9 + [127],
            [127, 126] + [-128] * 8,
            [i * 25 - 128 for i in range(10)],
        ]
        y = TA.softmax_int8(np.array(rows), M, left, dmin, single_rounding=False)
        out.append(
            dict(scale=sx, beta=beta, params=[M, left, dmin], x=rows, y=y.astype(int).tolist())
        )
    return out


def check_with_litert(adds, softmaxes):
    """The ADD and SOFTMAX rows through LiteRT's reference kernels (needs the venv)."""
    try:
        import tflite_tiny as tt
        from litert_oracle import make_interpreter
    except ImportError:
        return False
    for c in adds:
        (sa, sb, so), (za, zb, zo) = c["scales"], c["zero_points"]
        it = make_interpreter(tt.add(len(c["a"]), sa, za, sb, zb, so, zo))
        d = it.get_input_details()
        it.set_tensor(d[0]["index"], np.array([c["a"]], np.int8))
        it.set_tensor(d[1]["index"], np.array([c["b"]], np.int8))
        it.invoke()
        got = it.get_tensor(it.get_output_details()[0]["index"])[0].tolist()
        assert got == c["y"], ("ADD differs from LiteRT", c["scales"])
    for c in softmaxes:
        it = make_interpreter(tt.softmax(10, c["scale"], 0, c["beta"]))
        for x, y in zip(c["x"], c["y"]):
            it.set_tensor(it.get_input_details()[0]["index"], np.array([x], np.int8))
            it.invoke()
            got = it.get_tensor(it.get_output_details()[0]["index"])[0].tolist()
            assert got == y, ("SOFTMAX differs from LiteRT", c["scale"], x)
    return True


def c_header(data):
    src = ["/* generated by Tests/golden/gen_tflite_golden.py - do not edit */\n"]
    src.append("static const int64_t tfl_mbqm_rows[][4] = {\n")
    src.append(",\n".join("{%d,%d,%d,%d}" % tuple(r) for r in data["mbqm"]) + "};\n")
    src.append("static const int64_t tfl_scale_rows[][4] = {\n")
    src.append(",\n".join("{%d,%d,%d,%d}" % tuple(r) for r in data["scale"]) + "};\n")
    src.append(
        "static const struct tfl_softmax_row { int32_t m, left, diff_min; int8_t x[10], y[10]; } "
    )
    src.append("tfl_softmax_rows[] = {\n")
    rows = []
    for c in data["softmax"]:
        for x, y in zip(c["x"], c["y"]):
            rows.append(
                "{%d,%d,%d,{%s},{%s}}"
                % (*c["params"], ",".join(map(str, x)), ",".join(map(str, y)))
            )
    src.append(",\n".join(rows) + "};\n")
    return "".join(src)


def main():
    rnd = random.Random(20261207)
    scale, found = scale_rows(rnd)
    data = dict(mbqm=mbqm_rows(rnd), scale=scale, add=add_rows(rnd), softmax=softmax_rows(rnd))
    litert = check_with_litert(data["add"], data["softmax"])
    with open(os.path.join(ROOT, "Tests", "golden", "tflite_golden.json"), "w") as f:
        json.dump(data, f, indent=None, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(ROOT, "runtime", "tests", "golden_tflite.h"), "w") as f:
        f.write(c_header(data))
    print(
        f"{len(data['mbqm'])} multiplier rows, {len(data['scale'])} scale rows ({found} where the "
        f"binary64 product lands on a half-integer), {len(data['add'])} ADD and "
        f"{len(data['softmax'])} SOFTMAX cases; checked against LiteRT: {'yes' if litert else 'no (no venv)'}"
    )


if __name__ == "__main__":
    main()
