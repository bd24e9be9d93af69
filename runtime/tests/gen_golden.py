#!/usr/bin/env python3
"""Golden-data generator for the kdc C runtime tests.

Implements the int8 arithmetic of docs/QUANTIZATION.md independently of the C
code (numpy int64, padding with the zero point instead of clipping windows) and
an artifact writer that follows docs/FORMAT.md. Writes:

    golden_kernels.h   one test function per kernel case (exact int8 compare), run on the
                       compiled kernel variant and on the reference
    golden_models.h    whole artifacts (stored and zlib) with inputs and outputs, MACs and the
                       kernel scratch (docs/FORMAT.md 3.5, 3.6)
    golden_inflate.h   zlib streams (stored / fixed / dynamic blocks)

Record layouts come from kdc_format.py (the named offsets, shared with fuzz/gen_corpus.py).

Run:  python3 runtime/tests/gen_golden.py   (numpy, zlib; deterministic seed)
"""

import math
import os
import struct
import zlib

import numpy as np

import kdc_format as F

# TensorFlow Lite's arithmetic (docs/QUANTIZATION.md 8), in exact integers, checked against
# LiteRT by scripts/tflite_rounding.py.
import sys  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import tflite_arith as TA  # noqa: E402

OUT = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261129)

# ---------------------------------------------------------------- arithmetic


def requant(acc, M, e):
    acc = np.asarray(acc, dtype=np.int64)
    M = np.asarray(M, dtype=np.int64)
    r = 31 - np.asarray(e, dtype=np.int64)
    p = acc * M
    half = np.left_shift(np.int64(1), r - 1)
    q = np.where(p >= 0, (p + half) >> r, -((-p + half) >> r))
    return np.clip(q, -(2**31), 2**31 - 1)


def out8(acc, M, e, zy, lo, hi):
    return np.clip(requant(acc, M, e) + zy, lo, hi).astype(np.int8)


def quant_mult(m):
    """real multiplier m > 0 -> (M, e) with m = M * 2^(e-31)."""
    f, x = np.frexp(m)
    M = int(round(f * 2**31))
    if M == 2**31:
        M, x = 2**30, x + 1
    assert 2**30 <= M < 2**31 and -31 <= x <= 30
    return M, int(x)


def fc_ref(x, zx, W, b, Ms, es, zy, lo, hi):
    acc = b.astype(np.int64) + (x.astype(np.int64) - zx) @ W.astype(np.int64).T
    return out8(acc, Ms, es, zy, lo, hi)


def pad_in(x, pt, pl, OH, OW, sh, sw, kh, kw, fill):
    H, W, C = x.shape
    PH = max((OH - 1) * sh + kh, pt + H)
    PW = max((OW - 1) * sw + kw, pl + W)
    xp = np.full((PH, PW, C), fill, dtype=np.int64)
    xp[pt : pt + H, pl : pl + W, :] = x
    mask = np.zeros((PH, PW), dtype=np.int64)
    mask[pt : pt + H, pl : pl + W] = 1
    return xp, mask


def conv_ref(x, zx, W, b, Ms, es, zy, lo, hi, sh, sw, pt, pl, OH, OW):
    Cout, kh, kw, Cin = W.shape
    xp, _ = pad_in(x, pt, pl, OH, OW, sh, sw, kh, kw, zx)
    acc = np.zeros((OH, OW, Cout), dtype=np.int64)
    for oy in range(OH):
        for ox in range(OW):
            win = xp[oy * sh : oy * sh + kh, ox * sw : ox * sw + kw, :] - zx
            acc[oy, ox] = b + np.einsum("hwc,ohwc->o", win, W.astype(np.int64))
    return out8(acc, Ms, es, zy, lo, hi)


def dw_ref(x, zx, W, b, Ms, es, zy, lo, hi, sh, sw, pt, pl, OH, OW, mult):
    kh, kw, Cout = W.shape
    xr = np.repeat(x, mult, axis=2)  # oc = ic * mult + m reads ic
    xp, _ = pad_in(xr, pt, pl, OH, OW, sh, sw, kh, kw, zx)
    acc = np.zeros((OH, OW, Cout), dtype=np.int64)
    for oy in range(OH):
        for ox in range(OW):
            win = xp[oy * sh : oy * sh + kh, ox * sw : ox * sw + kw, :] - zx
            acc[oy, ox] = b + np.einsum("hwc,hwc->c", win, W.astype(np.int64))
    return out8(acc, Ms, es, zy, lo, hi)


def leaky_ref(x, zx, q, zy, lo, hi):
    """LEAKY_RELU: v = x - zx; requant(v, M_id, e_id) for v >= 0, requant(v, M_alpha, e_alpha)
    below; then + zy and the clamp. q = (M_id, e_id, M_alpha, e_alpha)."""
    v = x.astype(np.int64) - zx
    M = np.where(v >= 0, q[0], q[2])
    e = np.where(v >= 0, q[1], q[3])
    return out8(v, M, e, zy, lo, hi)


def leaky_params(alpha, sx, sy):
    """(M_id, e_id, M_alpha, e_alpha) for sx/sy and alpha*sx/sy; alpha 0 gives (0, 0)."""
    mi, ei = quant_mult(sx / sy)
    ma, ea = quant_mult(alpha * sx / sy) if alpha > 0 else (0, 0)
    return [mi, ei, ma, ea]


class own_rng:
    """The LEAKY_RELU cases and model draw from their own generator, so that the data generated
    before that op existed stays byte for byte the same."""

    def __init__(self, seed):
        self.seed = seed

    def __enter__(self):
        global rng
        self.saved, rng = rng, np.random.default_rng(self.seed)

    def __exit__(self, *exc):
        global rng
        rng = self.saved


