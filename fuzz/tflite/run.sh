#!/bin/sh
# fuzz/tflite/run.sh - the TensorFlow Lite reader's libFuzzer target (fuzz/tflite/README.md).
# Run from the repository root (the Makefile does):
#   sh fuzz/tflite/run.sh fuzz SECONDS [RUNS]  build, then fuzz for SECONDS (and at most RUNS
#                                              executions if given), nice; a finding fails
#   sh fuzz/tflite/run.sh replay               every seed and saved input once, no fuzzing
#   sh fuzz/tflite/run.sh seeds                rewrite fuzz/tflite/seeds/ (gen_seeds.swift)
# Environment: SWIFTC (default swiftc), MLPERF (the MLPerf Tiny folder, default
# ../shared/models/mlperf-tiny): its six .tflite files are seeds too.
set -u
SWIFTC=${SWIFTC:-swiftc}
MLPERF=${MLPERF:-../shared/models/mlperf-tiny}
# The reader's, writer's and importer's own files and the IR they build, compiled into the fuzz
# program (the whole KDC module needs zlib, BLAS, ...); shim.swift has the one helper they use
# from elsewhere.
READER="Sources/KDC/Build/Errors.swift Sources/KDC/Import/FlatBuffer.swift Sources/KDC/Import/FlatBufferBuilder.swift
     Sources/KDC/Import/TFLiteModel.swift Sources/KDC/Import/TFLiteReader.swift Sources/KDC/Import/TFLiteWriter.swift"
SRC="$READER Sources/KDC/Import/TFLiteImport.swift Sources/KDC/IR/Graph.swift Sources/KDC/IR/InputStage.swift Sources/KDC/IR/Op.swift
     Sources/KDC/IR/ShapeInference.swift Sources/KDC/Quantize/FixedPoint.swift Sources/KDC/Quantize/TFLiteArithmetic.swift
     Sources/KDC/Tensor/Tensor.swift"
D=fuzz/tflite
mkdir -p $D/bin $D/work/corpus

build() {
    command -v "$SWIFTC" >/dev/null 2>&1 || { echo "fuzz-tflite: no swiftc: skipped"; exit 0; }
    $SWIFTC -sanitize=fuzzer,address -parse-as-library -O -g -module-name KDCFuzz $SRC $D/shim.swift $D/main.swift \
        -o $D/bin/fuzz_tflite 2>$D/bin/build.log ||
        { cat $D/bin/build.log; echo "fuzz-tflite: build failed"; exit 1; }
}

seeds() { # the committed small seeds and, if present, the six MLPerf Tiny files
    echo $D/seeds
    [ -d "$MLPERF" ] && echo "$MLPERF" || echo "fuzz-tflite: $MLPERF missing: fuzzing from the small seeds only" >&2
}

case "${1:-}" in
fuzz)
    secs=${2:-30}
    runs=${3:--1}
    build
    echo "fuzz-tflite: fuzz_tflite for ${secs}s"
    # New inputs go to the first folder only (work/corpus); -max_len 65536 keeps both keyword
    # spotting files whole (the larger ones are mutated in their first 64 KiB).
    nice -n 10 $D/bin/fuzz_tflite -max_total_time="$secs" -runs="$runs" -max_len=65536 -timeout=5 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix=$D/work/crash- $D/work/corpus $(seeds) >$D/work/fuzz.log 2>&1
    rc=$?
    grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec' $D/work/fuzz.log | sed 's/^/  /'
    if [ $rc -ne 0 ]; then tail -n 40 $D/work/fuzz.log; echo "fuzz-tflite: a finding (see $D/work/)"; exit 1; fi
    ;;
replay)
    build
    n=$(find $D/seeds $D/work/corpus $(seeds) -type f | wc -l)
    find $D/seeds $D/work/corpus $(seeds) -type f | xargs $D/bin/fuzz_tflite -runs=0 >$D/work/replay.log 2>&1 ||
        { tail -n 40 $D/work/replay.log; echo "fuzz-tflite: replay FAILED"; exit 1; }
    echo "fuzz-tflite: replay of $n inputs (ASan), no finding"
    ;;
seeds)
    # gen_seeds.swift has top-level code: renamed main.swift so swiftc takes it as the entry point.
    cp $D/gen_seeds.swift $D/bin/main.swift
    $SWIFTC -module-name KDCFuzz $READER $D/bin/main.swift -o $D/bin/gen_seeds || exit 1
    mkdir -p $D/seeds && $D/bin/gen_seeds $D/seeds && ls -l $D/seeds
    ;;
*) echo "usage: sh fuzz/tflite/run.sh fuzz SECONDS [RUNS] | replay | seeds"; exit 2 ;;
esac
