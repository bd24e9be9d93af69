#!/bin/sh
# The C tests (tests/test_kdc.c, tests/test_variants.c: golden kernels, whole artifacts, the
# compiled kernel variant against the reference on random cases) built for a Cortex-M board and
# run under QEMU with semihosting. Called by `make qemu-test` from runtime/:
#   sh tests/qemu/run.sh BOARD [CFLAGS...]     BOARD: cortex-m4, cortex-m7, cortex-m33, cortex-m55, ...
# Compiler, flags and QEMU machine from samples/firmware/boards/BOARD/board.mk (with -O2 for the
# tests; the runtime at the board's -Os). Prints the tests' "N passed, M failed"; exits non-zero
# on a failure, a crash or a missing toolchain.
set -e
B=$1; shift
FW=../samples/firmware
MK=$FW/boards/$B/board.mk
[ -f "$MK" ] || { echo "qemu-test: no board $B ($FW/boards)"; exit 2; }
get() { sed -n "s/^$1 :\?= //p" "$MK"; }
CC="$(get CROSS)gcc"; QEMU=$(get QEMU); QARGS=$(get QEMU_ARGS)
CPU=$(get CFLAGS | grep -o -- '-mcpu=[^ ]*'); FPU=$(get CFLAGS | grep -o -- '-mfloat-abi=[^ ]*' || true)
command -v "$CC" >/dev/null || { echo "qemu-test: no $CC"; exit 2; }
command -v "$QEMU" >/dev/null || { echo "qemu-test: no $QEMU"; exit 2; }
O=tests/qemu/build-$B
mkdir -p "$O"
F="$CPU -mthumb $FPU -std=c99 -Wall -Wextra -Werror -pedantic -ffunction-sections -fdata-sections"
for f in src/*.c; do
    $CC $F -Os "$@" -DKDC_WITH_REFERENCE -Iinclude -c "$f" -o "$O/$(basename "$f" .c).o"
done
$CC $F -O2 "$@" -DKDC_WITH_REFERENCE -Dmain=kdc_test_main -Iinclude -Isrc -Itests -c tests/test_kdc.c -o "$O/test_kdc.o"
$CC $F -O2 "$@" -DKDC_WITH_REFERENCE -Iinclude -Isrc -Itests -c tests/test_variants.c -o "$O/test_variants.o"
$CC $F -O2 -c tests/qemu/main.c -o "$O/main.o"
$CC $F -O2 -I$FW -c $FW/startup.c -o "$O/startup.o"
# tests/qemu/BOARD/memory.ld, if there, replaces the board's memory map (more RAM for the tests)
$CC $CPU -mthumb $FPU --specs=nano.specs --specs=rdimon.specs -u _printf_float -nostartfiles -Wl,--gc-sections \
    -L "tests/qemu/$B" -L "$FW/boards/$B" -T tests/qemu/link.ld -o "$O/test_kdc.elf" "$O"/*.o -lm
# shellcheck disable=SC2086
timeout 600 $QEMU $QARGS -semihosting -kernel "$O/test_kdc.elf" > "$O/log.txt" 2>&1 && rc=0 || rc=$?
grep -v '^FAIL' "$O/log.txt" | tail -n 3 | sed "s/^/[qemu $B] /"
grep '^FAIL' "$O/log.txt" | sed "s/^/[qemu $B] /" || true
tail -n 1 "$O/log.txt" | grep -q '^[0-9]* passed, 0 failed$' && [ $rc -eq 0 ] && exit 0
echo "[qemu $B] failed (exit status $rc; log $O/log.txt)"
exit 1
