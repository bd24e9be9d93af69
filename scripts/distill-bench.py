#!/usr/bin/env python3
"""Shipped student vs hard-label baseline, mean of three seeds, on the samples and Fashion-MNIST.

For each case it runs `kdc distill CONFIG --seeds 0,1,2` (teacher trained with seed 0, T and α
chosen on the validation split with seed 0, then the distilled and baseline students of every
seed and the student the ship policy picks for each) and prints one Markdown table row from
the reports it wrote. Heavy: a benchmark, not a test (about an hour on 2 cores).

    python3 scripts/distill-bench.py [--kdc .build/release/kdc] [--out out/distill-bench] [--only NAME ...]

Fashion-MNIST comes from Debian's dataset-fashion-mnist package (MIT, Zalando SE), installed
into /usr/share/datasets/fashion-mnist with `apt-get install dataset-fashion-mnist`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

FASHION = "/usr/share/datasets/fashion-mnist"
CASES = [
    ("digits", "digits (sklearn)", "samples/digits/config.yaml", None),
    ("mnist-mlp", "MNIST, MLP", "samples/mnist/config.yaml", None),
    ("fashion-mlp", "Fashion-MNIST, MLP", "samples/mnist/config.yaml", FASHION),
    ("fashion-cnn", "Fashion-MNIST, CNN", "samples/mnist/cnn.yaml", FASHION),
    ("mnist-cnn", "MNIST, CNN", "samples/mnist/cnn.yaml", None),
]


def cell(xs):
    m = statistics.mean(xs) * 100
    sd = statistics.stdev(xs) * 100 if len(xs) > 1 else 0.0
    return f"{m:.2f}% ± {sd:.2f}"


def fmt(x):
    return f"{x:g}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kdc", default=".build/release/kdc")
    ap.add_argument("--out", default="out/distill-bench")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--only", nargs="*", help="case names: " + ", ".join(c[0] for c in CASES))
    ap.add_argument(
        "--table-only", action="store_true", help="print the table from earlier runs' reports"
    )
    args = ap.parse_args()
    print(
        "| data | teacher | baseline | distilled | shipped (models per seed) | T, α chosen (seed 0) | search epochs | minutes |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, label, config, data in CASES:
        if args.only and name not in args.only:
            continue
        out = os.path.join(args.out, name)
        cmd = [args.kdc, "distill", config, "--seeds", args.seeds, "--out", out, "--quiet"]
        if data:
            if not os.path.isdir(data):
                print(
                    f"| {label} | skipped: {data} missing (apt-get install dataset-fashion-mnist) |||||||"
                )
                continue
            cmd += ["--data", data]
        minutes = "—"
        if args.table_only and os.path.exists(out + ".minutes"):
            with open(out + ".minutes") as f:
                minutes = f.read().strip()
        if not args.table_only:
            start = time.time()
            os.makedirs(out, exist_ok=True)
            with open(out + ".log", "w") as log:
                rc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode
            minutes = f"{(time.time() - start) / 60:.1f}"
            with open(out + ".minutes", "w") as f:
                f.write(minutes + "\n")
            if rc != 0:
                print(f"| {label} | failed (exit {rc}), see {out}.log |||||||")
                continue
        with open(os.path.join(out, "seed-study.json")) as f:
            study = json.load(f)
        with open(os.path.join(out, "distill-report.json")) as f:
            report = json.load(f)
        d = report["distill"]
        search = d.get("search") or {}
        ships = ", ".join(study["shipped_models"])
        teacher = study.get("teacher_accuracy")
        print(
            f"| {label} | {teacher * 100:.2f}% | {cell(study['baseline'])} | {cell(study['distilled'])} | "
            f"{cell(study['shipped'])} ({ships}) | T {fmt(d['temperature'])}, α {fmt(d['alpha'])} | "
            f"{search.get('used_epochs', '—')} | {minutes} |"
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
