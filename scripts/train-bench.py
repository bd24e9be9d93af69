"""kdc's training speed beside Keras on TensorFlow-CPU, side by side in one run, on the four MNIST
sample models (samples/mnist/config.yaml and samples/mnist/cnn.yaml).

    python3 scripts/train-bench.py [--kdc .build/release/kdc] [--rounds 4] [--threads 2]
        [--keras-spe 32] [--teacher-steps 160] [--only cnn-student ...] [--json FILE]

What is timed, for both engines: training passes over the same number of MNIST training images
(the students: kdc's whole training split, 54,000 images; the teachers: `--teacher-steps`
batches), batch 128, Adam with each config's learning rate, sparse softmax cross-entropy on the
logits, training accuracy tracked; samples per second of one whole pass (shuffling and batching
included), after one untimed warm-up pass (for Keras that is where its step function is traced).
Each figure is the median over `--rounds` rounds; within a round the engines alternate model by
model, so that a change of load on the machine hits both alike. Ratios from one run hold;
absolute rates vary with the machine and its load (docs/BENCHMARKS.md).

The models are the configs' layers: `same` padding, 2x2 max pools, ReLU, dropout 0.5 where the
configs have it. kdc's ReLU is a layer of its own; Keras gets `activation="relu"` on its Dense
and Conv2D layers, its usual (fused) form. Keras trains with a constant learning rate, kdc with
the configs' cosine schedule (one scalar per step either way).

Augmentation: the teachers' configs shift each image by up to ±1 (MLP) or ±2 (CNN) pixels;
Keras gets no augmentation, so kdc is timed both as configured ("kdc, shifts") and with
`--no-augment` ("kdc"): the ratios are taken against the latter, the same work as Keras does.
The students' configs have no shifts.

Threads: kdc runs OpenBLAS single-threaded and splits large matrix products, its convolution
kernels and elementwise passes over the machine's cores (two here); Keras gets the same count with
`tf.config.threading.set_intra_op_parallelism_threads(--threads)` (and as many inter-op threads).
`--keras-spe` is Keras's `steps_per_execution` (comma-separated for several columns; the goals
in issue 16 are against 32).

TensorFlow-CPU is installed into .venv-trainbench on first use (pinned below).
"""

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time

import benchvenv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv-trainbench")
PINS = ["tensorflow-cpu==2.21.0", "keras==3.15.1", "numpy==2.4.6"]
MODELS = ["mlp-teacher", "mlp-student", "cnn-teacher", "cnn-student"]
TEACHERS = {"mlp-teacher", "cnn-teacher"}
# The configs' learning rates (samples/mnist/config.yaml, samples/mnist/cnn.yaml).
LEARNING_RATE = {"mlp-teacher": 1e-3, "mlp-student": 2e-3, "cnn-teacher": 1e-3, "cnn-student": 3e-3}


def keras_model(keras, name):
    """The config's layers in Keras (input 28x28x1, logits out)."""
    lay = keras.layers
    if name == "mlp-teacher":
        body = [lay.Flatten(), lay.Dense(1200, activation="relu"), lay.Dropout(0.5)]
        body += [lay.Dense(1200, activation="relu"), lay.Dropout(0.5), lay.Dense(10)]
    elif name == "mlp-student":
        body = [lay.Flatten(), lay.Dense(32, activation="relu"), lay.Dense(10)]
    elif name == "cnn-teacher":
        body = [lay.Conv2D(32, 3, padding="same", activation="relu"), lay.MaxPooling2D(2)]
        body += [lay.Conv2D(64, 3, padding="same", activation="relu"), lay.MaxPooling2D(2)]
        body += [lay.Flatten(), lay.Dense(128, activation="relu"), lay.Dropout(0.5), lay.Dense(10)]
    else:
        body = [lay.Conv2D(8, 3, padding="same", activation="relu"), lay.MaxPooling2D(2)]
        body += [lay.Conv2D(16, 3, padding="same", activation="relu"), lay.MaxPooling2D(2)]
        body += [lay.Flatten(), lay.Dense(10)]
    return keras.Sequential([keras.Input((28, 28, 1)), *body])


def read_idx(path, np):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * dims).reshape(shape)


def run_kdc(kdc, model, args, augment):
    cmd = [kdc, "bench", "training", "--model", model, "--passes", "1", "--json", "-"]
    cmd += ["--steps", str(args.teacher_steps), "--samples", args.samples]
    if args.data:
        cmd += ["--data", args.data]
    if not augment:
        cmd.append("--no-augment")
    r = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=ROOT)
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    rep = json.loads(r.stdout)
    row = rep["models"][0]
    return row["samplesPerSecond"][0], row["samples"], rep


