#!/bin/sh
# Cortex-M4 (-Os, Thumb-2) code size of the runtime, per file and total, built twice: with both
# arithmetics and the input stage (KDC_TFLITE=1 KDC_STAGE=1, the defaults) and with kdc's
# arithmetic only and no input stage (KDC_TFLITE=0 KDC_STAGE=0, what kdc's firmware uses for a
# kdc-mode model without an audio front end or sensor normalization); both with the kernels a Cortex-M4 gets by default, the "dsp" variant
# (kdc_kernels_dsp.c, __ARM_FEATURE_DSP). Then the totals again with the portable kernels
# (-DKDC_KERNELS_PORTABLE): the runtime without the DSP kernels; and with the reference kernels
# only (-DKDC_KERNELS_REFERENCE). Last the Cortex-M55 (-mcpu=cortex-m55 -mfloat-abi=softfp, as its
# board builds it), whose default is the "mve" variant (kdc_kernels_mve.c, __ARM_FEATURE_MVE).
# Uses arm-none-eabi-gcc if present, else clang --target=thumbv7em-none-eabi (thumbv8.1m.main for
# the M55) with a stub <string.h>. Called by `make size` from runtime/.
set -e
T=$(mktemp -d)
printf '#include <stddef.h>\nvoid *memcpy(void *, const void *, size_t);\nvoid *memmove(void *, const void *, size_t);\nvoid *memset(void *, int, size_t);\nint memcmp(const void *, const void *, size_t);\n' > $T/string.h
if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    CCM4="arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
    CCM55="arm-none-eabi-gcc -mcpu=cortex-m55 -mthumb -mfloat-abi=softfp"
else
    CLANG=${CLANG:-clang}
    command -v "$CLANG" >/dev/null 2>&1 || CLANG=/opt/swift/usr/bin/clang
    CCM4="$CLANG --target=thumbv7em-none-eabi -mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16 -I$T"
    CCM55="$CLANG --target=thumbv8.1m.main-none-eabi -mcpu=cortex-m55 -mfloat-abi=softfp -I$T"
fi
echo "compiler: $CCM4; $CCM55"
for t in 1 0 p1 p0 r1 v1 v0 vr1; do
    mkdir -p "$T/tflite$t"
    case $t in p*) v=-DKDC_KERNELS_PORTABLE ;; *r*) v=-DKDC_KERNELS_REFERENCE ;; *) v= ;; esac
    case $t in v*) CC=$CCM55 ;; *) CC=$CCM4 ;; esac
    for f in src/*.c; do
        $CC -ffreestanding -std=c99 -Wall -Wextra -Werror -pedantic -Os -ffunction-sections \
            -fdata-sections -DKDC_TFLITE=${t##*[prv]} -DKDC_STAGE=${t##*[prv]} $v -Iinclude -c "$f" -o "$T/tflite$t/$(basename "$f" .c).o"
    done
done
python3 - "$T" <<'PY'
import os, struct, sys

def sizes(f):
    d = open(f, 'rb').read()
    shoff = struct.unpack_from('<I', d, 0x20)[0]
    es, n, si = struct.unpack_from('<HHH', d, 0x2e)
    secs = [struct.unpack_from('<10I', d, shoff + i * es) for i in range(n)]
    def name(o):
        s = d[secs[si][4] + o:]
        return s[:s.index(b'\0')].decode()
    t = r = 0
    for s in secs:
        nm = name(s[0])
        if nm.startswith('.text'): t += s[5]
        if nm.startswith('.rodata'): r += s[5]
    return t, r

T = sys.argv[1]
files = sorted(os.listdir(T + '/tflite1'))
total = {1: [0, 0], 0: [0, 0], 'p1': [0, 0], 'p0': [0, 0], 'r1': [0, 0], 'v1': [0, 0], 'v0': [0, 0], 'vr1': [0, 0]}
print(f'  {"":28s} {"TFLITE=1 STAGE=1":>21s}   {"TFLITE=0 STAGE=0":>21s}')
for f in files:
    row = ''
    for t in (1, 0):
        x, r = sizes(f'{T}/tflite{t}/{f}')
        total[t][0] += x
        total[t][1] += r
        row += f'   .text {x:5d} .rodata {r:4d}'
    print(f'  {f[:-2] + ".c":28s}{row}')
for f in files:
    for t in ('p1', 'p0', 'r1', 'v1', 'v0', 'vr1'):
        x, r = sizes(f'{T}/tflite{t}/{f}')
        total[t][0] += x
        total[t][1] += r
for t, what in ((1, 'dsp kernels, both arithmetics, input stage (KDC_TFLITE=1 KDC_STAGE=1, default)'),
                (0, "dsp kernels, kdc's only, no input stage (KDC_TFLITE=0 KDC_STAGE=0)"),
                ('p1', 'portable kernels (-DKDC_KERNELS_PORTABLE), both arithmetics, input stage'),
                ('p0', "portable kernels (-DKDC_KERNELS_PORTABLE), kdc's only, no input stage"),
                ('r1', 'reference kernels only (-DKDC_KERNELS_REFERENCE), both arithmetics, input stage'),
                ('v1', 'Cortex-M55, mve kernels, both arithmetics, input stage'),
                ('v0', "Cortex-M55, mve kernels, kdc's only, no input stage"),
                ('vr1', 'Cortex-M55, reference kernels only, both arithmetics, input stage')):
    x, r = total[t]
    print(f'{what}: .text {x} bytes, .rodata {r} bytes, total {x + r} bytes')
print('budget: .text <= 8192')
PY
rm -rf "$T"
