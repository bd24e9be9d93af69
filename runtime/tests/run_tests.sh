#!/bin/sh
# Called by `make test` from runtime/. Builds and runs the tests (plain gcc, gcc ASan+UBSan,
# clang, clang ASan+UBSan, gcc with -DKDC_KERNELS_REFERENCE: the reference kernels as the seam,
# and gcc and clang with -DKDC_TFLITE=0 -DKDC_STAGE=0: kdc's arithmetic only, no input stage, at
# -O0, which also shows the TFLite calls gone without optimization: they would not link), the avx2
# variant where the CPU has AVX2 (-mavx2: gcc, gcc -O0 KDC_TFLITE=0, gcc ASan+UBSan), sums the
# results and prints
# "N passed, M failed". Every build has the reference kernels under their own names
# (-DKDC_WITH_REFERENCE) to compare the compiled variant with.
P=0; F=0
TESTS="tests/test_kdc.c tests/test_variants.c"
run() { # name, binary
    out=$("$2" 2>&1); rc=$?
    echo "$out" | grep -v '^FAIL' | tail -n 5 | sed "s/^/[$1] /"
    echo "$out" | grep '^FAIL' | sed "s/^/[$1] /"
    line=$(echo "$out" | tail -n 1)
    p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p')
    f=$(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p')
    if [ -z "$p" ]; then
        echo "$out" | tail -n 15; echo "[$1] crashed: no summary line (rc=$rc)"; F=$((F + 1)); p=0; f=0
    elif [ $rc -ne 0 ] && [ "$f" = 0 ]; then
        echo "[$1] exit status $rc with no failed test"; F=$((F + 1))
    fi
    P=$((P + p)); F=$((F + f))
}
build() { # name, compiler, extra flags...
    name=$1; cc=$2; shift 2
    if $cc $WARN "$@" -DKDC_WITH_REFERENCE -Iinclude -Isrc -Itests -o tests/test_kdc_$name $SRC $TESTS -lm; then
        P=$((P + 1)); return 0
    fi
    echo "[$name] build failed"; F=$((F + 1)); return 1
}
build gcc "${CC:-cc}" -O2 && run gcc ./tests/test_kdc_gcc
build ref "${CC:-cc}" -O2 -DKDC_KERNELS_REFERENCE && run ref ./tests/test_kdc_ref
build kdc "${CC:-cc}" -O0 -DKDC_TFLITE=0 -DKDC_STAGE=0 && run kdc ./tests/test_kdc_kdc
if echo 'int main(void){return 0;}' | ${CC:-cc} -fsanitize=address,undefined -x c - -o /tmp/kdc_san_probe.$$ 2>/dev/null; then
    rm -f /tmp/kdc_san_probe.$$
    build san "${CC:-cc}" -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
        && run san ./tests/test_kdc_san
else
    echo "[san] sanitizers unavailable: skipped"
fi
# The avx2 variant (src/kdc_kernels_avx2.c, chosen by __AVX2__): built with -mavx2 wherever the
# compiler has it; run only on a CPU with AVX2 (else said skipped): gcc -O2, gcc -O0 with
# KDC_TFLITE=0, and under ASan+UBSan.
if echo 'int main(void){__builtin_cpu_init();return !__builtin_cpu_supports("avx2");}' |
    ${CC:-cc} -x c - -o /tmp/kdc_avx2_probe.$$ 2>/dev/null; then
    if /tmp/kdc_avx2_probe.$$; then
        build avx2 "${CC:-cc}" -O2 -mavx2 -mfma && run avx2 ./tests/test_kdc_avx2
        build avx2kdc "${CC:-cc}" -O0 -mavx2 -DKDC_TFLITE=0 && run avx2kdc ./tests/test_kdc_avx2kdc
        if echo 'int main(void){return 0;}' | ${CC:-cc} -fsanitize=address,undefined -x c - -o /tmp/kdc_san_probe.$$ 2>/dev/null; then
            build avx2san "${CC:-cc}" -O1 -g -mavx2 -mfma -fsanitize=address,undefined -fno-sanitize-recover=all \
                -fno-omit-frame-pointer && run avx2san ./tests/test_kdc_avx2san
        else
            echo "[avx2san] sanitizers unavailable: skipped"
        fi
    else
        if ${CC:-cc} $WARN -O2 -mavx2 -fsyntax-only -Iinclude $SRC; then P=$((P + 1)); else echo "[avx2] warnings"; F=$((F + 1)); fi
        echo "[avx2] this CPU has no AVX2: the avx2 variant compiled, not run (skipped)"
    fi
else
    echo "[avx2] the compiler cannot build the CPU probe: skipped"
fi
rm -f /tmp/kdc_avx2_probe.$$ /tmp/kdc_san_probe.$$
if [ -x "$CLANG" ] || command -v "$CLANG" >/dev/null 2>&1; then
    for t in 1 0; do
        if $CLANG $WARN -O2 -fsyntax-only -DKDC_TFLITE=$t -DKDC_STAGE=$t -Iinclude $SRC; then P=$((P + 1)); else echo "[clang] warnings"; F=$((F + 1)); fi
    done
    build clang "$CLANG" -O2 && run clang ./tests/test_kdc_clang
    build clangkdc "$CLANG" -O0 -DKDC_TFLITE=0 -DKDC_STAGE=0 && run clangkdc ./tests/test_kdc_clangkdc
    # clang's UBSan also checks array bounds gcc's does not (e.g. a pointer formed past a stack array)
    if echo 'int main(void){return 0;}' | $CLANG -fsanitize=address,undefined -x c - -o /tmp/kdc_csan_probe.$$ 2>/dev/null; then
        rm -f /tmp/kdc_csan_probe.$$
        lld=""; command -v ld.lld >/dev/null 2>&1 && echo 'int main(void){return 0;}' |
            $CLANG -fuse-ld=lld -x c - -o /tmp/kdc_csan_probe.$$ 2>/dev/null && lld=-fuse-ld=lld
        rm -f /tmp/kdc_csan_probe.$$
        build clangsan "$CLANG" $lld -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer \
            && run clangsan ./tests/test_kdc_clangsan
    else
        echo "[clangsan] sanitizers unavailable: skipped"
    fi
else
    echo "[clang] not found: skipped"
fi
echo "$P passed, $F failed"
[ "$F" -eq 0 ]
