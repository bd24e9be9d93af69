#!/usr/bin/env python3
"""The MLPerf Tiny int8 models through kdc, side by side with LiteRT and TensorFlow Lite Micro.

    python3 scripts/mlperf-tiny-bench.py [--models DIR] [--out DIR] [--inputs N] [--kdc PATH]
        [--no-firmware] [--only NAME ...]

For each int8 model in ../shared/models/mlperf-tiny (README there):

1. `kdc import MODEL --out OUT/NAME --firmware cortex-m4`: the artifact (zlib and stored), the
   memory plan, the host check, and the emulated Cortex-M4 (QEMU mps2-an386): outputs equal to
   the host's, RAM predicted = measured, instructions per inference (report.json).
2. N generated int8 inputs (structured: all -128, all 127, a ramp, a checkerboard, the fixed
   input whose byte i is int8((i*37) % 256 - 128); the rest seeded random), run through
   `kdc run` (the C runtime on this machine), LiteRT 2.3.0 with its reference kernels (the
   oracle), LiteRT's default kernels, and TensorFlow Lite Micro's Python interpreter (its
   reference kernels, on this machine); the number of output bytes each differs from the oracle.
3. TensorFlow Lite Micro's arena on this machine (its recording allocator's total; a 64-bit host,
   so pointers are twice a Cortex-M's).

Prints one markdown table (docs/BENCHMARKS.md) and writes OUT/mlperf-tiny.json. The peers run in
a venv this script makes (.venv-bench: ai-edge-litert, tflite-micro and numpy, pinned below).
"""

import argparse
import json
import os
import subprocess
import sys

import benchvenv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv-bench")
PINS = ["ai-edge-litert==2.3.0", "tflite-micro==0.dev20261023182759", "numpy==2.4.6"]
MODELS = [
    ("kws", "kws_ref_model.tflite", "keyword spotting DS-CNN"),
    ("resnet8", "pretrainedResnet_quant.tflite", "ResNet-8"),
    ("vww", "vww_96_int8.tflite", "visual wake words"),
    ("ad", "ad01_int8.tflite", "anomaly detection"),
]


def ensure_venv():
    """Re-runs this script inside its venv (made and filled on first use)."""
    benchvenv.ensure(VENV, PINS)


