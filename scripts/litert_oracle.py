#!/usr/bin/env python3
"""Runs a .tflite model with LiteRT (the oracle for kdc's TensorFlow Lite arithmetic).

    .venv/bin/python scripts/litert_oracle.py MODEL.tflite --input IN.npy --output OUT.npy
        [--kernels reference|default|optimized] [--intermediates DIR]

IN.npy holds N inputs stacked on axis 0, in the model input's own type (int8 for the MLPerf Tiny
models), each of the input's shape with or without its batch axis of 1. OUT.npy gets the N outputs
stacked the same way (the output's shape without the batch axis). `--kernels reference` (the
default) runs LiteRT's reference kernels (`OpResolverType.BUILTIN_REF`), the oracle;
`--kernels default` what LiteRT runs by default (its optimized kernels with the XNNPACK delegate),
`--kernels optimized` the optimized kernels without XNNPACK, both for comparison.

`--intermediates DIR` also writes, for every operator i, its output tensor over the N inputs to
DIR/op_<i>.npy (same stacking) and DIR/ops.json: per operator its name, input and output tensor
indices and, per tensor, name, shape, type, scale(s) and zero point(s).

Make the venv first: `make venv` (LiteRT 2.3.0, scripts/oracle-requirements.txt).
"""

import argparse
import json
import os
import sys

import numpy as np

try:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("litert_oracle: ai_edge_litert is missing; run `make venv` and use .venv/bin/python")

KERNELS = {
    "reference": "BUILTIN_REF",
    "default": "BUILTIN",
    "optimized": "BUILTIN_WITHOUT_DEFAULT_DELEGATES",
}


def make_interpreter(model, kernels="reference", keep_all=False):
    """An allocated LiteRT interpreter (model: a path, or the bytes of a .tflite) with the
    reference or default kernels, one thread."""
    if kernels not in KERNELS:
        raise ValueError(f"kernels must be one of {sorted(KERNELS)}, not {kernels!r}")
    source = {"model_content": model} if isinstance(model, bytes) else {"model_path": model}
    it = Interpreter(
        **source,
        experimental_op_resolver_type=getattr(OpResolverType, KERNELS[kernels]),
        experimental_preserve_all_tensors=keep_all,
        num_threads=1,
    )
    it.allocate_tensors()
    return it


def _as_batch(x, detail, what):
    """x of shape [N, *shape[1:]] or [N, *shape] to a list of arrays of the tensor's shape."""
    shape = tuple(int(d) for d in detail["shape"])
    if x.dtype != detail["dtype"]:
        raise ValueError(
            f"{what}: dtype {x.dtype} but the model input is {np.dtype(detail['dtype'])}; "
            "hint: give the input in the tensor's own type"
        )
    per = int(np.prod(shape))
    if x.ndim == 0 or x[0].size != per:
        raise ValueError(
            f"{what}: shape {x.shape} is not N inputs of shape {shape} (or {shape[1:]}); "
            "hint: stack the inputs on axis 0"
        )
    return [x[i].reshape(shape) for i in range(x.shape[0])]


def run(model, inputs, kernels="reference", intermediates=False):
    """Runs the model on each input. Returns (outputs [N, ...], per-op outputs or None, ops info).

    model: a path or the bytes of a .tflite. inputs: array [N, ...] in the model input's type, or
    a list of such arrays for a model with several inputs. The per-op outputs are a list, one
    array [N, ...] per operator, in operator order."""
    it = make_interpreter(model, kernels, keep_all=intermediates)
    details = it.get_input_details()
    out = it.get_output_details()[0]
    if not isinstance(inputs, (list, tuple)):
        inputs = [inputs]
    if len(inputs) != len(details):
        raise ValueError(f"the model has {len(details)} inputs, {len(inputs)} given")
    batches = [_as_batch(np.asarray(x), d, "input") for x, d in zip(inputs, details)]
    ops = it._get_ops_details()
    outputs, per_op = [], [[] for _ in ops]
    for xs in zip(*batches):
        for x, d in zip(xs, details):
            it.set_tensor(d["index"], x)
        it.invoke()
        outputs.append(it.get_tensor(out["index"])[0].copy())
        if intermediates:
            for k, op in enumerate(ops):
                per_op[k].append(it.get_tensor(int(op["outputs"][0]))[0].copy())
    per_op = [np.stack(p) for p in per_op] if intermediates else None
    return np.stack(outputs), per_op, describe(it)


def describe(it):
    """Operators and tensors of an interpreter, JSON-ready."""
    tensors = {}
    for t in it.get_tensor_details():
        q = t["quantization_parameters"]
        tensors[int(t["index"])] = {
            "name": t["name"],
            "shape": [int(d) for d in t["shape"]],
            "dtype": np.dtype(t["dtype"]).name,
            "scales": [float(s) for s in q["scales"]],
            "zero_points": [int(z) for z in q["zero_points"]],
            "quantized_dimension": int(q["quantized_dimension"]),
        }
    ops = [
        {
            "index": int(op["index"]),
            "op_name": op["op_name"],
            "inputs": [int(i) for i in op["inputs"]],
            "outputs": [int(i) for i in op["outputs"]],
        }
        for op in it._get_ops_details()
    ]
    return {"ops": ops, "tensors": tensors}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", help=".tflite file")
    ap.add_argument("--input", required=True, help="N inputs stacked on axis 0 (.npy)")
    ap.add_argument("--output", required=True, help="where the N outputs go (.npy)")
    ap.add_argument("--kernels", choices=sorted(KERNELS), default="reference")
    ap.add_argument("--intermediates", metavar="DIR", help="also write every op's output")
    a = ap.parse_args(argv)
    try:
        x = np.load(a.input, allow_pickle=False)
    except (OSError, ValueError) as e:
        sys.exit(f"litert_oracle: {a.input}: cannot read as .npy: {e}")
    if not os.path.isfile(a.model):
        sys.exit(f"litert_oracle: {a.model}: no such file")
    try:
        y, per_op, info = run(a.model, x, a.kernels, a.intermediates is not None)
    except ValueError as e:
        sys.exit(f"litert_oracle: {a.input}: {e}")
    np.save(a.output, y)
    if per_op is not None:
        os.makedirs(a.intermediates, exist_ok=True)
        for k, p in enumerate(per_op):
            np.save(os.path.join(a.intermediates, f"op_{k:03d}.npy"), p)
        with open(os.path.join(a.intermediates, "ops.json"), "w") as f:
            json.dump(info, f, indent=1)
    print(f"{a.model}: {len(y)} inputs, {a.kernels} kernels -> {a.output}")


if __name__ == "__main__":
    main()
