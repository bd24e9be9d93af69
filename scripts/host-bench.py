"""kdc's C runtime beside LiteRT (built-in kernels, and XNNPACK) and onnxruntime on this machine,
side by side in one run, on the same int8 models, batch 1, one thread.

    python3 scripts/host-bench.py [--kdc .build/release/kdc] [--out DIR] [--rounds 5]
        [--only mnist_cnn|kws ...] [--json FILE]

Models:
- `mnist_cnn`: the layers of the MNIST CNN sample's student (samples/mnist/cnn.yaml: conv 3x3x8
  same + ReLU, max pool 2, conv 3x3x16 same + ReLU, max pool 2, flatten, dense 10), int8 with
  seeded random weights and per-channel weight scales, written here as a .tflite. Speed does not
  depend on the weight values, and every engine gets these same weights.
- `kws`: the MLPerf Tiny keyword-spotting DS-CNN (../shared/models/mlperf-tiny/kws_ref_model.tflite).

Engines, each on the same model:
- kdc: `kdc import MODEL.tflite` (an artifact with TFLite's arithmetic, checked byte for byte
  against LiteRT's reference kernels: scripts/mlperf-tiny-bench.py), then `kdc bench runtime`:
  the C runtime compiled with the system cc at -O2, timed in C (no Python in the loop).
- LiteRT built-in kernels: `Interpreter(..., num_threads=1,
  experimental_op_resolver_type=BUILTIN_WITHOUT_DEFAULT_DELEGATES)`.
- LiteRT with XNNPACK: `Interpreter(..., num_threads=1)` (the default resolver applies the XNNPACK
  delegate).
- onnxruntime: the same model converted here to ONNX QLinearConv / MaxPool / AveragePool (in
  float between Dequantize and Quantize: ONNX has no int8 average pool) / QLinearMatMul-free
  fully connected as a 1x1 QLinearConv, NCHW with a transpose back to NHWC before the flatten so
  the outputs are comparable (their largest difference from LiteRT's is printed: onnxruntime
  rounds its own way, so it is not 0); one intra-op thread, sequential execution.

Python engines: each `invoke()` / `run()` timed on its own and the median taken (as kdc's harness
times single `kdc_invoke` calls in C); the same around a model of one RESHAPE (LiteRT) or one
Identity (onnxruntime) is the call overhead, subtracted. Each figure is the median over
`--rounds` rounds, the engines interleaved within each round, so that a load change on the
machine hits all of them alike. Ratios from one run hold; absolute times vary
between machines (docs/BENCHMARKS.md).

The peers are installed into .venv-hostbench on first use (pinned below).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import benchvenv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv-hostbench")
PINS = ["ai-edge-litert==2.3.0", "onnxruntime==1.32.0", "onnx==1.23.2", "numpy==2.4.6"]
MLPERF = os.path.join(ROOT, "..", "shared", "models", "mlperf-tiny")


def ensure_venv():
    """Re-runs this script inside its venv (made and filled on first use)."""
    benchvenv.ensure(VENV, PINS)


# ---------------------------------------------------------------------------------------------
# A small int8 .tflite writer (LiteRT's own schema module, object API): just what the MNIST CNN
# student's layers and the overhead model need.


class TFLiteWriter:
    def __init__(self, s, np):
        self.s, self.np = s, np
        self.tensors, self.buffers, self.ops, self.codes = [], [self.s.BufferT()], [], []

    def tensor(self, name, shape, ttype, scales, zps, data=None, dim=0):
        s = self.s
        t = s.TensorT()
        t.name, t.shape, t.type = name, list(shape), ttype
        q = s.QuantizationParametersT()
        q.scale, q.zeroPoint, q.quantizedDimension = list(map(float, scales)), list(zps), dim
        t.quantization, t.buffer = q, 0
        if data is not None:
            b = s.BufferT()
            b.data = list(self.np.ascontiguousarray(data).tobytes())
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(self, code, options_type, options, inputs, output):
        if code not in self.codes:
            self.codes.append(code)
        o = self.s.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = self.codes.index(code), list(inputs), [output]
        o.builtinOptionsType, o.builtinOptions = options_type, options
        self.ops.append(o)

    def finish(self, graph_input, graph_output):
        import flatbuffers

        s = self.s
        codes = []
        for c in self.codes:
            oc = s.OperatorCodeT()
            oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = c, min(c, 127), 1
            codes.append(oc)
        sg = s.SubGraphT()
        sg.tensors, sg.operators = self.tensors, self.ops
        sg.inputs, sg.outputs = [graph_input], [graph_output]
        m = s.ModelT()
        m.version, m.operatorCodes, m.subgraphs, m.buffers = 3, codes, [sg], self.buffers
        fb = flatbuffers.Builder(1024)
        fb.Finish(m.Pack(fb), file_identifier=b"TFL3")
        return bytes(fb.Output())


def mnist_cnn_tflite(np):
    """The MNIST CNN student's layers, int8, seeded random weights, per-channel weight scales."""
    from ai_edge_litert import schema_py_generated as s

    rng = np.random.default_rng(7)
    w = TFLiteWriter(s, np)
    I8, I32 = s.TensorType.INT8, s.TensorType.INT32
    x = w.tensor("input", [1, 28, 28, 1], I8, [1 / 255], [-128])
    sx = 1 / 255

    def conv(x, sx, h, cin, cout, name):
        ws = rng.uniform(0.002, 0.02, cout)
        wt = w.tensor(
            name + "/w", [cout, 3, 3, cin], I8, ws, [0] * cout,
            rng.integers(-127, 128, (cout, 3, 3, cin)).astype(np.int8),
        )  # fmt: skip
        bt = w.tensor(
            name + "/b", [cout], I32, [sx * v for v in ws], [0] * cout,
            rng.integers(-2000, 2000, cout).astype(np.int32),
        )  # fmt: skip
        so = 0.05
        y = w.tensor(name, [1, h, h, cout], I8, [so], [-128])
        o = s.Conv2DOptionsT()
        o.padding, o.strideH, o.strideW = s.Padding.SAME, 1, 1
        o.dilationHFactor = o.dilationWFactor = 1
        o.fusedActivationFunction = s.ActivationFunctionType.RELU
        w.op(s.BuiltinOperator.CONV_2D, s.BuiltinOptions.Conv2DOptions, o, [x, wt, bt], y)
        return y, so

    def pool(x, s_, h, c, name):
        y = w.tensor(name, [1, h // 2, h // 2, c], I8, [s_], [-128])
        o = s.Pool2DOptionsT()
        o.padding, o.strideH, o.strideW = s.Padding.VALID, 2, 2
        o.filterHeight = o.filterWidth = 2
        w.op(s.BuiltinOperator.MAX_POOL_2D, s.BuiltinOptions.Pool2DOptions, o, [x], y)
        return y

    y, sy = conv(x, sx, 28, 1, 8, "conv1")
    y = pool(y, sy, 28, 8, "pool1")
    y, sy = conv(y, sy, 14, 8, 16, "conv2")
    y = pool(y, sy, 14, 16, "pool2")
    shp = w.tensor("shape", [2], I32, [], [], np.array([1, 784], np.int32))
    flat = w.tensor("flatten", [1, 784], I8, [sy], [-128])
    o = s.ReshapeOptionsT()
    o.newShape = [1, 784]
    w.op(s.BuiltinOperator.RESHAPE, s.BuiltinOptions.ReshapeOptions, o, [y, shp], flat)
    fs = 0.004
    ft = w.tensor(
        "dense/w", [10, 784], I8, [fs], [0], rng.integers(-127, 128, (10, 784)).astype(np.int8)
    )
    fb = w.tensor(
        "dense/b", [10], I32, [sy * fs], [0], rng.integers(-2000, 2000, 10).astype(np.int32)
    )
    out = w.tensor("logits", [1, 10], I8, [0.2], [0])
    w.op(
        s.BuiltinOperator.FULLY_CONNECTED, s.BuiltinOptions.FullyConnectedOptions,
        s.FullyConnectedOptionsT(), [flat, ft, fb], out,
    )  # fmt: skip
    return w.finish(x, out)


def reshape_tflite(np):
    """One RESHAPE of one int8 value: the LiteRT call-overhead model."""
    from ai_edge_litert import schema_py_generated as s

    w = TFLiteWriter(s, np)
    x = w.tensor("x", [1, 1], s.TensorType.INT8, [1.0], [0])
    shp = w.tensor("shape", [1], s.TensorType.INT32, [], [], np.array([1], np.int32))
    y = w.tensor("y", [1], s.TensorType.INT8, [1.0], [0])
    o = s.ReshapeOptionsT()
    o.newShape = [1]
    w.op(s.BuiltinOperator.RESHAPE, s.BuiltinOptions.ReshapeOptions, o, [x, shp], y)
    return w.finish(x, y)


# ---------------------------------------------------------------------------------------------
# .tflite (int8) -> ONNX (QLinear ops, NCHW), for onnxruntime.


def tflite_to_onnx(np, path):
    """Converts the int8 ops these models use. Returns the ONNX model bytes."""
    import onnx
    from ai_edge_litert import schema_py_generated as s
    from onnx import TensorProto, helper, numpy_helper

    with open(path, "rb") as f:
        m = s.ModelT.InitFromPackedBuf(f.read(), 0)
    sg = m.subgraphs[0]
    op_names = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    nodes, inits = [], []
    counter = [0]

    def const(name, arr):
        counter[0] += 1
        n = f"{name}_{counter[0]}"
        inits.append(numpy_helper.from_array(np.asarray(arr), n))
        return n

    def buf(t):
        d = m.buffers[sg.tensors[t].buffer].data
        tt = sg.tensors[t]
        dt = {s.TensorType.INT8: np.int8, s.TensorType.INT32: np.int32}[tt.type]
        return np.frombuffer(bytes(bytearray(d)), dt).reshape(tt.shape)

    def qp(t):
        q = sg.tensors[t].quantization
        return np.array(q.scale, np.float32), np.array(q.zeroPoint, np.int64).astype(np.int8)

    def sq(t):
        sc, zp = qp(t)
        return const("s", np.float32(sc[0])), const("z", np.int8(zp[0]))

    def same_pads(h, w, kh, kw, sh, sw):
        oh, ow = -(-h // sh), -(-w // sw)
        ph = max((oh - 1) * sh + kh - h, 0)
        pw = max((ow - 1) * sw + kw - w, 0)
        return [ph // 2, pw // 2, ph - ph // 2, pw - pw // 2]

    act_range = {0: None, 1: "relu", 3: "relu6"}
    name = {}
    x0 = sg.inputs[0]
    ishape = [int(v) for v in sg.tensors[x0].shape]
    name[x0] = "input"
    inputs = [
        helper.make_tensor_value_info(
            "input", TensorProto.INT8, [1, ishape[3], ishape[1], ishape[2]]
            if len(ishape) == 4 else list(ishape),
        )
    ]  # fmt: skip
    rank4 = {x0: len(ishape) == 4}

    def clamp_act(out_t, y, fused):
        """TFLite's fused ReLU/ReLU6 as a Clip in the int8 domain."""
        kind = act_range.get(fused)
        if kind is None:
            return y
        sc, zp = qp(out_t)
        lo = int(zp[0])
        hi = 127 if kind == "relu" else min(127, int(zp[0]) + round(6 / sc[0]))
        c = y + "_act"
        nodes.append(
            helper.make_node("Clip", [y, const("lo", np.int8(lo)), const("hi", np.int8(hi))], [c])
        )
        return c

    for k, op in enumerate(sg.operators):
        oc = m.operatorCodes[op.opcodeIndex]
        # Older files keep the code in deprecatedBuiltinCode (builtinCode 0).
        code = op_names[max(oc.builtinCode, oc.deprecatedBuiltinCode)]
        o = op.builtinOptions
        x, out = op.inputs[0], op.outputs[0]
        y = f"t{out}"
        if code != "MAX_POOL_2D" and code != "RESHAPE":
            xs, xz = sq(x)
            ys, yz = sq(out)
        if code in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            wq = buf(op.inputs[1])
            ws, _ = qp(op.inputs[1])
            h, wd = (int(v) for v in sg.tensors[x].shape[1:3])
            if code == "CONV_2D":
                _, kh, kw, _ = wq.shape
                wn = wq.transpose(0, 3, 1, 2)
                group = 1
            else:
                _, kh, kw, _ = wq.shape
                wn = wq.transpose(3, 0, 1, 2)
                group = int(sg.tensors[x].shape[3])
            pads = (
                same_pads(h, wd, kh, kw, o.strideH, o.strideW)
                if o.padding == s.Padding.SAME else [0, 0, 0, 0]
            )  # fmt: skip
            ins = [
                name[x], xs, xz, const("w", wn), const("ws", ws.astype(np.float32)),
                const("wz", np.zeros(len(ws), np.int8)), ys, yz,
            ]  # fmt: skip
            if len(op.inputs) > 2 and op.inputs[2] >= 0:
                ins.append(const("b", buf(op.inputs[2])))
            nodes.append(
                helper.make_node(
                    "QLinearConv", ins, [y], kernel_shape=[kh, kw], pads=pads,
                    strides=[o.strideH, o.strideW], group=group,
                )
            )  # fmt: skip
            y = clamp_act(out, y, o.fusedActivationFunction)
            rank4[out] = True
        elif code in ("MAX_POOL_2D", "AVERAGE_POOL_2D"):
            h, wd = (int(v) for v in sg.tensors[x].shape[1:3])
            pads = (
                same_pads(h, wd, o.filterHeight, o.filterWidth, o.strideH, o.strideW)
                if o.padding == s.Padding.SAME else [0, 0, 0, 0]
            )  # fmt: skip
            attrs = {
                "kernel_shape": [o.filterHeight, o.filterWidth],
                "pads": pads,
                "strides": [o.strideH, o.strideW],
            }
            if code == "MAX_POOL_2D":
                nodes.append(helper.make_node("MaxPool", [name[x]], [y], **attrs))
            else:
                f, g = y + "_f", y + "_g"
                nodes.append(helper.make_node("DequantizeLinear", [name[x], xs, xz], [f]))
                nodes.append(helper.make_node("AveragePool", [f], [g], **attrs))
                nodes.append(helper.make_node("QuantizeLinear", [g, ys, yz], [y]))
            rank4[out] = True
        elif code == "RESHAPE":
            src = name[x]
            if rank4.get(x):
                src = y + "_nhwc"
                nodes.append(helper.make_node("Transpose", [name[x]], [src], perm=[0, 2, 3, 1]))
            shp = const("shape", np.array([int(v) for v in sg.tensors[out].shape], np.int64))
            nodes.append(helper.make_node("Reshape", [src, shp], [y]))
            rank4[out] = False
        elif code == "FULLY_CONNECTED":
            wq = buf(op.inputs[1])
            ws, _ = qp(op.inputs[1])
            n, kin = wq.shape
            r4 = y + "_in4"
            nodes.append(
                helper.make_node(
                    "Reshape", [name[x], const("s4", np.array([1, kin, 1, 1], np.int64))], [r4]
                )
            )
            ins = [
                r4, xs, xz, const("w", wq.reshape(n, kin, 1, 1)),
                const("ws", np.broadcast_to(ws, (n,)).astype(np.float32).copy()),
                const("wz", np.zeros(n, np.int8)), ys, yz,
            ]  # fmt: skip
            if len(op.inputs) > 2 and op.inputs[2] >= 0:
                ins.append(const("b", buf(op.inputs[2])))
            c4 = y + "_c4"
            nodes.append(helper.make_node("QLinearConv", ins, [c4], kernel_shape=[1, 1]))
            nodes.append(
                helper.make_node("Reshape", [c4, const("s2", np.array([1, n], np.int64))], [y])
            )
            y = clamp_act(out, y, o.fusedActivationFunction if o else 0)
            rank4[out] = False
        elif code == "SOFTMAX":
            f, g = y + "_f", y + "_g"
            nodes.append(helper.make_node("DequantizeLinear", [name[x], xs, xz], [f]))
            nodes.append(helper.make_node("Softmax", [f], [g], axis=-1))
            nodes.append(helper.make_node("QuantizeLinear", [g, ys, yz], [y]))
            rank4[out] = False
        else:
            raise SystemExit(f"{path}: op {k} is {code}, which this converter does not handle")
        name[out] = y
    out_t = sg.outputs[0]
    outputs = [
        helper.make_tensor_value_info(
            name[out_t], TensorProto.INT8, [int(v) for v in sg.tensors[out_t].shape]
        )
    ]
    g = helper.make_graph(nodes, "model", inputs, outputs, inits)
    mo = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    mo.ir_version = 8
    onnx.checker.check_model(mo)
    return mo.SerializeToString()


def identity_onnx():
    import onnx
    from onnx import TensorProto, helper

    g = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "id",
        [helper.make_tensor_value_info("x", TensorProto.INT8, [1])],
        [helper.make_tensor_value_info("y", TensorProto.INT8, [1])],
    )  # fmt: skip
    mo = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    mo.ir_version = 8
    onnx.checker.check_model(mo)
    return mo.SerializeToString()


# ---------------------------------------------------------------------------------------------
# Timing.


def loop_ns(fn, calls):
    """The median of `calls` single calls, each timed on its own: as `kdc bench runtime` times
    single `kdc_invoke` calls, so that a preempted call on a busy machine moves neither."""
    t = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        t0 = clock()
        fn()
        t.append(clock() - t0)
    t.sort()
    return t[len(t) // 2]


def litert(path, resolver):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kw = {"num_threads": 1}
    if resolver:
        kw["experimental_op_resolver_type"] = getattr(OpResolverType, resolver)
    it = Interpreter(model_path=path, **kw)
    it.allocate_tensors()
    return it


def kdc_latency(kdc, artifact, samples, repeats):
    r = subprocess.run(
        [kdc, "bench", "runtime", artifact, "--no-callgrind", "--samples", str(samples),
         "--repeats", str(repeats)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if r.returncode != 0:
        raise SystemExit(f"kdc bench runtime {artifact} failed:\n{r.stdout}{r.stderr}")
    row = [ln for ln in r.stdout.splitlines() if ln.startswith(os.path.basename(artifact)[:36])]
    if not row:
        raise SystemExit(f"no row for {artifact} in:\n{r.stdout}")
    # name, MACs, arena, median ns, min ns, ...
    f = row[0][36:].split()
    return int(f[2])


def main():
    ensure_venv()
    import numpy as np
    import onnxruntime as ort

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kdc", default=os.path.join(ROOT, ".build", "release", "kdc"))
    ap.add_argument("--out", default=None, help="work folder (default: a temporary one)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    if not os.access(a.kdc, os.X_OK):
        raise SystemExit(f"{a.kdc}: no kdc binary; build it with `swift build -c release`")
    out = a.out or tempfile.mkdtemp(prefix="kdc-hostbench-")
    os.makedirs(out, exist_ok=True)

    models = {}
    p = os.path.join(out, "mnist_cnn.tflite")
    with open(p, "wb") as f:
        f.write(mnist_cnn_tflite(np))
    models["mnist_cnn"] = ("MNIST CNN student layers (random int8 weights)", p)
    kws = os.path.join(MLPERF, "kws_ref_model.tflite")
    if os.path.exists(kws):
        models["kws"] = ("MLPerf Tiny keyword spotting DS-CNN", kws)
    else:
        print(f"{kws} is missing: the keyword-spotting row is left out", file=sys.stderr)
    if a.only:
        models = {k: v for k, v in models.items() if k in a.only}
    ovh_t = os.path.join(out, "overhead.tflite")
    with open(ovh_t, "wb") as f:
        f.write(reshape_tflite(np))
    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    ovh_o = ort.InferenceSession(identity_onnx(), so, providers=["CPUExecutionProvider"])
    ovh_feed = {"x": np.zeros(1, np.int8)}

    rows = []
    for key, (title, path) in models.items():
        imp = os.path.join(out, key)
        r = subprocess.run(
            [a.kdc, "import", path, "--out", imp, "--name", key, "--stored", "--quiet"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if r.returncode != 0:
            raise SystemExit(f"kdc import {path} failed:\n{r.stdout}{r.stderr}")
        artifact = os.path.join(imp, key + ".kdc")
        ref = litert(path, "BUILTIN_REF")
        builtin = litert(path, "BUILTIN_WITHOUT_DEFAULT_DELEGATES")
        xnn = litert(path, None)
        ovh = litert(ovh_t, "BUILTIN_WITHOUT_DEFAULT_DELEGATES")
        sess = ort.InferenceSession(
            tflite_to_onnx(np, path), so, providers=["CPUExecutionProvider"]
        )
        d = builtin.get_input_details()[0]
        x = np.random.default_rng(3).integers(-128, 128, d["shape"]).astype(np.int8)
        feed = {"input": x.transpose(0, 3, 1, 2) if x.ndim == 4 else x}
        outs = {}
        for nm, it in (("ref", ref), ("builtin", builtin), ("xnnpack", xnn)):
            it.set_tensor(it.get_input_details()[0]["index"], x)
            it.invoke()
            outs[nm] = it.get_tensor(it.get_output_details()[0]["index"]).astype(int)
        outs["ort"] = sess.run(None, feed)[0].astype(int).reshape(outs["ref"].shape)
        ovh.set_tensor(ovh.get_input_details()[0]["index"], np.zeros([1, 1], np.int8))
        diffs = {k: int(np.abs(v - outs["ref"]).max()) for k, v in outs.items() if k != "ref"}

        # Calls per timing loop: about 0.2 s of work per engine per round.
        t1 = loop_ns(builtin.invoke, 20)
        calls = max(20, int(2e8 / max(t1, 1)))
        res = {k: [] for k in ("kdc", "builtin", "xnnpack", "ort", "ovh_litert", "ovh_ort")}
        for _ in range(a.rounds):
            res["ovh_litert"].append(loop_ns(ovh.invoke, calls))
            res["builtin"].append(loop_ns(builtin.invoke, calls))
            res["xnnpack"].append(loop_ns(xnn.invoke, calls))
            res["ovh_ort"].append(loop_ns(lambda: ovh_o.run(None, ovh_feed), calls))
            res["ort"].append(loop_ns(lambda s=sess, f=feed: s.run(None, f), calls))
            res["kdc"].append(kdc_latency(a.kdc, artifact, 20, max(5, calls // 20)))
        med = {k: float(np.median(v)) for k, v in res.items()}
        row = {
            "model": key,
            "title": title,
            "kdc_us": med["kdc"] / 1e3,
            "litert_builtin_us": (med["builtin"] - med["ovh_litert"]) / 1e3,
            "litert_xnnpack_us": (med["xnnpack"] - med["ovh_litert"]) / 1e3,
            "onnxruntime_us": (med["ort"] - med["ovh_ort"]) / 1e3,
            "overhead_litert_us": med["ovh_litert"] / 1e3,
            "overhead_onnxruntime_us": med["ovh_ort"] / 1e3,
            "max_abs_diff_vs_litert_ref": diffs,
            "rounds": a.rounds,
            "calls_per_round": calls,
        }
        rows.append(row)
        print(
            f"{key}: kdc {row['kdc_us']:.2f} us, LiteRT built-in {row['litert_builtin_us']:.2f} us, "
            f"XNNPACK {row['litert_xnnpack_us']:.2f} us, onnxruntime {row['onnxruntime_us']:.2f} us "
            f"(call overhead subtracted: LiteRT {row['overhead_litert_us']:.2f}, onnxruntime "
            f"{row['overhead_onnxruntime_us']:.2f}); largest output difference from LiteRT's "
            f"reference kernels: {diffs}",
            file=sys.stderr,
        )

    print(f"\nhost, one thread, batch 1; {os.cpu_count()} cores; median of {a.rounds} rounds")
    print("| model | kdc C runtime | LiteRT built-in | LiteRT + XNNPACK | onnxruntime |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:

        def cell(v, r=r):
            return f"{v:.2f} µs ({v / r['kdc_us']:.2f}×)"

        print(
            f"| {r['title']} | {r['kdc_us']:.2f} µs | {cell(r['litert_builtin_us'])} | "
            f"{cell(r['litert_xnnpack_us'])} | {cell(r['onnxruntime_us'])} |"
        )
    print("(×: the peer's time over kdc's; above 1 means kdc is faster)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