def main():
    benchvenv.ensure(VENV, PINS)
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kdc", default=os.path.join(ROOT, ".build", "release", "kdc"))
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="Keras threads")
    ap.add_argument("--keras-spe", default="32", help="steps_per_execution values, comma-separated")
    ap.add_argument("--teacher-steps", type=int, default=160, help="batches per teacher pass")
    ap.add_argument("--only", nargs="*", default=None, choices=MODELS)
    ap.add_argument("--data", default=None, help="MNIST folder (default: the configs' data.dir)")
    ap.add_argument("--samples", default=os.path.join(ROOT, "samples", "mnist"))
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    if not os.access(a.kdc, os.X_OK):
        raise SystemExit(f"{a.kdc}: no kdc binary; build it with `swift build -c release`")
    if a.rounds < 1 or a.threads < 1 or a.teacher_steps < 1:
        raise SystemExit("--rounds, --threads and --teacher-steps must be at least 1")
    spes = [int(v) for v in a.keras_spe.split(",")]
    models = a.only or MODELS

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    import keras

    # The configs' data.dir is ../../../shared/data/mnist from samples/mnist: /work/shared for a
    # checkout at /work/main; a worktree one level deeper finds it one level up.
    mnist = a.data
    for up in (["..", ".."], [".."]):
        if mnist is None and os.path.isdir(os.path.join(ROOT, *up, "shared", "data", "mnist")):
            mnist = os.path.realpath(os.path.join(ROOT, *up, "shared", "data", "mnist"))
    if mnist is None:
        raise SystemExit("MNIST not found next to the checkout; pass --data DIR")
    a.data = mnist
    try:
        images = read_idx(os.path.join(mnist, "train-images-idx3-ubyte.gz"), np)
        labels = read_idx(os.path.join(mnist, "train-labels-idx1-ubyte.gz"), np)
    except OSError as e:
        raise SystemExit(f"MNIST could not be read from {mnist} ({e}); pass --data DIR")
    x_all = (images.astype(np.float32) / 255.0).reshape(-1, 28, 28, 1)
    y_all = labels.astype(np.int32)

    onednn = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "default (on for x86-64 Linux)")
    print(
        f"TensorFlow {tf.__version__}, Keras {keras.__version__}, oneDNN opts {onednn}; "
        f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads()}, "
        f"inter-op {tf.config.threading.get_inter_op_parallelism_threads()}; "
        f"{os.cpu_count()} cores"
    )

    def compiled(name, spe):
        m = keras_model(keras, name)
        m.compile(
            optimizer=keras.optimizers.Adam(LEARNING_RATE[name]),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            metrics=["accuracy"],
            steps_per_execution=spe,
        )
        return m

    def keras_pass(m, n):
        t0 = time.perf_counter()
        m.fit(x_all[:n], y_all[:n], batch_size=128, epochs=1, shuffle=True, verbose=0)
        return n / (time.perf_counter() - t0)

    kdc_info = None
    rates = {m: {} for m in models}
    keras_models = {}
    for rnd in range(a.rounds):
        for name in models:
            r = rates[name]
            variants = [True, False] if name in TEACHERS else [False]
            for aug in variants:
                v, n, kdc_info = run_kdc(a.kdc, name, a, aug)
                r.setdefault("kdc, shifts" if aug else "kdc", []).append(v)
            for spe in spes:
                if (name, spe) not in keras_models:
                    m = compiled(name, spe)
                    keras_pass(m, n)  # warm-up: traces the step function
                    keras_models[(name, spe)] = m
                r.setdefault(f"keras spe={spe}", []).append(
                    keras_pass(keras_models[(name, spe)], n)
                )
            r["samples"] = n
        print(f"round {rnd + 1}/{a.rounds} done", file=sys.stderr)

    print(f"kdc: {kdc_info['threading']}")
    print(f"Keras: {a.threads} intra-op threads; no augmentation; constant learning rate")
    print(f"samples/s, median of {a.rounds} interleaved rounds, batch 128, Adam\n")
    cols = ["kdc, shifts", "kdc"] + [f"keras spe={s}" for s in spes]
    head = f"{'model':<12} {'samples':>7} " + " ".join(f"{c:>14}" for c in cols)
    head += "   " + "  ".join(f"kdc / keras spe={s}" for s in spes)
    print(head)
    out = []
    for name in models:
        r = rates[name]
        med = {c: statistics.median(r[c]) for c in cols if c in r}
        cells = " ".join(f"{med[c]:>14,.0f}" if c in med else f"{'—':>14}" for c in cols)
        ratios = [med["kdc"] / med[f"keras spe={s}"] for s in spes]
        print(
            f"{name:<12} {r['samples']:>7} {cells}   " + "  ".join(f"{x:>17.2f}x" for x in ratios)
        )
        out.append(
            {
                "model": name,
                "samples": r["samples"],
                "median": med,
                "runs": {c: r[c] for c in cols if c in r},
                "ratio": {f"keras spe={s}": x for s, x in zip(spes, ratios)},
            }
        )
    if a.json:
        with open(a.json, "w") as f:
            json.dump(
                {
                    "tensorflow": tf.__version__,
                    "keras": keras.__version__,
                    "keras_threads": a.threads,
                    "kdc_threading": kdc_info["threading"],
                    "rounds": a.rounds,
                    "models": out,
                },
                f,
                indent=2,
            )


if __name__ == "__main__":
    main()