def generated_inputs(np, shape, n, seed=0):
    """n int8 inputs of `shape`: five structured ones, then seeded random ones."""
    size = int(np.prod(shape))
    i = np.arange(size)
    rows = [
        np.full(size, -128),
        np.full(size, 127),
        (i * 255 // max(size - 1, 1)) - 128,
        np.where((i + i // max(shape[-2] if len(shape) > 1 else 1, 1)) % 2 == 0, 127, -128),
        (i * 37) % 256 - 128,
    ]
    rng = np.random.default_rng(seed)
    while len(rows) < n:
        rows.append(rng.integers(-128, 128, size))
    return np.stack(rows[:n]).astype(np.int8).reshape((n, *shape))


def tflm_outputs(np, model_path, xs, tmp):
    """TensorFlow Lite Micro's outputs on xs and its arena total (from its allocation log, which
    its C++ side prints: hence a child process)."""
    code = (
        "import sys, numpy as np\n"
        "from tflite_micro.python.tflite_micro import runtime\n"
        "it = runtime.Interpreter.from_file(sys.argv[1])\n"
        "xs = np.load(sys.argv[2]); ys = []\n"
        "for x in xs:\n"
        "    it.set_input(x.reshape((1, *x.shape)), 0); it.invoke(); ys.append(it.get_output(0)[0].copy())\n"
        "np.save(sys.argv[3], np.stack(ys))\n"
        "it.print_allocations()\n"
    )
    np.save(os.path.join(tmp, "tflm_x.npy"), xs)
    out = os.path.join(tmp, "tflm.npy")
    r = subprocess.run(
        [sys.executable, "-c", code, model_path, os.path.join(tmp, "tflm_x.npy"), out],
        capture_output=True,
        text=True,
        check=True,
    )
    arena = None
    for line in (r.stdout + r.stderr).splitlines():
        if "Arena allocation total" in line:
            arena = int(line.split("total")[1].split()[0])
    return np.load(out), arena


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default=os.path.join(ROOT, "..", "shared", "models", "mlperf-tiny"))
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "mlperf-tiny"))
    ap.add_argument("--inputs", type=int, default=100)
    ap.add_argument("--kdc", default=os.path.join(ROOT, ".build", "release", "kdc"))
    ap.add_argument("--no-firmware", action="store_true")
    ap.add_argument("--only", nargs="*")
    a = ap.parse_args()
    if not os.path.isdir(a.models):
        sys.exit(
            f"mlperf-tiny-bench: {a.models}: no such folder (the MLPerf Tiny models); pass --models DIR"
        )
    if not os.access(a.kdc, os.X_OK):
        sys.exit(
            f"mlperf-tiny-bench: {a.kdc}: no kdc binary; run `swift build -c release` or pass --kdc"
        )
    ensure_venv()
    import numpy as np

    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import litert_oracle

    results = []
    for key, file, title in MODELS:
        if a.only and key not in a.only:
            continue
        path = os.path.join(a.models, file)
        out = os.path.join(a.out, key)
        cmd = [a.kdc, "import", path, "--out", out, "--name", key]
        if not a.no_firmware:
            cmd += ["--firmware", "cortex-m4"]
        print("$ " + " ".join(cmd), file=sys.stderr)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(out, "report.json")) as f:
            rep = json.load(f)
        it = litert_oracle.make_interpreter(path)
        shape = tuple(int(d) for d in it.get_input_details()[0]["shape"][1:])
        xs = generated_inputs(np, shape, a.inputs)
        np.save(os.path.join(out, "inputs.npy"), xs)
        subprocess.run(
            [
                a.kdc,
                "run",
                os.path.join(out, f"{key}.kdc"),
                "--input",
                os.path.join(out, "inputs.npy"),
                "--output",
                os.path.join(out, "kdc.npy"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        ys = np.load(os.path.join(out, "kdc.npy"))
        ref, _, _ = litert_oracle.run(path, xs, "reference")
        default, _, _ = litert_oracle.run(path, xs, "default")
        tflm, tflm_arena = tflm_outputs(np, path, xs, out)

        def differ(y, ref=ref):
            return int(np.count_nonzero(y.reshape(ref.shape) != ref))

        fw = rep.get("firmware") or {}
        stored = next((m for m in fw.get("modes", []) if m["mode"] == "stored"), {})
        row = {
            "model": key,
            "title": title,
            "macs": rep["source"]["macs"],
            "tflite_bytes": os.path.getsize(path),
            "artifact_bytes": rep["artifact"]["bytes"],
            "stored_bytes": os.path.getsize(os.path.join(out, f"{key}.stored.kdc")),
            "arena_bytes": rep["memory"]["arena_total_bytes"],
            "arena_lower_bound_bytes": rep["memory"]["arena_lower_bound_bytes"],
            "tflm_host_arena_bytes": tflm_arena,
            "runtime_text_bytes": fw.get("runtime_text_bytes"),
            "instructions": stored.get("instructions_per_inference"),
            "instructions_per_mac": stored.get("instructions_per_mac"),
            "firmware_match": fw.get("match"),
            "ram_predicted_equals_measured": fw.get("ram_matches_prediction"),
            "inputs": int(xs.shape[0]),
            "output_bytes": int(ref.size),
            "differ_kdc": differ(ys),
            "differ_litert_default": differ(default),
            "differ_tflm": differ(tflm),
        }
        results.append(row)
        print(json.dumps(row), file=sys.stderr)

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "mlperf-tiny.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(
        "| model (MACs) | .tflite | kdc artifact zlib / stored | arena: kdc (lower bound) / TFLM "
        "| runtime .text | M4 instructions / inference (per MAC) "
        "| output bytes ≠ LiteRT reference: kdc / LiteRT default / TFLM |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for r in results:
        insns = (
            f"{r['instructions']:,} ({r['instructions_per_mac']:.2f})"
            if r["instructions"]
            else "not run"
        )
        text = f"{r['runtime_text_bytes']:,} B" if r["runtime_text_bytes"] else "not run"
        macs = f"{r['macs']:,}"
        print(
            f"| {r['title']} ({macs}) | {r['tflite_bytes']:,} B | {r['artifact_bytes']:,} / {r['stored_bytes']:,} B "
            f"| {r['arena_bytes']:,} ({r['arena_lower_bound_bytes']:,}) / {r['tflm_host_arena_bytes']:,} B "
            f"| {text} | {insns} "
            f"| {r['differ_kdc']} / {r['differ_litert_default']} / {r['differ_tflm']:,} of {r['output_bytes']:,} |"
        )


if __name__ == "__main__":
    main()
