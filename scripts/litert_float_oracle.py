#!/usr/bin/env python3
"""Float outputs of a float32 .tflite model from LiteRT: the oracle for kdc's float teachers.

    .venv/bin/python scripts/litert_float_oracle.py MODEL.tflite --input IN.npy --output OUT.npy
        [--kernels reference|default|optimized] [--keep-hybrid] [--intermediates DIR]

IN.npy holds N float32 inputs stacked on axis 0; OUT.npy gets the N float32 outputs. The model
runs on LiteRT's reference kernels by default (scripts/litert_oracle.py runs it).
`--intermediates DIR` also writes every operator's output over the N inputs (DIR/op_<i>.npy)
and DIR/ops.json, as scripts/litert_oracle.py does.

A "dynamic range" model keeps int8 weights in a float model (kws_ref_model_float32.tflite: its
five CONV_2D have int8 filters with per-channel scales). LiteRT's CPU kernels run such an op as a
*hybrid* op: they quantize the float input on the fly (per inference, asymmetric int8), multiply
in integers and scale back, so the result is not the float function of the dequantized weights
(about 1e-3 relative apart on that model). kdc imports a float teacher as a float model,
w = s·(q − z). So that LiteRT computes the same function, this script first rewrites every
constant int8 tensor with quantization read by a float op as the float32 tensor s·(q − z),
with the flatbuffer schema LiteRT ships (ai_edge_litert.schema_py_generated); the weights are
dequantized here, independently of kdc. `--keep-hybrid` runs the file as it is.

Make the venv first: `make venv`.
"""

import argparse
import json
import os
import sys

import numpy as np

try:
    import flatbuffers
    from ai_edge_litert import schema_py_generated as schema
except ImportError:  # pragma: no cover - the message is the point
    sys.exit(
        "litert_float_oracle: ai_edge_litert is missing; run `make venv` and use .venv/bin/python"
    )

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from litert_oracle import KERNELS, run


def dequantize_weights(model_bytes):
    """The model with every constant int8 tensor that has scales rewritten as float32
    s·(q − z) (per channel along its quantized dimension). Returns (bytes, names rewritten)."""
    m = schema.ModelT.InitFromObj(schema.Model.GetRootAs(model_bytes, 0))
    done = []
    for sg in m.subgraphs:
        for t in sg.tensors:
            q = t.quantization
            buf = m.buffers[t.buffer]
            if t.type != schema.TensorType.INT8 or q is None or q.scale is None or buf.data is None:
                continue
            shape = [int(d) for d in t.shape]
            v = (
                np.frombuffer(bytes(bytearray(buf.data)), dtype=np.int8)
                .astype(np.float64)
                .reshape(shape)
            )
            scale = np.asarray(q.scale, dtype=np.float32)
            zero = np.asarray(
                q.zeroPoint if q.zeroPoint is not None else [0] * len(scale), dtype=np.float64
            )
            if len(scale) > 1:
                axis = [1] * len(shape)
                axis[q.quantizedDimension] = len(scale)
                scale, zero = scale.reshape(axis), zero.reshape(axis)
            w = (scale.astype(np.float32) * (v - zero).astype(np.float32)).astype(np.float32)
            buf.data = np.frombuffer(w.tobytes(), dtype=np.uint8)
            t.type = schema.TensorType.FLOAT32
            t.quantization = None
            done.append(t.name.decode() if isinstance(t.name, bytes) else t.name)
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output()), done


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help="float32 .tflite file")
    ap.add_argument("--input", required=True, help="N float32 inputs stacked on axis 0 (.npy)")
    ap.add_argument("--output", required=True, help="where the N float32 outputs go (.npy)")
    ap.add_argument("--kernels", choices=sorted(KERNELS), default="reference")
    ap.add_argument("--keep-hybrid", action="store_true", help="do not dequantize int8 weights")
    ap.add_argument("--intermediates", metavar="DIR", help="also write every op's output")
    a = ap.parse_args(argv)
    try:
        x = np.load(a.input, allow_pickle=False)
    except (OSError, ValueError) as e:
        sys.exit(f"litert_float_oracle: {a.input}: cannot read as .npy: {e}")
    try:
        with open(a.model, "rb") as f:
            model = f.read()
    except OSError as e:
        sys.exit(f"litert_float_oracle: {a.model}: {e}")
    done = []
    if not a.keep_hybrid:
        model, done = dequantize_weights(model)
    try:
        y, per_op, info = run(model, x.astype(np.float32), a.kernels, a.intermediates is not None)
    except ValueError as e:
        sys.exit(f"litert_float_oracle: {a.input}: {e}")
    np.save(a.output, y)
    if per_op is not None:
        os.makedirs(a.intermediates, exist_ok=True)
        for k, p in enumerate(per_op):
            np.save(os.path.join(a.intermediates, f"op_{k:03d}.npy"), p)
        with open(os.path.join(a.intermediates, "ops.json"), "w") as f:
            json.dump(info, f, indent=1)
    print(
        f"{a.model}: {len(y)} inputs, {a.kernels} kernels, {len(done)} int8 weight tensors dequantized -> {a.output}"
    )


if __name__ == "__main__":
    main()
