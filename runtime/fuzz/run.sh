#!/bin/sh
# fuzz/run.sh - builds and runs the fuzz targets (called by the Makefile from runtime/).
#   sh fuzz/run.sh fuzz SECONDS   libFuzzer session of SECONDS per target (one at a time, nice)
#   sh fuzz/run.sh replay         every regression input, seed and generated corpus file through
#                                 every target, built without a fuzzing engine under ASan+UBSan
#                                 with $CC, with a clang (their UBSans check different things) and
#                                 with $CC -m32 if it has 32-bit sanitizer libraries
#   sh fuzz/run.sh probe          prints the clang that can link -fsanitize=fuzzer (or nothing)
# Environment: FUZZ_CC (a clang with libFuzzer; probed if unset), CC, CLANG, SRC.
set -u
TARGETS="load inflate invoke"
SRC=${SRC:-"$(echo src/*.c)"}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
FLAGS="-std=c99 -Wall -Wextra -Werror -g -O1 -Iinclude -Isrc"
mkdir -p fuzz/bin

probe() { # first compiler that links a libFuzzer program
    for c in ${FUZZ_CC:-} ${CLANG:-} clang /opt/swift/usr/bin/clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
        command -v "$c" >/dev/null 2>&1 || continue
        if printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n){(void)d;(void)n;return 0;}\n' |
            "$c" -fsanitize=fuzzer,address,undefined -x c - -o fuzz/bin/.probe 2>/dev/null; then
            rm -f fuzz/bin/.probe; echo "$c"; return 0
        fi
    done
    return 1
}

inputs() { # regression inputs, committed seeds, generated corpus (if any)
    ls tests/regress/*.bin fuzz/seeds/* 2>/dev/null
    [ -d fuzz/corpus ] && find fuzz/corpus -type f | sort
}

lld() { # -fuse-ld=lld if $1 can use it (keeps gold's "cannot export local symbol" noise away)
    command -v ld.lld >/dev/null 2>&1 || return 0
    echo 'int main(void){return 0;}' | "$1" -fuse-ld=lld -x c - -o fuzz/bin/.lld 2>/dev/null && echo "-fuse-ld=lld"
    rm -f fuzz/bin/.lld
}

corpus() { # generate fuzz/corpus if missing (needs python3)
    [ -d fuzz/corpus ] || { command -v python3 >/dev/null && python3 fuzz/gen_corpus.py fuzz/corpus >/dev/null; }
}

case "${1:-}" in
probe) probe ;;
fuzz)
    secs=${2:-60}
    cc=$(probe) || { echo "fuzz: no clang with libFuzzer found (Debian: apt-get install clang-14 libclang-rt-14-dev): skipped"; exit 0; }
    corpus
    ld=$(lld "$cc")
    for t in $TARGETS; do
        $cc $FLAGS $ld -fsanitize=fuzzer $SAN $SRC fuzz/fuzz_$t.c -o fuzz/bin/fuzz_$t 2>fuzz/bin/build_$t.log ||
            { cat fuzz/bin/build_$t.log; echo "fuzz: build of fuzz_$t failed"; exit 1; }
        mkdir -p fuzz/work/$t
        echo "fuzz: fuzz_$t ($cc) for ${secs}s"
        # new inputs go to the first directory only (fuzz/work/<target>)
        nice -n 10 ./fuzz/bin/fuzz_$t -max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix=fuzz/work/crash_$t- fuzz/work/$t fuzz/seeds tests/regress $( [ -d fuzz/corpus ] && echo fuzz/corpus ) \
            >fuzz/work/$t.log 2>&1
        rc=$?
        grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units' fuzz/work/$t.log | sed "s/^/  [$t] /"
        if [ $rc -ne 0 ]; then tail -n 40 fuzz/work/$t.log; echo "fuzz: fuzz_$t found a problem (see fuzz/work/)"; exit 1; fi
    done
    ;;
replay)
    ccs=""
    for c in "${CC:-cc}" "$(probe)" ${CLANG:-}; do
        [ -n "$c" ] || continue
        echo 'int main(void){return 0;}' | $c $SAN -x c - -o fuzz/bin/.probe 2>/dev/null || continue
        case " $ccs " in *" $c "*) ;; *) ccs="$ccs $c" ;; esac
        [ "$(echo $ccs | wc -w)" -ge 2 ] && break
    done
    # and a 32-bit build (size_t as on the device) if $CC has multilib sanitizers
    m32=""
    echo 'int main(void){return 0;}' | ${CC:-cc} -m32 $SAN -x c - -o fuzz/bin/.probe 2>/dev/null && m32=m32
    rm -f fuzz/bin/.probe
    [ -n "$ccs" ] || { echo "fuzz-replay: no compiler with ASan/UBSan: skipped"; exit 0; }
    corpus
    n=$(inputs | wc -l)
    for cc in $ccs $m32; do
        [ "$cc" = m32 ] && cc="${CC:-cc} -m32"
        for t in $TARGETS; do
            $cc $FLAGS $(lld "$cc") $SAN "-DFUZZ_ARENA_CAP=((size_t)1 << 25)" $SRC fuzz/fuzz_$t.c fuzz/replay.c -o fuzz/bin/replay_$t ||
                { echo "fuzz-replay: build failed"; exit 1; }
            inputs | ASAN_OPTIONS=detect_leaks=1 xargs -r ./fuzz/bin/replay_$t >/dev/null ||
                { echo "fuzz-replay: replay_$t ($cc) FAILED (REPLAY_VERBOSE=1 names each input)"; exit 1; }
            echo "fuzz-replay: replay_$t ($cc, ASan+UBSan): $n inputs, no finding"
        done
    done
    ;;
*) echo "usage: sh fuzz/run.sh fuzz SECONDS | replay | probe"; exit 2 ;;
esac