def rdiv(s, n):
    s = np.asarray(s, dtype=np.int64)
    return np.where(s >= 0, (s + n // 2) // n, -((-s + n // 2) // n))


def pool_ref(x, kind, kh, kw, sh, sw, pt, pl, OH, OW, lo, hi):
    xp, mask = pad_in(x, pt, pl, OH, OW, sh, sw, kh, kw, -1000)
    C = x.shape[2]
    y = np.zeros((OH, OW, C), dtype=np.int64)
    for oy in range(OH):
        for ox in range(OW):
            win = xp[oy * sh : oy * sh + kh, ox * sw : ox * sw + kw, :]
            mk = mask[oy * sh : oy * sh + kh, ox * sw : ox * sw + kw]
            if kind == "max":
                y[oy, ox] = win.reshape(-1, C).max(axis=0)
            else:
                cnt = int(mk.sum())
                s = (win * mk[:, :, None]).reshape(-1, C).sum(axis=0)
                y[oy, ox] = rdiv(s, cnt)
    return np.clip(y, lo, hi).astype(np.int8)


def gap_ref(x, lo, hi):
    H, W, C = x.shape
    s = x.astype(np.int64).reshape(-1, C).sum(axis=0)
    return np.clip(rdiv(s, H * W), lo, hi).astype(np.int8)


def add_ref(a, b, q, z, lo, hi):
    va = requant((a.astype(np.int64) - z[0]) << 20, q[0], q[1])
    vb = requant((b.astype(np.int64) - z[1]) << 20, q[2], q[3])
    return out8(va + vb, q[4], q[5], z[2], lo, hi)


def same(n, k, s):
    o = -(-n // s)
    tot = max((o - 1) * s + k - n, 0)
    return o, tot // 2


def valid(n, k, s):
    return (n - k) // s + 1, 0


# ---------------------------------------------------------------- random params


def i8(*shape):
    return rng.integers(-128, 128, size=shape).astype(np.int8)


def requant_params(acc_wo_bias, n, target=40.0):
    sd = float(np.std(acc_wo_bias)) + 1.0
    Ms, es = [], []
    for _ in range(n):
        M, e = quant_mult(target / sd * rng.uniform(0.5, 2.0))
        Ms.append(M)
        es.append(e)
    return np.array(Ms, dtype=np.int64), np.array(es, dtype=np.int64)


def bias_for(n, sd):
    return rng.integers(-int(sd) - 1, int(sd) + 2, size=n).astype(np.int64)


# ---------------------------------------------------------------- C emitters


def carr(ctype, name, a):
    a = np.asarray(a).reshape(-1)
    body = ",".join(str(int(v)) for v in a)
    if len(a) == 0:
        body = "0"
    return f"static const {ctype} {name}[] = {{{body}}};\n"


def cbytes(name, b):
    lines = []
    for i in range(0, len(b), 24):
        lines.append(",".join(str(v) for v in b[i : i + 24]))
    return f"static const unsigned char {name}[] = {{\n" + ",\n".join(lines or ["0"]) + "};\n"


def mparams(p):
    keys = [
        "in_h",
        "in_w",
        "in_c",
        "out_h",
        "out_w",
        "out_c",
        "k_h",
        "k_w",
        "stride_h",
        "stride_w",
        "pad_top",
        "pad_left",
        "depth_mult",
        "zx",
        "zy",
        "act_min",
        "act_max",
        "tflite",
    ]
    return "{" + ",".join(str(int(p.get(k, 0))) for k in keys) + "}"


kernel_src = []
kernel_names = []


def emit_case(name, decls, setup, kernel, args, y, tflite=False):
    """A test function `int name(int ref)`: runs kdc_<kernel> (the compiled variant, with the
    scratch its query asks for) or, if ref, kdc_ref_<kernel>, on the case's data; `args` are
    the call's arguments between y and the scratch, `setup` declares what they use (p, c).
    tflite: a case in TFLite arithmetic, compiled only when the runtime has it (KDC_TFLITE)."""
    y = np.asarray(y).reshape(-1)
    src = "".join(decls) + carr("int8_t", f"{name}_y", y)
    src += f"static int {name}(int ref)\n{{\n    static int8_t y[{len(y)}];\n"
    src += "".join(f"    {line}\n" for line in setup)
    src += "    memset(y, 0x5a, sizeof y);\n"
    src += f"    if (ref)\n        kdc_ref_{kernel}(y, {args}, NULL);\n    else\n"
    src += f"        kdc_{kernel}(y, {args}, test_scratch(kdc_{kernel}_scratch_bytes(&p)));\n"
    src += f'    return check_bytes("{name}", y, {name}_y, {len(y)});\n}}\n\n'
    if tflite:
        src = f"#if KDC_TFLITE\n{src}#endif\n\n"
    kernel_src.append(src)
    kernel_names.append((name, tflite))


def consts_decl(name):
    return f"static const kdc_consts c = {{{name}_w, {name}_b, {name}_m, {name}_e}};"


def case_fc(name, K, N, lo=-128, hi=127):
    x, W = i8(K), i8(N, K)
    zx, zy = int(rng.integers(-128, 128)), int(rng.integers(-20, 20))
    raw = (x.astype(np.int64) - zx) @ W.astype(np.int64).T
    b = bias_for(N, np.std(raw))
    Ms, es = requant_params(raw, N)
    y = fc_ref(x, zx, W, b, Ms, es, zy, lo, hi)
    d = [
        carr("int8_t", f"{name}_x", x),
        carr("int8_t", f"{name}_w", W),
        carr("int32_t", f"{name}_b", b),
        carr("int32_t", f"{name}_m", Ms),
        carr("int32_t", f"{name}_e", es),
    ]
    setup = [
        f"static const kdc_fc_params p = {{{K}, {N}, {zx}, {zy}, {lo}, {hi}, 0}};",
        consts_decl(name),
    ]
    emit_case(name, d, setup, "fc_s8", f"{name}_x, &c, &p", y)


def geom(H, W, kh, kw, sh, sw, pad):
    f = same if pad == "same" else valid
    OH, pt = f(H, kh, sh)
    OW, pl = f(W, kw, sw)
    return OH, OW, pt, pl


def case_conv(name, H, W, Cin, Cout, kh, kw, sh, sw, pad, lo=-128, hi=127):
    OH, OW, pt, pl = geom(H, W, kh, kw, sh, sw, pad)
    x, Wt = i8(H, W, Cin), i8(Cout, kh, kw, Cin)
    zx, zy = int(rng.integers(-128, 128)), int(rng.integers(-20, 20))
    raw = conv_acc(x, zx, Wt, sh, sw, pt, pl, OH, OW)
    b = bias_for(Cout, np.std(raw))
    Ms, es = requant_params(raw, Cout)
    y = conv_ref(x, zx, Wt, b, Ms, es, zy, lo, hi, sh, sw, pt, pl, OH, OW)
    p = dict(
        in_h=H,
        in_w=W,
        in_c=Cin,
        out_h=OH,
        out_w=OW,
        out_c=Cout,
        k_h=kh,
        k_w=kw,
        stride_h=sh,
        stride_w=sw,
        pad_top=pt,
        pad_left=pl,
        zx=zx,
        zy=zy,
        act_min=lo,
        act_max=hi,
    )
    d = [
        carr("int8_t", f"{name}_x", x),
        carr("int8_t", f"{name}_w", Wt),
        carr("int32_t", f"{name}_b", b),
        carr("int32_t", f"{name}_m", Ms),
        carr("int32_t", f"{name}_e", es),
    ]
    setup = [f"static const kdc_conv_params p = {mparams(p)};", consts_decl(name)]
    emit_case(name, d, setup, "conv2d_s8", f"{name}_x, &c, &p", y)


def conv_acc(x, zx, Wt, sh, sw, pt, pl, OH, OW):
    Cout, kh, kw, Cin = Wt.shape
    xp, _ = pad_in(x, pt, pl, OH, OW, sh, sw, kh, kw, zx)
    acc = np.zeros((OH, OW, Cout), dtype=np.int64)
    for oy in range(OH):
        for ox in range(OW):
            win = xp[oy * sh : oy * sh + kh, ox * sw : ox * sw + kw, :] - zx
            acc[oy, ox] = np.einsum("hwc,ohwc->o", win, Wt.astype(np.int64))
    return acc


def case_dw(name, H, W, Cin, mult, kh, kw, sh, sw, pad, lo=-128, hi=127):
    OH, OW, pt, pl = geom(H, W, kh, kw, sh, sw, pad)
    Cout = Cin * mult
    x, Wt = i8(H, W, Cin), i8(kh, kw, Cout)
    zx, zy = int(rng.integers(-128, 128)), int(rng.integers(-20, 20))
    xr = np.repeat(x, mult, axis=2)
    xp, _ = pad_in(xr, pt, pl, OH, OW, sh, sw, kh, kw, zx)
    acc = np.array(
        [
            [
                np.einsum(
                    "hwc,hwc->c",
                    xp[oy * sh : oy * sh + kh, ox * sw : ox * sw + kw, :] - zx,
                    Wt.astype(np.int64),
                )
                for ox in range(OW)
            ]
            for oy in range(OH)
        ]
    )
    b = bias_for(Cout, np.std(acc))
    Ms, es = requant_params(acc, Cout)
    y = dw_ref(x, zx, Wt, b, Ms, es, zy, lo, hi, sh, sw, pt, pl, OH, OW, mult)
    p = dict(
        in_h=H,
        in_w=W,
        in_c=Cin,
        out_h=OH,
        out_w=OW,
        out_c=Cout,
        k_h=kh,
        k_w=kw,
        stride_h=sh,
        stride_w=sw,
        pad_top=pt,
        pad_left=pl,
        depth_mult=mult,
        zx=zx,
        zy=zy,
        act_min=lo,
        act_max=hi,
    )
    d = [
        carr("int8_t", f"{name}_x", x),
        carr("int8_t", f"{name}_w", Wt),
        carr("int32_t", f"{name}_b", b),
        carr("int32_t", f"{name}_m", Ms),
        carr("int32_t", f"{name}_e", es),
    ]
    setup = [f"static const kdc_conv_params p = {mparams(p)};", consts_decl(name)]
    emit_case(name, d, setup, "dwconv2d_s8", f"{name}_x, &c, &p", y)


def case_pool(name, kind, H, W, C, kh, kw, sh, sw, pad, lo=-128, hi=127):
    OH, OW, pt, pl = geom(H, W, kh, kw, sh, sw, pad)
    x = i8(H, W, C)
    y = pool_ref(x, kind, kh, kw, sh, sw, pt, pl, OH, OW, lo, hi)
    p = dict(
        in_h=H,
        in_w=W,
        in_c=C,
        out_h=OH,
        out_w=OW,
        out_c=C,
        k_h=kh,
        k_w=kw,
        stride_h=sh,
        stride_w=sw,
        pad_top=pt,
        pad_left=pl,
        act_min=lo,
        act_max=hi,
    )
    fn = "maxpool_s8" if kind == "max" else "avgpool_s8"
    setup = [f"static const kdc_conv_params p = {mparams(p)};"]
    emit_case(name, [carr("int8_t", f"{name}_x", x)], setup, fn, f"{name}_x, &p", y)


def case_gap(name, H, W, C, lo=-128, hi=127):
    x = i8(H, W, C)
    y = gap_ref(x, lo, hi)
    setup = [f"static const kdc_gap_params p = {{{H * W}, {C}, {lo}, {hi}}};"]
    emit_case(
        name, [carr("int8_t", f"{name}_x", x)], setup, "global_avgpool_s8", f"{name}_x, &p", y
    )


def add_params(sa, sb, so):
    # TFLite ADD: twice_max = 2*max(sa, sb); input mult = s/twice_max; output = twice_max/(2^20 so)
    tm = 2 * max(sa, sb)
    Ma, ea = quant_mult(sa / tm)
    Mb, eb = quant_mult(sb / tm)
    Mo, eo = quant_mult(tm / ((1 << 20) * so))
    return [Ma, ea, Mb, eb, Mo, eo]


def case_add(name, n, lo=-128, hi=127):
    a, b = i8(n), i8(n)
    q = add_params(0.05, 0.08, 0.1)
    z = [int(rng.integers(-30, 30)) for _ in range(3)]
    y = add_ref(a, b, q, z, lo, hi)
    d = [carr("int8_t", f"{name}_a", a), carr("int8_t", f"{name}_b", b)]
    # kdc_add_params: n, za, zb, zy, ma, ea, mb, eb, mo, eo, act_min, act_max, tflite
    fields = ", ".join(str(int(v)) for v in [n, *z, *q, lo, hi, 0])
    setup = [f"static const kdc_add_params p = {{{fields}}};"]
    emit_case(name, d, setup, "add_s8", f"{name}_a, {name}_b, &p", y)


def case_clamp(name, n, lo, hi):
    x = i8(n)
    y = np.clip(x, lo, hi).astype(np.int8)
    setup = [f"static const kdc_clamp_params p = {{{n}, {lo}, {hi}}};"]
    emit_case(name, [carr("int8_t", f"{name}_x", x)], setup, "clamp_s8", f"{name}_x, &p", y)


def case_leaky(name, seed, n, alpha, sx, sy, zx, zy, lo=-128, hi=127):
    with own_rng(seed):
        x = i8(n)
    q = leaky_params(alpha, sx, sy)
    y = leaky_ref(x, zx, q, zy, lo, hi)
    # kdc_leaky_relu_params: n, zx, zy, m_id, e_id, m_alpha, e_alpha, act_min, act_max
    fields = ", ".join(str(int(v)) for v in [n, zx, zy, *q, lo, hi])
    setup = [f"static const kdc_leaky_relu_params p = {{{fields}}};"]
    emit_case(name, [carr("int8_t", f"{name}_x", x)], setup, "leaky_relu_s8", f"{name}_x, &p", y)


# ---------------------------------------------------------------- TFLite arithmetic


def double_words(S):
    """The IEEE-754 binary64 encodings of scales S as (low words, high words), int32 each, the
    way a TFLite-arithmetic FULLY_CONNECTED stores them in its multiplier and shift arrays."""
    bits = np.asarray(S, dtype="<f8").view("<u8")
    lo = (bits & 0xFFFFFFFF).astype(np.int64)
    hi = (bits >> 32).astype(np.int64)
    return np.where(lo >= 2**31, lo - 2**32, lo), np.where(hi >= 2**31, hi - 2**32, hi)


def tfl_fc_scales(N):
    """Per-channel double scales: exact ties (0.5, 0.25, 1.5, 3) and random ones."""
    fixed = [0.5, 0.25, 1.5, 3.0]
    return np.array((fixed + [float(rng.uniform(0.002, 0.05)) for _ in range(N)])[:N])


def case_tfl_fc(name, K, N, lo=-128, hi=127):
    x, W = i8(K), rng.integers(-4, 5, size=(N, K)).astype(np.int8)
    zx, zy = int(rng.integers(-128, 128)), int(rng.integers(-20, 20))
    b = rng.integers(-300, 301, size=N).astype(np.int64)
    S = tfl_fc_scales(N)
    acc = b + (x.astype(np.int64) - zx) @ W.astype(np.int64).T
    y = np.clip(TA.scale_double(acc, S) + zy, lo, hi).astype(np.int8)
    mlo, mhi = double_words(S)
    d = [
        carr("int8_t", f"{name}_x", x),
        carr("int8_t", f"{name}_w", W),
        carr("int32_t", f"{name}_b", b),
        carr("int32_t", f"{name}_m", mlo),
        carr("int32_t", f"{name}_e", mhi),
    ]
    setup = [
        f"static const kdc_fc_params p = {{{K}, {N}, {zx}, {zy}, {lo}, {hi}, 1}};",
        consts_decl(name),
    ]
    emit_case(name, d, setup, "fc_s8", f"{name}_x, &c, &p", y, tflite=True)


def tfl_pairs(n):
    """(M, e) pairs with exact ties (0.5, 0.25, 0.75), a left shift (1.5 * 2^2) and random."""
    fixed = [(2**30, 0), (2**30, -1), (3 * 2**29, 0), (3 * 2**29, 3), (2**30, -12)]
    pairs = fixed + [TA.quantize_multiplier(rng.uniform(0.001, 0.05), False) for _ in range(n)]
    pairs = pairs[:n]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


def case_tfl_conv(name, H, W, Cin, Cout, kh, kw, sh, sw, pad, dw_mult=0, lo=-128, hi=127):
    OH, OW, pt, pl = geom(H, W, kh, kw, sh, sw, pad)
    x = i8(H, W, Cin)
    zx, zy = int(rng.integers(-128, 128)), int(rng.integers(-20, 20))
    if dw_mult:
        Cout = Cin * dw_mult
        Wt = rng.integers(-3, 4, size=(kh, kw, Cout)).astype(np.int8)
        xr = np.repeat(x, dw_mult, axis=2)
        xp, _ = pad_in(xr, pt, pl, OH, OW, sh, sw, kh, kw, zx)
        raw = np.zeros((OH, OW, Cout), dtype=np.int64)
        for oy in range(OH):
            for ox in range(OW):
                win = xp[oy * sh : oy * sh + kh, ox * sw : ox * sw + kw, :] - zx
                raw[oy, ox] = np.einsum("hwc,hwc->c", win, Wt.astype(np.int64))
    else:
        Wt = rng.integers(-3, 4, size=(Cout, kh, kw, Cin)).astype(np.int8)
        raw = conv_acc(x, zx, Wt, sh, sw, pt, pl, OH, OW)
    b = rng.integers(-100, 101, size=Cout).astype(np.int64)
    Ms, es = tfl_pairs(Cout)
    y = np.clip(TA.mbqm_double(raw + b, Ms, es) + zy, lo, hi).astype(np.int8)
    p = dict(in_h=H, in_w=W, in_c=Cin, out_h=OH, out_w=OW, out_c=Cout, k_h=kh, k_w=kw)
    p.update(stride_h=sh, stride_w=sw, pad_top=pt, pad_left=pl, depth_mult=dw_mult)
    p.update(zx=zx, zy=zy, act_min=lo, act_max=hi, tflite=1)
    d = [
        carr("int8_t", f"{name}_x", x),
        carr("int8_t", f"{name}_w", Wt),
        carr("int32_t", f"{name}_b", b),
        carr("int32_t", f"{name}_m", Ms),
        carr("int32_t", f"{name}_e", es),
    ]
    setup = [f"static const kdc_conv_params p = {mparams(p)};", consts_decl(name)]
    kernel = "dwconv2d_s8" if dw_mult else "conv2d_s8"
    emit_case(name, d, setup, kernel, f"{name}_x, &c, &p", y, tflite=True)


def case_tfl_add(name, n, sa, sb, so, lo=-128, hi=127):
    a, b = i8(n), i8(n)
    params = TA.add_params(sa, sb, so, single_rounding=False)
    z = [int(rng.integers(-30, 30)) for _ in range(3)]
    y = TA.add_int8(a, z[0], b, z[1], z[2], params, lo, hi, rounding="double").astype(np.int8)
    q = [v for pair in params for v in pair]
    d = [carr("int8_t", f"{name}_a", a), carr("int8_t", f"{name}_b", b)]
    # kdc_add_params: n, za, zb, zy, ma, ea, mb, eb, mo, eo, act_min, act_max, tflite
    fields = ", ".join(str(int(v)) for v in [n, *z, *q, lo, hi, 1])
    setup = [f"static const kdc_add_params p = {{{fields}}};"]
    emit_case(name, d, setup, "add_s8", f"{name}_a, {name}_b, &p", y, tflite=True)


def softmax_q(beta, sx):
    """(M, left, diff_min) of a SOFTMAX (LiteRT 2.3.0: no TFLITE_SINGLE_ROUNDING)."""
    return TA.softmax_params(beta, np.float32(sx), single_rounding=False)


def softmax_ref(x, q):
    return TA.softmax_int8(x, *q, single_rounding=False).astype(np.int8)


def case_softmax(name, rows, depth, beta, sx, structured=True):
    x = i8(rows, depth)
    if structured and rows >= 4:
        x[0, :] = 127  # all equal
        x[1, :] = -128
        x[1, depth // 2] = 127  # one hot
        x[2, :] = (np.arange(depth) * 255 // max(depth - 1, 1)) - 128  # ramp
        x[3, :] = np.where(np.arange(depth) % 2 == 0, 127, 126)
    q = softmax_q(beta, sx)
    y = softmax_ref(x, q)
    fields = ", ".join(str(int(v)) for v in [rows, depth, *q])
    setup = [f"static const kdc_softmax_params p = {{{fields}}};"]
    # SOFTMAX is a TFLite-mode op: its kernel is built with KDC_TFLITE 1 only
    emit_case(
        name, [carr("int8_t", f"{name}_x", x)], setup, "softmax_s8", f"{name}_x, &p", y, tflite=True
    )


def tfl_cases():
    with own_rng(20261205):
        case_tfl_fc("tfl_fc_ties", 5, 12)
        case_tfl_fc("tfl_fc_relu", 40, 6, -20, 127)
        case_tfl_conv("tfl_conv_ties", 5, 5, 2, 6, 3, 3, 1, 1, "same")
        case_tfl_conv("tfl_conv_s2", 7, 6, 3, 5, 3, 3, 2, 2, "same", 0, -50, 100)
        case_tfl_conv("tfl_dw_m2", 6, 5, 3, 3, 3, 3, 1, 1, "same", 2)
        case_tfl_add("tfl_add_ties", 128, 0.5, 0.5, 1.0)
        case_tfl_add("tfl_add_ratio", 128, 0.031, 0.047, 0.06, 0, 127)
        case_softmax("softmax_s01", 8, 10, 1.0, 0.1)
        case_softmax("softmax_s0625_beta2", 6, 12, 2.0, 0.0625)
        case_softmax("softmax_s20_capped", 5, 7, 1.0, 20.0)
        case_softmax("softmax_s0003", 4, 33, 1.0, 0.003)
        case_softmax("softmax_depth1", 3, 1, 1.0, 0.25, structured=False)
        case_softmax("softmax_depth4095", 4, 4095, 1.0, 0.05)


def build_tfl(n_inputs=4):
    """TFLite arithmetic (header FLAG_TFLITE): CONV_2D 3x3 SAME 6x6x2 -> 4 (per-channel pairs
    with ties) - ADD of that output with itself - RESHAPE [1, 144] - FULLY_CONNECTED 144 -> 10
    (double scales) - SOFTMAX."""
    with own_rng(20261206):
        m = Model()
        m.flags = F.FLAG_TFLITE
        H, W, C, Co, N = 6, 6, 2, 4, 10
        s_in, z_in, s_c, z_c, s_a, z_a, s_f, z_f = 0.02, 5, 0.05, -3, 0.09, 2, 0.2, 7
        t_in = m.tensor([1, H, W, C], s_in, z_in)
        t_c = m.tensor([1, H, W, Co], s_c, z_c)
        t_a = m.tensor([1, H, W, Co], s_a, z_a)
        t_r = m.tensor([1, H * W * Co], s_a, z_a)
        t_f = m.tensor([1, N], s_f, z_f)
        t_s = m.tensor([1, N], 1.0 / 256, -128)
        Wc = rng.integers(-20, 21, size=(Co, 3, 3, C)).astype(np.int8)
        bc = rng.integers(-200, 201, size=Co).astype(np.int64)
        Mc, ec = zip(*[TA.quantize_multiplier(s_in * s / s_c, False) for s in (0.01, 0.0125, 0.02, 0.007)])  # fmt: skip
        Mc, ec = np.array(Mc), np.array(ec)
        qa = TA.add_params(s_c, s_c, s_a, single_rounding=False)
        Wf = rng.integers(-30, 31, size=(N, H * W * Co)).astype(np.int8)
        bf = rng.integers(-500, 501, size=N).astype(np.int64)
        S = np.array([float(np.float32(s_a)) * 0.004 / float(np.float32(s_f))] * N)
        q_s = softmax_q(1.0, s_f)
        xs = [i8(H, W, C) for _ in range(n_inputs)]
        ys = []
        for x in xs:
            raw = conv_acc(x, z_in, Wc, 1, 1, 1, 1, H, W) + bc
            c = np.clip(TA.mbqm_double(raw, Mc, ec) + z_c, -128, 127)
            a = TA.add_int8(c, z_c, c, z_c, z_a, qa, -128, 127, rounding="double")
            acc = bf + (a.reshape(-1) - z_a) @ Wf.astype(np.int64).T
            f = np.clip(TA.scale_double(acc, S) + z_f, -128, 127)
            ys.append(softmax_ref(f.reshape(1, N), q_s).reshape(-1))
        mlo, mhi = double_words(S)
        m.op(OPC["CONV"], [t_in], t_c, params=F.window_params(3, 3, 1, 1, 1, 1, consts=weights(m, Wc, bc, Mc, ec)), macs=H * W * Co * 9 * C, scratch=conv_scratch_portable(3, 3, C), scratch_avx2=conv_scratch_avx2(3, 3, C, Co, H, W), scratch_dsp=conv_scratch_dsp(3, 3, C), scratch_mve=conv_scratch_mve(3, 3, C))  # fmt: skip
        m.op(OPC["ADD"], [t_c, t_c], t_a, params=F.add_params([v for p in qa for v in p]))
        m.op(OPC["RESHAPE"], [t_a], t_r)
        m.op(OPC["FC"], [t_r], t_f, params=F.const_params(weights(m, Wf, bf, mlo, mhi)), macs=H * W * Co * N, scratch_dsp=fc_scratch_dsp(H * W * Co))  # fmt: skip
        m.op(OPC["SOFTMAX"], [t_f], t_s, params=F.softmax_params(q_s))
    return m, t_in, t_s, xs, ys


def requant_table():
    rows = [
        (0, 2**30, 0),
        (1, 2**30, 0),
        (-1, 2**30, 0),
        (3, 2**30, 0),
        (-3, 2**30, 0),
        (5, 2**31 - 1, -31),
        (-5, 2**31 - 1, -31),
        (2**31 - 1, 2**31 - 1, 30),
        (-(2**31), 2**31 - 1, 30),
        (-(2**31), 2**30, -31),
        (2**31 - 1, 2**30, 0),
        (12345, 0, 7),
        (-(2**31), 2**31 - 1, 0),
        (1000, 1518500250, -10),
        (-1000, 1518500250, -10),
    ]
    for _ in range(200):
        rows.append(
            (
                int(rng.integers(-(2**31), 2**31)),
                int(rng.integers(2**30, 2**31)),
                int(rng.integers(-31, 31)),
            )
        )
    acc = np.array([r[0] for r in rows], dtype=np.int64)
    M = np.array([r[1] for r in rows], dtype=np.int64)
    e = np.array([r[2] for r in rows], dtype=np.int64)
    q = requant(acc, M, e)
    # cross-check with Python big integers (a third, obviously right oracle)
    for (a, m, s), v in zip(rows, q):
        p, r = a * m, 31 - s
        w = (abs(p) + (1 << (r - 1))) >> r
        w = w if p >= 0 else -w
        assert max(min(w, 2**31 - 1), -(2**31)) == v
    src = "static const int64_t requant_rows[][4] = {\n"
    src += ",\n".join(f"{{{a},{m},{s},{int(v)}}}" for (a, m, s), v in zip(rows, q)) + "};\n"
    return src


# ---------------------------------------------------------------- artifact writer (docs/FORMAT.md)

OPC = dict(
    FC=F.OPCODE["FULLY_CONNECTED"],
    CONV=F.OPCODE["CONV_2D"],
    DW=F.OPCODE["DEPTHWISE_CONV_2D"],
    MAXPOOL=F.OPCODE["MAX_POOL_2D"],
    AVGPOOL=F.OPCODE["AVERAGE_POOL_2D"],
    GAP=F.OPCODE["GLOBAL_AVERAGE_POOL"],
    ADD=F.OPCODE["ADD"],
    RESHAPE=F.OPCODE["RESHAPE"],
    CLAMP=F.OPCODE["CLAMP"],
    LEAKY=F.OPCODE["LEAKY_RELU"],
    SOFTMAX=F.OPCODE["SOFTMAX"],
)


class Model:
    def __init__(self):
        self.tensors = []  # dict(shape, scale, zp)
        self.ops = []  # dict(op, ins, out, lo, hi, params(bytes 12..47), alias)
        self.consts = bytearray()
        self.flags = 0  # header flags besides FLAG_COMPRESSED (FLAG_TFLITE, ...)
        self.stage = None  # input-stage block (docs/FORMAT.md 3.7), after the constants

    def tensor(self, shape, scale, zp):
        self.tensors.append(dict(shape=list(shape), scale=float(np.float32(scale)), zp=int(zp)))
        return len(self.tensors) - 1

    def const(self, arr, dtype):
        while len(self.consts) % 4:
            self.consts.append(0)
        off = len(self.consts)
        self.consts += np.asarray(arr).astype(dtype).astype("<" + np.dtype(dtype).str[1:]).tobytes()
        return off

    def op(
        self, op, ins, out, lo=-128, hi=127, params=b"", macs=0, scratch=0, scratch_avx2=0,
        scratch_dsp=0, scratch_mve=0,
    ):  # fmt: skip
        """macs: the op's multiply-accumulates (docs/FORMAT.md 3.5); scratch, scratch_avx2,
        scratch_dsp, scratch_mve: the bytes the portable, avx2, dsp and mve kernel variants ask
        for (3.6)."""
        self.ops.append(
            dict(
                op=op,
                ins=ins,
                out=out,
                lo=lo,
                hi=hi,
                params=params,
                macs=macs,
                scratch=scratch,
                scratch_avx2=scratch_avx2,
                scratch_dsp=scratch_dsp,
                scratch_mve=scratch_mve,
            )
        )

    def plan(self, input_id):
        """first-fit arena plan over op-order lifetimes; reshape aliases its input."""
        n = len(self.tensors)
        birth = [0] * n
        death = [0] * n
        root = list(range(n))
        for i, o in enumerate(self.ops):
            birth[o["out"]] = i
            for t in o["ins"]:
                death[t] = max(death[t], i)
            if o["op"] == OPC["RESHAPE"]:
                root[o["out"]] = root[o["ins"][0]]
        death[self.output] = len(self.ops)
        for t in range(n):  # aliases keep their root alive
            r = root[t]
            death[r] = max(death[r], death[t])
        size = [int(np.prod(t["shape"])) for t in self.tensors]
        off = [None] * n
        for t in sorted(range(n), key=lambda t: birth[t]):
            if root[t] != t:
                continue
            cands = [0] + [off[u] + size[u] for u in range(n) if off[u] is not None]
            for c in sorted(cands):
                ok = all(
                    not (c < off[u] + size[u] and off[u] < c + size[t])
                    for u in range(n)
                    if off[u] is not None
                    and root[u] == u
                    and not (death[u] < birth[t] or death[t] < birth[u])
                )
                if ok:
                    off[t] = c
                    break
        for t in range(n):
            off[t] = off[root[t]]
        self.offsets = off
        self.arena = max(off[t] + size[t] for t in range(n))

    def build(self, input_id, output_id, compress):
        self.output = output_id
        self.plan(input_id)
        nt, no = len(self.tensors), len(self.ops)
        t_off = F.BODY_HEADER_BYTES
        o_off = t_off + F.TENSOR_RECORD_BYTES * nt
        c_off = o_off + F.OP_RECORD_BYTES * no
        body = bytearray(
            F.pack_body_header(nt, no, input_id, output_id, t_off, o_off, c_off, len(self.consts))
        )
        for i, t in enumerate(self.tensors):
            body += F.pack_tensor(t["shape"], t["scale"], t["zp"], self.offsets[i])
        for o in self.ops:
            in1 = o["ins"][1] if len(o["ins"]) > 1 else F.NO_TENSOR
            body += F.pack_op(o["op"], o["lo"], o["hi"], o["ins"][0], in1, o["out"], o["params"])
        assert len(body) == c_off
        body += self.consts
        if self.stage is not None:
            while len(body) % 4:
                body.append(0)
            body += self.stage
        raw = bytes(body)
        stored = zlib.compress(raw, 9) if compress else raw
        flags = (F.FLAG_COMPRESSED if compress else 0) | self.flags
        flags |= F.FLAG_INPUT_STAGE if self.stage is not None else 0
        return F.pack_header(flags, len(stored), len(raw), self.arena, F.crc(raw)) + stored

    def macs(self):
        return sum(o["macs"] for o in self.ops)

    def scratch(self):
        return max(o["scratch"] for o in self.ops)

    def scratch_avx2(self):
        return max(o["scratch_avx2"] for o in self.ops)

    def scratch_dsp(self):
        return max(o["scratch_dsp"] for o in self.ops)

    def scratch_mve(self):
        return max(o["scratch_mve"] for o in self.ops)


def conv_scratch_avx2(kh, kw, cin, cout, oh, ow, sh=1, sw=1):
    """Scratch of the avx2 variant's conv (docs/FORMAT.md 3.6), K = kh*kw*cin: the larger of its
    AVX2 plan and its AVX-512 VNNI plan. AVX2: the weights of 16 channels as int16
    (32 * round_up(K, 2)) and four int16 windows (8 * round_up(K, 16)) if they fit in 4096
    bytes; else two windows (4 * round_up(K, 16)), else one, else none. VNNI, with
    C16 = round_up(cout, 16): the "image" plan 4*C16 + kh*R4*C16 + Hp*Wp*cin + 64
    (R4 = round_up(kw*cin, 4), Hp = (oh-1)*sh + kh, Wp = (ow-1)*sw + kw) if <= 16384, else the
    "windows" plan 4*C16 + K4*C16 + 8*K4 + 64 (K4 = round_up(K, 4)) if <= 16384, else none."""
    k = kh * kw * cin
    k16 = (k + 15) // 16 * 16
    lanes = 32 * ((k + 1) // 2 * 2) + 8 * k16
    avx2 = next((b for b in (lanes, 4 * k16, 2 * k16) if b <= 4096), 0)
    c16 = (cout + 15) // 16 * 16
    r4 = (kw * cin + 3) // 4 * 4
    hp, wp = (oh - 1) * sh + kh, (ow - 1) * sw + kw
    k4 = (k + 3) // 4 * 4
    image = 4 * c16 + kh * r4 * c16 + hp * wp * cin + 64
    windows = 4 * c16 + k4 * c16 + 8 * k4 + 64
    vnni = next((b for b in (image, windows) if b <= 16384), 0)
    return max(avx2, vnni)


def conv_scratch_portable(kh, kw, cin):
    """Scratch of the portable variant's conv (docs/FORMAT.md 3.6): gathered windows padded
    to 16 bytes, two of them if they fit in 512 bytes, and a weight tail of two more if there
    is room; none if one window does not fit."""
    padded = (kh * kw * cin + 15) // 16 * 16
    if padded > 512:
        return 0
    nwin = 2 if 2 * padded <= 512 else 1
    tail = 2 * padded if (nwin + 2) * padded <= 512 else 0
    return nwin * padded + tail


def conv_scratch_dsp(kh, kw, cin):
    """Scratch of the dsp variant's conv (docs/FORMAT.md 3.6): two int16 im2col columns of
    K4 = round_up(kh*kw*cin, 4) values plus 3 bytes of alignment, else one, within 4096 bytes;
    else none."""
    k4 = (kh * kw * cin + 3) // 4 * 4
    return next((2 * n * k4 + 3 for n in (2, 1) if 2 * n * k4 + 3 <= 4096), 0)


def conv_scratch_mve(kh, kw, cin):
    """Scratch of the mve variant's conv (docs/FORMAT.md 3.6): four int8 im2col columns of
    K = kh*kw*cin values, else one, within 4096 bytes; else none; none for a 1x1 window (its
    columns are the input pixels)."""
    k = kh * kw * cin
    if kh == 1 and kw == 1:
        return 0
    return next((n * k for n in (4, 1) if n * k <= 4096), 0)


def fc_scratch_dsp(k):
    """Scratch of the dsp variant's FC: the input as one int16 column (3.6), within 4096 bytes."""
    k4 = (k + 3) // 4 * 4
    return 2 * k4 + 3 if 2 * k4 + 3 <= 4096 else 0


def spatial_params(kh, kw, sh, sw, pt, pl, mult=0, consts=None):
    return F.window_params(kh, kw, sh, sw, pt, pl, mult, consts)


def weights(m, W, b, Ms, es):
    return [m.const(W, np.int8), m.const(b, np.int32), m.const(Ms, np.int32), m.const(es, np.int32)]


def build_mlp(K=784, H=32, N=10, n_inputs=3, seed_scale=0.02):
    m = Model()
    s_in, z_in = 1 / 255, -128
    t_in = m.tensor([1, K], s_in, z_in)
    t_h = m.tensor([1, H], 0.05, -128)
    t_out = m.tensor([1, N], 0.1, 3)
    W1, W2 = i8(H, K), i8(N, H)
    xs = [i8(K) for _ in range(n_inputs)]
    raw1 = np.array([(x.astype(np.int64) - z_in) @ W1.astype(np.int64).T for x in xs])
    b1 = bias_for(H, np.std(raw1))
    M1, e1 = requant_params(raw1, H, 60)
    hs = [fc_ref(x, z_in, W1, b1, M1, e1, -128, -128, 127) for x in xs]  # fused relu: lo = zy
    raw2 = np.array([(h.astype(np.int64) + 128) @ W2.astype(np.int64).T for h in hs])
    b2 = bias_for(N, np.std(raw2))
    M2, e2 = requant_params(raw2, N, 40)
    ys = [fc_ref(h, -128, W2, b2, M2, e2, 3, -128, 127) for h in hs]
    m.op(
        OPC["FC"],
        [t_in],
        t_h,
        -128,
        127,
        F.const_params(weights(m, W1, b1, M1, e1)),
        macs=K * H,
        scratch_dsp=fc_scratch_dsp(K),
    )
    m.op(
        OPC["FC"],
        [t_h],
        t_out,
        -128,
        127,
        F.const_params(weights(m, W2, b2, M2, e2)),
        macs=H * N,
        scratch_dsp=fc_scratch_dsp(H),
    )
    return m, t_in, t_out, xs, ys


def build_cnn(n_inputs=3):
    """conv3x3 -> dw3x3/2 (mult 2) -> conv1x1 -> add -> clamp -> maxpool -> avgpool -> gap
    -> reshape -> fc."""
    m = Model()
    H, W, C = 12, 12, 2
    xs = [i8(H, W, C) for _ in range(n_inputs)]
    z_in = -5
    t0 = m.tensor([1, H, W, C], 0.02, z_in)
    # conv 3x3 same, 4 out, fused relu (lo = zy)
    W1 = i8(4, 3, 3, C)
    acc = np.array([conv_acc(x, z_in, W1, 1, 1, 1, 1, H, W) for x in xs])
    b1 = bias_for(4, np.std(acc))
    M1, e1 = requant_params(acc, 4)
    z1 = -100
    a1 = [conv_ref(x, z_in, W1, b1, M1, e1, z1, z1, 127, 1, 1, 1, 1, H, W) for x in xs]
    t1 = m.tensor([1, H, W, 4], 0.03, z1)
    m.op(
        OPC["CONV"],
        [t0],
        t1,
        z1,
        127,
        spatial_params(3, 3, 1, 1, 1, 1, 0, weights(m, W1, b1, M1, e1)),
        macs=H * W * 4 * 3 * 3 * C,
        scratch=conv_scratch_portable(3, 3, C),
        scratch_avx2=conv_scratch_avx2(3, 3, C, 4, H, W),
        scratch_dsp=conv_scratch_dsp(3, 3, C),
        scratch_mve=conv_scratch_mve(3, 3, C),
    )
    # depthwise 3x3 stride 2 same, mult 2 -> 6x6x8
    OH, pt = same(H, 3, 2)
    W2 = i8(3, 3, 8)
    acc = []
    for a in a1:
        xp, _ = pad_in(np.repeat(a, 2, axis=2), pt, pt, OH, OH, 2, 2, 3, 3, z1)
        acc.append(
            [
                [
                    np.einsum(
                        "hwc,hwc->c",
                        xp[oy * 2 : oy * 2 + 3, ox * 2 : ox * 2 + 3] - z1,
                        W2.astype(np.int64),
                    )
                    for ox in range(OH)
                ]
                for oy in range(OH)
            ]
        )
    acc = np.array(acc)
    b2 = bias_for(8, np.std(acc))
    M2, e2 = requant_params(acc, 8)
    z2 = 7
    a2 = [dw_ref(a, z1, W2, b2, M2, e2, z2, -128, 127, 2, 2, pt, pt, OH, OH, 2) for a in a1]
    t2 = m.tensor([1, OH, OH, 8], 0.04, z2)
    m.op(
        OPC["DW"],
        [t1],
        t2,
        -128,
        127,
        spatial_params(3, 3, 2, 2, pt, pt, 2, weights(m, W2, b2, M2, e2)),
        macs=OH * OH * 8 * 3 * 3,
    )
    # conv 1x1 8 -> 8
    W3 = i8(8, 1, 1, 8)
    acc = np.array([conv_acc(a, z2, W3, 1, 1, 0, 0, OH, OH) for a in a2])
    b3 = bias_for(8, np.std(acc))
    M3, e3 = requant_params(acc, 8)
    z3 = -3
    a3 = [conv_ref(a, z2, W3, b3, M3, e3, z3, -128, 127, 1, 1, 0, 0, OH, OH) for a in a2]
    t3 = m.tensor([1, OH, OH, 8], 0.05, z3)
    m.op(
        OPC["CONV"],
        [t2],
        t3,
        -128,
        127,
        spatial_params(1, 1, 1, 1, 0, 0, 0, weights(m, W3, b3, M3, e3)),
        macs=OH * OH * 8 * 8,
        scratch=conv_scratch_portable(1, 1, 8),
        scratch_avx2=conv_scratch_avx2(1, 1, 8, 8, OH, OH),
        scratch_dsp=conv_scratch_dsp(1, 1, 8),
        scratch_mve=conv_scratch_mve(1, 1, 8),
    )
    # add t2 + t3
    q = add_params(0.04, 0.05, 0.06)
    z4 = 2
    a4 = [add_ref(a, b, q, [z2, z3, z4], -128, 127) for a, b in zip(a2, a3)]
    t4 = m.tensor([1, OH, OH, 8], 0.06, z4)
    m.op(OPC["ADD"], [t2, t3], t4, -128, 127, F.add_params(q))
    # clamp (relu6-like)
    a5 = [np.clip(a, z4, 90).astype(np.int8) for a in a4]
    t5 = m.tensor([1, OH, OH, 8], 0.06, z4)
    m.op(OPC["CLAMP"], [t4], t5, z4, 90)
    # maxpool 2x2/2 valid -> 3x3
    P, _ = valid(OH, 2, 2)
    a6 = [pool_ref(a, "max", 2, 2, 2, 2, 0, 0, P, P, -128, 127) for a in a5]
    t6 = m.tensor([1, P, P, 8], 0.06, z4)
    m.op(OPC["MAXPOOL"], [t5], t6, -128, 127, spatial_params(2, 2, 2, 2, 0, 0))
    # avgpool 3x3/1 same (border windows have fewer taps), clamp at 60
    a7 = [pool_ref(a, "avg", 3, 3, 1, 1, 1, 1, P, P, -128, 60) for a in a6]
    t7 = m.tensor([1, P, P, 8], 0.06, z4)
    m.op(OPC["AVGPOOL"], [t6], t7, -128, 60, spatial_params(3, 3, 1, 1, 1, 1))
    # global average pool -> [1,1,1,8]
    a8 = [gap_ref(a, -128, 127) for a in a7]
    t8 = m.tensor([1, 1, 1, 8], 0.06, z4)
    m.op(OPC["GAP"], [t7], t8)
    # reshape -> [1,8] (aliases)
    t9 = m.tensor([1, 8], 0.06, z4)
    m.op(OPC["RESHAPE"], [t8], t9)
    # fc 8 -> 5
    W5 = i8(5, 8)
    acc = np.array([(a.astype(np.int64) - z4) @ W5.astype(np.int64).T for a in a8])
    b5 = bias_for(5, np.std(acc))
    M5, e5 = requant_params(acc, 5)
    ys = [fc_ref(a, z4, W5, b5, M5, e5, 1, -128, 127) for a in a8]
    t10 = m.tensor([1, 5], 0.1, 1)
    m.op(
        OPC["FC"],
        [t9],
        t10,
        -128,
        127,
        F.const_params(weights(m, W5, b5, M5, e5)),
        macs=8 * 5,
        scratch_dsp=fc_scratch_dsp(8),
    )
    return m, t0, t10, xs, ys


def build_cnn28(n_inputs=2):
    """The benchmark CNN: conv8 3x3 same (relu) - maxpool2 - conv16 3x3 same (relu) - maxpool2
    - reshape - dense10, on 28x28x1."""
    m = Model()
    xs = [i8(28, 28, 1) for _ in range(n_inputs)]
    z0 = -128
    t = m.tensor([1, 28, 28, 1], 1 / 255, z0)
    t_in = t
    acts, z, H, C = xs, z0, 28, 1
    for Cout in (8, 16):
        Wt = i8(Cout, 3, 3, C)
        acc = np.array([conv_acc(a, z, Wt, 1, 1, 1, 1, H, H) for a in acts])
        b = bias_for(Cout, np.std(acc))
        Ms, es = requant_params(acc, Cout)
        zc = -128
        acts = [conv_ref(a, z, Wt, b, Ms, es, zc, zc, 127, 1, 1, 1, 1, H, H) for a in acts]
        tc = m.tensor([1, H, H, Cout], 0.05, zc)
        m.op(
            OPC["CONV"],
            [t],
            tc,
            zc,
            127,
            spatial_params(3, 3, 1, 1, 1, 1, 0, weights(m, Wt, b, Ms, es)),
            macs=H * H * Cout * 3 * 3 * C,
            scratch=conv_scratch_portable(3, 3, C),
            scratch_avx2=conv_scratch_avx2(3, 3, C, Cout, H, H),
            scratch_dsp=conv_scratch_dsp(3, 3, C),
            scratch_mve=conv_scratch_mve(3, 3, C),
        )
        H //= 2
        acts = [pool_ref(a, "max", 2, 2, 2, 2, 0, 0, H, H, -128, 127) for a in acts]
        t = m.tensor([1, H, H, Cout], 0.05, zc)
        m.op(OPC["MAXPOOL"], [tc], t, -128, 127, spatial_params(2, 2, 2, 2, 0, 0))
        z, C = zc, Cout
    K = H * H * C
    tf = m.tensor([1, K], 0.05, z)
    m.op(OPC["RESHAPE"], [t], tf)
    Wd = i8(10, K)
    flat = [a.reshape(-1) for a in acts]
    acc = np.array([(f.astype(np.int64) - z) @ Wd.astype(np.int64).T for f in flat])
    b = bias_for(10, np.std(acc))
    Ms, es = requant_params(acc, 10)
    ys = [fc_ref(f, z, Wd, b, Ms, es, 0, -128, 127) for f in flat]
    to = m.tensor([1, 10], 0.1, 0)
    m.op(
        OPC["FC"],
        [tf],
        to,
        -128,
        127,
        F.const_params(weights(m, Wd, b, Ms, es)),
        macs=K * 10,
        scratch_dsp=fc_scratch_dsp(K),
    )
    return m, t_in, to, xs, ys


def build_leaky(n_inputs=3):
    """FC 48->24 - LEAKY_RELU (alpha 0.2, its own scale and zero point) - FC 24->10."""
    with own_rng(20261202):
        m = Model()
        K, H, N = 48, 24, 10
        s_in, z_in = 0.02, 3
        t_in = m.tensor([1, K], s_in, z_in)
        s_h, z_h = 0.05, -7  # the FC's output: both signs around the zero point
        t_h = m.tensor([1, H], s_h, z_h)
        s_l, z_l = 0.03, -90  # LEAKY_RELU's output: mostly positive values, finer steps
        t_l = m.tensor([1, H], s_l, z_l)
        t_out = m.tensor([1, N], 0.1, 2)
        W1, W2 = i8(H, K), i8(N, H)
        xs = [i8(K) for _ in range(n_inputs)]
        raw1 = np.array([(x.astype(np.int64) - z_in) @ W1.astype(np.int64).T for x in xs])
        b1 = bias_for(H, np.std(raw1))
        M1, e1 = requant_params(raw1, H, 60)
        hs = [fc_ref(x, z_in, W1, b1, M1, e1, z_h, -128, 127) for x in xs]
        q = leaky_params(0.2, s_h, s_l)
        ls = [leaky_ref(h, z_h, q, z_l, -128, 127) for h in hs]
        raw2 = np.array([(v.astype(np.int64) - z_l) @ W2.astype(np.int64).T for v in ls])
        b2 = bias_for(N, np.std(raw2))
        M2, e2 = requant_params(raw2, N, 40)
        ys = [fc_ref(v, z_l, W2, b2, M2, e2, 2, -128, 127) for v in ls]
        m.op(
            OPC["FC"],
            [t_in],
            t_h,
            params=F.const_params(weights(m, W1, b1, M1, e1)),
            macs=K * H,
            scratch_dsp=fc_scratch_dsp(K),
        )
        m.op(OPC["LEAKY"], [t_h], t_l, params=F.leaky_params(q))
        m.op(
            OPC["FC"],
            [t_l],
            t_out,
            params=F.const_params(weights(m, W2, b2, M2, e2)),
            macs=H * N,
            scratch_dsp=fc_scratch_dsp(H),
        )
    return m, t_in, t_out, xs, ys


# ---------------------------------------------------------------- input stage (docs/AUDIO.md)
# An independent implementation of the integer audio front end from docs/AUDIO.md (Python ints:
# exact), and the input-stage blocks of docs/FORMAT.md 3.7.

LOG2_T = [round(65536 * math.log2(1 + i / 32)) for i in range(33)]


def rnd(v):
    """round half away from zero"""
    return int(math.floor(abs(v) + 0.5)) * (1 if v >= 0 else -1)


def fe_tables(rate, W, N, M, C, lo, hi):
    win = [rnd(32767 * (0.5 - 0.5 * math.cos(2 * math.pi * n / W))) for n in range(W)]
    tc = [rnd(2**30 * math.cos(2 * math.pi * k / N)) for k in range(N // 2)]
    ts = [rnd(2**30 * math.sin(2 * math.pi * k / N)) for k in range(N // 2)]

    def mel(f):
        return 2595 * math.log10(1 + f / 700)

    def hz(m):
        return 700 * (10 ** (m / 2595) - 1)

    e = [hz(mel(lo) + i * (mel(hi) - mel(lo)) / (M + 1)) for i in range(M + 2)]
    bands, weights = [], []
    for j in range(M):
        ws = []
        for k in range(N // 2 + 1):
            f = k * rate / N
            v = max(
                0.0,
                min((f - e[j]) / (e[j + 1] - e[j]), (e[j + 2] - f) / (e[j + 2] - e[j + 1]), 1.0),
            )
            q = rnd(v * 32768)
            if q > 0:
                ws.append((k, q))
        bands.append((ws[0][0] if ws else 0, len(ws)))
        weights += [q for _, q in ws]
    dct = []
    for j in range(C):
        for i in range(M):
            d = 1 / M if j == 0 else 2 / M * math.cos(math.pi * j * (i + 0.5) / M)
            dct.append(max(-32767, min(32767, rnd(d * 32768))))
    return win, tc, ts, bands, weights, dct


def fe_frame(cfg, tabs, x):
    rate, W, hop, N, M, C, lo, hi = cfg
    win, tc, ts, bands, weights, dct = tabs
    bits = N.bit_length() - 1
    re, im = [0] * N, [0] * N
    for n in range(W):
        r = int(format(n, f"0{bits}b")[::-1], 2)
        re[r] = ((int(x[n]) * win[n] + 16384) >> 15) * 4096  # Python >> floors
    mx, E, half = max(abs(v) for v in re), 0, 1
    while half < N:
        s = 0
        while (mx >> s) >= 1 << 28:
            s += 1
        if s:
            re, im, E = [v >> s for v in re], [v >> s for v in im], E + s
        step, mx = N // (2 * half), 0
        for g in range(0, N, 2 * half):
            for k in range(half):
                a, b, c, sn = g + k, g + k + half, tc[k * step], ts[k * step]
                tr = (re[b] * c + im[b] * sn + (1 << 29)) >> 30
                ti = (im[b] * c - re[b] * sn + (1 << 29)) >> 30
                re[a], im[a], re[b], im[b] = re[a] + tr, im[a] + ti, re[a] - tr, im[a] - ti
                mx = max(mx, abs(re[a]), abs(im[a]), abs(re[b]), abs(im[b]))
        half *= 2
    L, wi = [], 0
    for first, cnt in bands:
        e = 0
        for b in range(cnt):
            r, i = re[first + b] >> 6, im[first + b] >> 6
            e += (weights[wi + b] * (r * r + i * i)) >> 15
        wi += cnt
        v = max(e, 1)
        p = v.bit_length() - 1
        f = ((v >> (p - 15)) if p >= 15 else (v << (15 - p))) & 0x7FFF
        t, r = f >> 10, f & 1023
        L.append(
            p * 65536
            + LOG2_T[t]
            + (((LOG2_T[t + 1] - LOG2_T[t]) * r + 512) >> 10)
            + (2 * E - 12) * 65536
        )
    if C == 0:
        return [max(-128, min(127, ((v + 8192) >> 14) - 80)) for v in L]
    return [
        max(-128, min(127, (sum(dct[j * M + i] * L[i] for i in range(M)) + (1 << 29)) >> 30))
        for j in range(C)
    ]


def fe_features(cfg, tabs, pcm):
    W, hop = cfg[1], cfg[2]
    n = 0 if len(pcm) < W else (len(pcm) - W) // hop + 1
    return [v for f in range(n) for v in fe_frame(cfg, tabs, pcm[f * hop : f * hop + W])]


def audio_block(cfg, tabs, frames):
    rate, W, hop, N, M, C, lo, hi = cfg
    win, tc, ts, bands, weights, dct = tabs

    def pad4(b):
        return b + bytes(-len(b) % 4)

    b = struct.pack("<HHIII", F.STAGE_AUDIO, 0, 0, frames, C or M)
    b += struct.pack("<IHHHHHHdd", rate, W, hop, N, M, C, 0, lo, hi)
    b += (
        pad4(struct.pack(f"<{W}h", *win))
        + struct.pack(f"<{N // 2}i", *tc)
        + struct.pack(f"<{N // 2}i", *ts)
    )
    b += b"".join(struct.pack("<HH", f, c) for f, c in bands)
    b += pad4(struct.pack(f"<{len(weights)}H", *weights)) + pad4(struct.pack(f"<{len(dct)}h", *dct))
    return b[:4] + struct.pack("<I", len(b)) + b[8:]


def sensor_block(frames, mean, std, k):
    C = len(mean)
    b = struct.pack("<HHIII", F.STAGE_SENSOR, 0, 16 + 12 * C, frames, C)
    return b + struct.pack(f"<{3 * C}f", *mean, *std, *k)


def fe_clips(cfg, n, count):
    """silence, a full-scale square wave, full-range noise, a clipping sine, quiet noise"""
    W = cfg[1]
    clips = [
        [0] * n,
        [32767 if (i // 5) % 2 == 0 else -32768 for i in range(n)],
        [int(v) for v in rng.integers(-32768, 32768, n)],
        [max(-32768, min(32767, rnd(60000 * math.sin(i * 0.21)))) for i in range(n)],
        [int(v) for v in rng.integers(-4, 5, n)],
    ]
    assert n >= W
    return clips[:count]


def build_audio(C=0):
    """An FC over `frames` front-end frames: log-mel 8 kHz (C = 0) or MFCC 16 kHz (C = 6)."""
    if C == 0:
        cfg, frames = (8000, 100, 50, 128, 10, 0, 50.0, 4000.0), 6
    else:
        cfg, frames = (16000, 200, 100, 256, 16, C, 100.0, 7900.0), 4
    tabs = fe_tables(cfg[0], cfg[1], cfg[3], cfg[4], cfg[5], cfg[6], cfg[7])
    feats = C or cfg[4]
    n = cfg[1] + (frames - 1) * cfg[2]
    clips = fe_clips(cfg, n, 5)
    xs = [np.array(fe_features(cfg, tabs, c), dtype=np.int8) for c in clips]
    m = Model()
    z_in, s_in = (-80, 0.25) if C == 0 else (0, 0.5)
    t_in = m.tensor([1, frames * feats], s_in, z_in)
    t_out = m.tensor([1, 4], 0.1, 2)
    K = frames * feats
    W1 = i8(4, K)
    raw = np.array([(x.astype(np.int64) - z_in) @ W1.astype(np.int64).T for x in xs])
    b1 = bias_for(4, np.std(raw) + 1)
    M1, e1 = requant_params(raw, 4, 40)
    ys = [fc_ref(x, z_in, W1, b1, M1, e1, 2, -128, 127) for x in xs]
    m.op(
        OPC["FC"], [t_in], t_out, params=F.const_params(weights(m, W1, b1, M1, e1)), macs=K * 4,
        scratch_dsp=fc_scratch_dsp(K),
    )  # fmt: skip
    m.stage = audio_block(cfg, tabs, frames)
    m.pcm = clips
    return m, t_in, t_out, xs, ys


def build_mfcc():
    return build_audio(C=6)


def build_sensor():
    """An FC over [T, C] sensor samples normalized per channel (docs/FORMAT.md 3.7)."""
    T, C = 8, 3
    s_in, z_in = np.float32(0.05), 3
    mean = np.array([0.5, -9.81, 100.0], dtype=np.float32)
    std = np.array([2.0, 0.75, 30.0], dtype=np.float32)
    k = np.array([np.float32(1 / (float(sd) * float(s_in))) for sd in std], dtype=np.float32)
    samples = [rng.normal(0, 1, (T, C)).astype(np.float32) * std * 2 + mean for _ in range(3)]
    samples[2][0] = np.array([np.nan, np.inf, -np.inf], dtype=np.float32)

    def quant(x):
        with np.errstate(invalid="ignore", over="ignore"):
            t = (x - mean).astype(np.float32)  # two float32 statements
            t = (t * k).astype(np.float32)
        t = np.where(np.isnan(t), np.float32(0), t)
        t = np.clip(t, -1000, 1000).astype(np.float64)
        r = np.sign(t) * np.floor(np.abs(t) + 0.5)
        return np.clip(r + z_in, -128, 127).astype(np.int8).reshape(-1)

    xs = [quant(x) for x in samples]
    m = Model()
    t_in = m.tensor([1, T, C], s_in, z_in)
    t_out = m.tensor([1, 3], 0.1, 0)
    W1 = i8(3, T * C)
    raw = np.array([(x.astype(np.int64) - z_in) @ W1.astype(np.int64).T for x in xs])
    b1 = bias_for(3, np.std(raw) + 1)
    M1, e1 = requant_params(raw, 3, 40)
    ys = [fc_ref(x, z_in, W1, b1, M1, e1, 0, -128, 127) for x in xs]
    m.op(
        OPC["FC"],
        [t_in],
        t_out,
        params=F.const_params(weights(m, W1, b1, M1, e1)),
        macs=T * C * 3,
        scratch_dsp=fc_scratch_dsp(T * C),
    )
    m.stage = sensor_block(T, mean, std, k)
    m.raw = np.concatenate([x.reshape(-1) for x in samples])
    return m, t_in, t_out, xs, ys


def emit_models():
    src = []
    table = []
    builders = (
        ("mlp", build_mlp),
        ("cnn", build_cnn),
        ("cnn28", build_cnn28),
        ("leaky", build_leaky),
        ("tfl", build_tfl),
        ("audio", build_audio),
        ("mfcc", build_mfcc),
        ("sensor", build_sensor),
    )
    for name, builder in builders:
        m, ti, to, xs, ys = builder()
        for comp in (0, 1) if name != "cnn28" else (0,):
            art = m.build(ti, to, comp)
            nm = f"{name}_{'zlib' if comp else 'stored'}"
            src.append(cbytes(nm, art))
            table.append(
                (
                    nm,
                    len(art),
                    m.arena,
                    comp,
                    name,
                    m.macs(),
                    m.scratch(),
                    m.scratch_avx2(),
                    m.scratch_dsp(),
                    m.scratch_mve(),
                    len(m.ops),
                )
            )
        src.append(carr("int8_t", f"{name}_in", np.concatenate([x.reshape(-1) for x in xs])))
        src.append(carr("int8_t", f"{name}_out", np.concatenate([y.reshape(-1) for y in ys])))
        if hasattr(m, "pcm"):  # the clips whose front-end features are the inputs
            src.append(carr("int16_t", f"{name}_pcm", np.concatenate([np.array(c) for c in m.pcm])))
            src.append(f"#define {name.upper()}_PCM_SAMPLES {len(m.pcm[0])}\n")
        if hasattr(m, "raw"):  # the sensor samples whose normalization gives the inputs
            src.append(
                carr("uint32_t", f"{name}_raw_bits", m.raw.astype(np.float32).view(np.uint32))
            )
        src.append(
            f"#define {name.upper()}_IN_SIZE {xs[0].size}\n#define {name.upper()}_OUT_SIZE "
            f"{ys[0].size}\n#define {name.upper()}_N {len(xs)}\n#define {name.upper()}_ARENA {m.arena}\n"
        )
    src.append(
        "static const struct golden_model { const char *name; const unsigned char *bytes; "
        "size_t len; size_t arena; int compressed; const int8_t *in, *out; size_t in_size, "
        "out_size, n; uint64_t macs; size_t scratch_portable, scratch_avx2, scratch_dsp, "
        "scratch_mve, n_ops; } "
        "golden_models[] = {\n"
    )
    for nm, ln, ar, comp, base, macs, *scratches, n_ops in table:  # portable, avx2, dsp, mve
        B = base.upper()
        src.append(
            f'    {{"{nm}", {nm}, {ln}, {ar}, {comp}, {base}_in, {base}_out, {B}_IN_SIZE, '
            f"{B}_OUT_SIZE, {B}_N, {macs}u, {''.join(f'{b}u, ' for b in scratches)}{n_ops}u}},\n"
        )
    src.append("};\n")
    return "".join(src)


# ---------------------------------------------------------------- inflate streams


def lcg_text(n, seed):
    out = bytearray()
    x = seed
    for _ in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out.append(b"abcdefgh"[(x >> 16) & 7])
    return bytes(out)


def original(kind, n, seed):
    return lcg_text(n, seed) if kind == 1 else bytes(n)


def btype(z):
    return (z[2] >> 1) & 3


def emit_inflate():
    streams = []

    def add(name, kind, n, seed, z, want_type):
        assert zlib.decompress(z) == original(kind, n, seed)
        assert btype(z) == want_type, (name, btype(z))
        streams.append((name, kind, n, seed, z))

    def comp(data, level=9, strategy=zlib.Z_DEFAULT_STRATEGY):
        c = zlib.compressobj(level, zlib.DEFLATED, 15, 9, strategy)
        return c.compress(data) + c.flush()

    add("empty_fixed", 0, 0, 0, zlib.compress(b""), 1)
    add("text_fixed", 1, 5000, 7, comp(lcg_text(5000, 7), 9, zlib.Z_FIXED), 1)
    add("text_dynamic", 1, 5000, 9, comp(lcg_text(5000, 9)), 2)
    add("text_stored_multi", 1, 70000, 3, zlib.compress(lcg_text(70000, 3), 0), 0)
    add("zeros_dynamic", 0, 100000, 0, comp(bytes(100000)), 2)
    add("zeros_fixed", 0, 3000, 0, comp(bytes(3000), 9, zlib.Z_FIXED), 1)
    # several blocks of different kinds: stored, sync flush, dynamic
    d = lcg_text(20000, 11)
    z = b"\x78\x9c" + b"\x00" + struct.pack("<HH", 1000, 0xFFFF ^ 1000) + d[:1000]  # stored
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_FIXED)
    z += c.compress(d[1000:6000]) + c.flush(zlib.Z_SYNC_FLUSH)  # fixed + empty stored
    c = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    z += c.compress(d[6000:]) + c.flush()  # dynamic, final
    z += struct.pack(">I", zlib.adler32(d))
    add("mixed_blocks", 1, 20000, 11, z, 0)
    src = []
    for name, kind, n, seed, z in streams:
        src.append(cbytes(f"z_{name}", z))
    src.append(
        "static const struct zstream { const char *name; const unsigned char *z; size_t zlen; "
        "int kind; size_t n; uint32_t seed; } zstreams[] = {\n"
    )
    for name, kind, n, seed, z in streams:
        src.append(f'    {{"{name}", z_{name}, {len(z)}, {kind}, {n}, {seed}u}},\n')
    src.append("};\n")
    return "".join(src)


def write(name, text):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(f"/* generated by runtime/tests/gen_golden.py - do not edit */\n{text}")


def main():
    case_fc("fc_basic", 37, 11)
    case_fc("fc_relu6", 64, 16, -128 + 0, 40)
    case_fc("fc_k1", 1, 3)
    case_conv("conv_same_3x3", 7, 6, 3, 5, 3, 3, 1, 1, "same")
    case_conv("conv_valid_s2", 9, 8, 2, 4, 2, 3, 2, 2, "valid")
    case_conv("conv_same_s2_5x5", 7, 7, 3, 6, 5, 5, 2, 2, "same", -20, 100)
    case_conv("conv_cin1", 8, 8, 1, 8, 3, 3, 1, 1, "same")
    case_conv("conv_1x1_cin1_cout20", 5, 5, 1, 20, 1, 1, 1, 1, "valid")  # weight-tail buffer
    case_conv("conv_cin40_single", 5, 5, 40, 3, 3, 3, 1, 1, "same")  # one window at a time
    case_conv("conv_cin64_rows", 4, 5, 64, 2, 3, 3, 1, 1, "same")  # window > 512: rows
    case_dw("dw_same_m2", 6, 7, 3, 2, 3, 3, 1, 1, "same")
    case_dw("dw_s2_m1", 9, 9, 4, 1, 3, 3, 2, 2, "same", 0, 127)
    case_dw("dw_valid_2x2", 5, 6, 2, 3, 2, 2, 1, 2, "valid")
    case_pool("maxpool_2x2", "max", 8, 8, 3, 2, 2, 2, 2, "valid")
    case_pool("maxpool_same_3x3", "max", 7, 5, 2, 3, 3, 2, 2, "same", -50, 50)
    case_pool("avgpool_same_3x3", "avg", 7, 6, 3, 3, 3, 1, 1, "same")
    case_pool("avgpool_s2_same", "avg", 5, 5, 4, 2, 2, 2, 2, "same", -10, 127)
    case_gap("gap_4x5x6", 4, 5, 6)
    case_gap("gap_clamped", 3, 3, 5, -20, 20)
    case_add("add_basic", 100)
    case_add("add_relu", 50, 0, 127)
    case_clamp("clamp_relu6", 64, -10, 60)
    # LEAKY_RELU: alpha 0.2 with a rescale, alpha 0 (M_alpha 0), alpha 0.01 with a sub-range
    # clamp, and the zero points at the extremes (every value on one branch)
    case_leaky("leaky_a02", 1, 100, 0.2, 0.05, 0.04, -7, 5)
    case_leaky("leaky_a0", 2, 64, 0.0, 0.05, 0.05, 10, -128)
    case_leaky("leaky_a001_clamped", 3, 80, 0.01, 0.1, 0.02, 0, -20, -100, 100)
    case_leaky("leaky_zx_max", 4, 40, 0.3, 0.02, 0.03, 127, 0)
    case_leaky("leaky_zx_min", 5, 40, 0.3, 0.02, 0.01, -128, -128)
    tfl_cases()  # TFLite arithmetic and SOFTMAX, their own generator
    src = requant_table() + "".join(kernel_src)
    src += (
        "static int (*const kernel_cases[])(int) = {\n"
        + "".join(
            f"#if KDC_TFLITE\n    {n},\n#endif\n" if tfl else f"    {n},\n"
            for n, tfl in kernel_names
        )
        + "};\n"
    )
    write("golden_kernels.h", src)
    write("golden_models.h", emit_models())
    write("golden_inflate.h", emit_inflate())


if __name__ == "__main__":
    main()
