#!/usr/bin/env python3
"""Which rounding do LiteRT's kernels apply? Re-derives every op of .tflite models from its input
tensors with candidate formulas and counts, per op and candidate, the output bytes that differ.

    .venv/bin/python scripts/tflite_rounding.py [MODEL.tflite ...] [--random N] [--markdown]

Without models it takes the four int8 MLPerf Tiny models (/work/shared/models/mlperf-tiny, or
$KDC_MLPERF_TINY). Inputs: the fixed input whose byte i is int8((i·37) % 256 − 128), all −128,
all 127, a ramp, a checkerboard of −128/127, and N random ones (seed 0; default 16). Each op is
checked in isolation: its inputs are the tensors the same LiteRT run produced, for each of three
kernel sets (reference = BUILTIN_REF, the oracle; optimized = BUILTIN_WITHOUT_DEFAULT_DELEGATES;
default = BUILTIN, with XNNPACK).

Candidates (scripts/tflite_arith.py):
  FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D, ADD: the multiplier applied with `single`
  (TFLITE_SINGLE_ROUNDING: (x·M + 2^(s−1)) >> s), `double` (SaturatingRoundingDoublingHighMul then
  RoundingDivideByPOT) or `kdc` (one rounding, half away from zero).
  AVERAGE_POOL_2D: `tflite` (sum of raw bytes, half away from zero), `floor` ((sum + n/2) // n),
  `kdc-zp` (sum of x − z, half away, + z).
  SOFTMAX: the reference algorithm with the input multiplier applied `single` or `double`.
  RESHAPE: bytes unchanged (`copy`).
Then the same on constructed single-op models (scripts/tflite_tiny.py: exact ties, per-channel
FULLY_CONNECTED, per-tensor CONV_2D, ADD scale ratios, softmax scales and betas, partial pool
windows). Exit status 1 if some op has no candidate matching the reference kernels exactly.
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tflite_arith as ta
import tflite_tiny as tt
from ai_edge_litert import schema_py_generated as schema
from litert_oracle import make_interpreter, run


def _models_dir():
    """$KDC_MLPERF_TINY, else shared/models/mlperf-tiny beside the repository (where CI puts its
    copy of shared/), else /work/shared/models/mlperf-tiny."""
    if os.environ.get("KDC_MLPERF_TINY"):
        return os.environ["KDC_MLPERF_TINY"]
    here = os.path.dirname(os.path.abspath(__file__))
    beside = os.path.join(here, "..", "..", "shared", "models", "mlperf-tiny")
    return beside if os.path.isdir(beside) else "/work/shared/models/mlperf-tiny"


MODELS_DIR = _models_dir()
# What kdc's TFLite mode computes (docs/QUANTIZATION.md §8), per op: the candidate that must
# equal LiteRT's reference kernels byte for byte (--check).
SPEC = {
    "CONV_2D": "double",
    "DEPTHWISE_CONV_2D": "double",
    "FULLY_CONNECTED": "float",
    "ADD": "double",
    "AVERAGE_POOL_2D": "tflite",
    "SOFTMAX": "double",
    "RESHAPE": "copy",
}
MODELS = [
    "kws_ref_model.tflite",
    "pretrainedResnet_quant.tflite",
    "vww_96_int8.tflite",
    "ad01_int8.tflite",
]
KERNEL_SETS = ["reference", "optimized", "default"]
ACT = {v: k for k, v in vars(schema.ActivationFunctionType).items() if not k.startswith("_")}


def generated_inputs(shape, n_random, seed=0):
    """The structured inputs and n_random uniform ones, int8, stacked [N, *shape[1:]]."""
    size = int(np.prod(shape))
    i = np.arange(size)
    rows = [
        ((i * 37) % 256 - 128),
        np.full(size, -128),
        np.full(size, 127),
        (i % 256) - 128,
        np.where(i % 2 == 0, -128, 127),
    ]
    rng = np.random.default_rng(seed)
    rows += [rng.integers(-128, 128, size) for _ in range(n_random)]
    return np.stack(rows).astype(np.int8).reshape((-1, *shape[1:]))


def operator_options(model_path):
    """Per operator its builtin options object (schema's object API), in operator order."""
    with open(model_path, "rb") as f:
        buf = f.read()
    model = schema.ModelT.InitFromPackedBuf(buf, 0)
    return [op.builtinOptions for op in model.subgraphs[0].operators]


def window_pads(in_size, k, stride, padding):
    if padding == schema.Padding.SAME:
        out = -(-in_size // stride)
        total = max((out - 1) * stride + k - in_size, 0)
        return out, total // 2
    return (in_size - k) // stride + 1, 0


def conv_acc(x, zx, w, bias, opts, depthwise):
    """int64 accumulators [N, OH, OW, C_out]; taps outside the input contribute nothing."""
    if opts.dilationHFactor != 1 or opts.dilationWFactor != 1:
        raise ValueError("dilation not supported by this study")
    n, h, wd, cin = x.shape
    kh, kw = w.shape[1], w.shape[2]
    oh, pt = window_pads(h, kh, opts.strideH, opts.padding)
    ow, pl = window_pads(wd, kw, opts.strideW, opts.padding)
    xp = np.full((n, h + kh + opts.strideH * oh, wd + kw + opts.strideW * ow, cin), 0, np.int64)
    xp[:, pt : pt + h, pl : pl + wd, :] = x.astype(np.int64) - zx
    if depthwise:
        mult = w.shape[3] // cin
        xp = np.repeat(xp, mult, axis=3)
    cout = w.shape[3] if depthwise else w.shape[0]
    acc = np.zeros((n, oh, ow, cout), np.int64)
    for ky in range(kh):
        for kx in range(kw):
            tap = xp[:, ky : ky + opts.strideH * oh : opts.strideH, kx : kx + opts.strideW * ow : opts.strideW, :]  # fmt: skip
            if depthwise:
                acc += tap * w[0, ky, kx, :].astype(np.int64)
            else:
                acc += np.tensordot(tap, w[:, ky, kx, :].astype(np.int64), axes=([3], [1]))
    return acc + bias.astype(np.int64)


def requant_candidates(acc, sx, sw, so, zo, act):
    """Outputs of each rounding; (M, shift) per channel as PopulateConvolutionQuantizationParams
    derives them (double(s_in)·double(s_w)/double(s_out))."""
    pairs = [ta.quantize_multiplier(float(sx) * float(s) / float(so)) for s in sw]
    if len(pairs) == 1:
        pairs = pairs * acc.shape[-1]
    M = np.array([p[0] for p in pairs], np.int64)
    e = np.array([p[1] for p in pairs], np.int64)
    res = {k: np.clip(f(acc, M, e) + zo, *act) for k, f in ta.ROUNDINGS.items()}
    real = np.array([float(sx) * float(s) / float(so) for s in sw])
    res["float"] = np.clip(ta.scale_double(acc, real) + zo, *act)
    res["fp32-even"] = np.clip(ta.scale_fp32_even(acc, real) + zo, *act)
    return res


def pool_candidates(x, z, opts, act):
    n, h, wd, c = x.shape
    kh, kw = opts.filterHeight, opts.filterWidth
    oh, pt = window_pads(h, kh, opts.strideH, opts.padding)
    ow, pl = window_pads(wd, kw, opts.strideW, opts.padding)
    s_raw = np.zeros((n, oh, ow, c), np.int64)
    s_zp = np.zeros_like(s_raw)
    cnt = np.zeros((1, oh, ow, 1), np.int64)
    for oy in range(oh):
        for ox in range(ow):
            y0, x0 = oy * opts.strideH - pt, ox * opts.strideW - pl
            ys = slice(max(y0, 0), min(y0 + kh, h))
            xs = slice(max(x0, 0), min(x0 + kw, wd))
            win = x[:, ys, xs, :].astype(np.int64)
            s_raw[:, oy, ox, :] = win.sum(axis=(1, 2))
            s_zp[:, oy, ox, :] = (win - z).sum(axis=(1, 2))
            cnt[0, oy, ox, 0] = win.shape[1] * win.shape[2]
    return {
        "tflite": np.clip(ta.avg_round(s_raw, cnt), *act),
        "floor": np.clip((s_raw + cnt // 2) // cnt, *act),
        "kdc-zp": np.clip(ta.avg_round(s_zp, cnt) + z, *act),
    }


def rederive(op, opts, inputs, tensors, consts):
    """Candidate outputs of one op, given its input activations (int8 arrays [N, ...])."""
    name = op["op_name"]
    t = tensors
    out = t[op["outputs"][0]]
    so, zo = out["scales"][0], out["zero_points"][0]
    x = inputs[0]
    tin = t[op["inputs"][0]]
    sx, zx = tin["scales"][0], tin["zero_points"][0]
    fused = ACT.get(getattr(opts, "fusedActivationFunction", 0), "NONE")
    act = ta.act_range(fused, so, zo)
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        w = consts[op["inputs"][1]]
        b = consts[op["inputs"][2]] if len(op["inputs"]) > 2 and op["inputs"][2] >= 0 else None
        sw = t[op["inputs"][1]]["scales"]
        if name == "FULLY_CONNECTED":
            xf = x.reshape(x.shape[0], -1).astype(np.int64) - zx
            acc = xf @ w.astype(np.int64).T
            if b is not None:
                acc = acc + b.astype(np.int64)
        else:
            if b is None:
                b = np.zeros(w.shape[3] if name == "DEPTHWISE_CONV_2D" else w.shape[0], np.int64)
            acc = conv_acc(x, zx, w, b, opts, name == "DEPTHWISE_CONV_2D")
        return requant_candidates(acc, sx, sw, so, zo, act)
    if name == "AVERAGE_POOL_2D":
        return pool_candidates(x, zx, opts, act)
    if name == "ADD":
        tb = t[op["inputs"][1]]
        params = ta.add_params(sx, tb["scales"][0], so)
        return {
            k: ta.add_int8(x, zx, inputs[1], tb["zero_points"][0], zo, params, *act, rounding=k)
            for k in ta.ROUNDINGS
        }
    if name == "SOFTMAX":
        res = {}
        for k in ("single", "double"):
            M, left, dmin = ta.softmax_params(opts.beta, sx, single_rounding=k == "single")
            res[k] = ta.softmax_int8(x, M, left, dmin, single_rounding=k == "single")
        return res
    if name == "RESHAPE":
        return {"copy": x}
    raise ValueError(f"op {name} not in this study")


def label(op, tensors):
    name = op["op_name"]
    if name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
        per = len(tensors[op["inputs"][1]]["scales"]) > 1
        return f"{name} ({'per-channel' if per else 'per-tensor'})"
    return name


def operator_options_bytes(buf):
    return [
        op.builtinOptions for op in schema.ModelT.InitFromPackedBuf(buf, 0).subgraphs[0].operators
    ]


def study(model, inputs, kernel_sets=KERNEL_SETS):
    """{label: {kernel set: {candidate: [differing bytes, compared bytes]}}} and op counts, for
    a model (path or bytes) on inputs (an array [N, ...], or a list of them, one per input)."""
    if isinstance(model, bytes):
        options = operator_options_bytes(model)
    else:
        options = operator_options(model)
    if not isinstance(inputs, list):
        inputs = [inputs]
    it = make_interpreter(model)
    runs = {ks: run(model, inputs, ks, intermediates=True) for ks in kernel_sets}
    ops, tensors = runs["reference"][2]["ops"], runs["reference"][2]["tensors"]
    consts = {}
    for op in ops:
        for i in op["inputs"]:
            if i >= 0 and i not in consts and tensors[i]["name"] and i not in _activation_ids(it):
                consts[i] = it.get_tensor(i)
    table, counts = {}, {}
    for ks in kernel_sets:
        _, per_op, _ = runs[ks]
        produced = {
            d["index"]: np.asarray(x).reshape((-1, *d["shape"][1:]))
            for d, x in zip(it.get_input_details(), inputs)
        }
        for k, op in enumerate(ops):
            produced[op["outputs"][0]] = per_op[k]
        for k, op in enumerate(ops):
            acts = [produced[i] for i in op["inputs"] if i in produced]
            cands = rederive(op, options[k], acts, tensors, consts)
            want = per_op[k].astype(np.int64)
            row = table.setdefault(label(op, tensors), {}).setdefault(ks, {})
            for c, y in cands.items():
                got = np.asarray(y).reshape(want.shape)
                d = row.setdefault(c, [0, 0])
                d[0] += int((got != want).sum())
                d[1] += want.size
            if ks == "reference":
                counts[label(op, tensors)] = counts.get(label(op, tensors), 0) + 1
    return table, counts


def _activation_ids(it):
    ids = {d["index"] for d in it.get_input_details()}
    ids |= {int(op["outputs"][0]) for op in it._get_ops_details()}
    return ids


def study_model(path, n_random):
    shape = make_interpreter(path).get_input_details()[0]["shape"]
    return study(path, generated_inputs(shape, n_random))


def constructed(n=64, seed=1):
    """Single-op models (scripts/tflite_tiny.py) for what the MLPerf Tiny models do not reach:
    exact ties (multipliers 0.5, 0.25, 1.5), multipliers above one, per-channel FULLY_CONNECTED,
    per-tensor CONV_2D, ADD scale ratios, softmax scales and betas, partial pool windows. Yields
    (name, model bytes, inputs)."""
    rng = np.random.default_rng(seed)

    def r8(*shape):
        return rng.integers(-128, 128, shape).astype(np.int8)

    for sw, so, tag in [([1.0], 2.0, "m 0.5"), ([1.0], 4.0, "m 0.25"), ([3.0], 2.0, "m 1.5"),
                        ([0.0041], 0.0522, "m 0.00134"), ([0.7], 0.11, "m 6.36")]:  # fmt: skip
        k, nout = 3, 16
        w = rng.integers(-3, 4, (nout, k))
        bias = rng.integers(-40, 41, nout)
        yield (
            f"FULLY_CONNECTED per-tensor, {tag}",
            tt.fully_connected(
                k, w, bias, 1.0 if so > 1 or sw[0] >= 0.7 else 0.0173, 3, sw, so, -5
            ),
            r8(n, 1, k),
        )
    sw = [1.0, 0.5, 0.25, 1.5, 0.0041, 0.37, 3.0, 0.02]
    w = rng.integers(-5, 6, (8, 4))
    yield (
        "FULLY_CONNECTED per-channel, ties and random",
        tt.fully_connected(4, w, rng.integers(-50, 51, 8), 1.0, -7, sw, 2.0, 4),
        r8(n, 1, 4),
    )
    w = rng.integers(-4, 5, (3, 3, 3, 2))
    for sw, tag in [([1.0], "m 0.5"), ([0.013], "m 0.0065")]:
        yield (
            f"CONV_2D per-tensor, {tag}",
            tt.conv2d(5, 5, w, rng.integers(-30, 31, 3), 1.0, 2, sw, 2.0, -3),
            r8(n, 1, 5, 5, 2),
        )
    yield (
        "CONV_2D per-channel, ties",
        tt.conv2d(5, 5, w, rng.integers(-30, 31, 3), 1.0, 2, [1.0, 0.5, 3.0], 2.0, -3, stride=2),
        r8(n, 1, 5, 5, 2),
    )
    for sa, za, sb, zb, so, zo in [(0.5, 3, 0.5, -4, 1.0, 0), (0.031, -10, 0.047, 22, 0.06, -3),
                                   (1.0, 0, 0.25, 0, 0.5, 7), (0.2, 5, 0.013, 0, 0.21, -128)]:  # fmt: skip
        yield (
            f"ADD sa {sa} sb {sb} so {so}",
            tt.add(32, sa, za, sb, zb, so, zo),
            [
                r8(n, 1, 32),
                r8(n, 1, 32),
            ],
        )
    for sx, zx, beta in [(0.1, 0, 1.0), (0.0625, -20, 1.0), (0.5, 10, 1.0), (0.01, 3, 2.0),
                         (0.2, -128, 0.5), (1.0, 0, 1.0), (0.003, 0, 1.0), (4.0, 0, 1.0),
                         (20.0, 0, 1.0)]:  # fmt: skip
        x = r8(n, 1, 10)
        x[0, 0, :] = 127
        x[1, 0, :] = np.arange(10) * 25 - 128
        x[2, 0, :] = [127, 126] + [-128] * 8
        yield f"SOFTMAX s {sx} beta {beta}", tt.softmax(10, sx, zx, beta), x
    for k, stride, same in [(3, 2, True), (2, 2, False), (3, 1, True)]:
        yield (
            f"AVERAGE_POOL_2D k {k} s {stride} {'SAME' if same else 'VALID'}",
            tt.avg_pool(5, 5, 3, k, stride, same, 0.1, -3),
            r8(n, 1, 5, 5, 3),
        )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("models", nargs="*")
    ap.add_argument("--random", type=int, default=16, help="random inputs besides the 5 fixed")
    ap.add_argument("--markdown", action="store_true", help="print the docs table")
    ap.add_argument(
        "--check",
        action="store_true",
        help="exit 1 unless kdc's TFLite-mode formula of every op equals the reference kernels",
    )
    a = ap.parse_args(argv)
    paths = a.models or [os.path.join(MODELS_DIR, m) for m in MODELS]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        sys.exit(f"tflite_rounding: missing model(s): {', '.join(missing)}")
    merged, where = {}, {}
    for p in paths:
        table, counts = study_model(p, a.random)
        for lab, per_ks in table.items():
            where.setdefault(lab, []).append(f"{os.path.basename(p)} ×{counts[lab]}")
            for ks, cands in per_ks.items():
                for c, (bad, tot) in cands.items():
                    d = merged.setdefault(lab, {}).setdefault(ks, {}).setdefault(c, [0, 0])
                    d[0] += bad
                    d[1] += tot
    n_inputs = 5 + a.random
    ok = True
    spec_bad = []
    if a.markdown:
        print(f"Differing output bytes per candidate, {n_inputs} inputs per model.\n")
        print("| op | where | candidate | reference | optimized | default (XNNPACK) |")
        print("| --- | --- | --- | ---: | ---: | ---: |")
    for lab, per_ks in merged.items():
        ref = per_ks["reference"]
        if not any(bad == 0 for bad, _ in ref.values()):
            ok = False
        want = SPEC[lab.split(" ")[0]]
        if ref[want][0] != 0:
            spec_bad.append(f"{lab}: {want} differs in {ref[want][0]} bytes")
        for c in ref:
            cells = [f"{per_ks[ks][c][0]:,} / {per_ks[ks][c][1]:,}" for ks in KERNEL_SETS]
            if a.markdown:
                print(f"| {lab} | {'; '.join(where[lab])} | {c} | " + " | ".join(cells) + " |")
            else:
                print(
                    f"{lab:34s} {c:8s} " + "  ".join(f"{k}={v}" for k, v in zip(KERNEL_SETS, cells))
                )
    if a.markdown:
        print("\nConstructed single-op models (scripts/tflite_tiny.py), 64 random inputs each.\n")
        print("| model | bytes | reference | optimized | default (XNNPACK) |")
        print("| --- | ---: | --- | --- | --- |")
    for name, model, x in constructed():
        table, _ = study(model, x)
        for lab, per_ks in table.items():
            ref = per_ks["reference"]
            if not any(bad == 0 for bad, _ in ref.values()):
                ok = False
            want = SPEC[lab.split(" ")[0]]
            if ref[want][0] != 0:
                spec_bad.append(f"{name}: {want} differs in {ref[want][0]} bytes")
            total = next(iter(ref.values()))[1]
            cells = [", ".join(f"{c} {per_ks[ks][c][0]}" for c in ref) for ks in KERNEL_SETS]
            if a.markdown:
                print(f"| {name} | {total:,} | " + " | ".join(cells) + " |")
            else:
                print(f"{name:45s} {total:6d}  " + "  |  ".join(cells))
    if not ok:
        print("tflite_rounding: some op has no candidate equal to the reference kernels")
    if a.check:
        for line in spec_bad:
            print("tflite_rounding: spec mismatch: " + line)
        print(
            f"tflite_rounding --check: kdc's TFLite arithmetic "
            f"{'equals' if not spec_bad else 'DIFFERS FROM'} LiteRT's reference kernels on every op"
        )
        return 0 if ok and not spec_bad else 1
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
