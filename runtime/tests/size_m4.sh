#!/bin/sh
# Cortex-M4 (-Os, Thumb-2) code size of the runtime, per function and total.
# Uses arm-none-eabi-gcc if present, else clang --target=thumbv7em-none-eabi
# with a stub <string.h>. Called by `make size` from runtime/.
set -e
T=$(mktemp -d)
printf '#include <stddef.h>\nvoid *memcpy(void *, const void *, size_t);\nvoid *memmove(void *, const void *, size_t);\nvoid *memset(void *, int, size_t);\nint memcmp(const void *, const void *, size_t);\n' > $T/string.h
if command -v arm-none-eabi-gcc >/dev/null 2>&1; then
    CCM4="arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16"
else
    CLANG=${CLANG:-clang}
    command -v "$CLANG" >/dev/null 2>&1 || CLANG=/opt/swift/usr/bin/clang
    CCM4="$CLANG --target=thumbv7em-none-eabi -mcpu=cortex-m4 -mfloat-abi=hard -mfpu=fpv4-sp-d16 -I$T"
fi
echo "compiler: $CCM4"
for f in src/*.c; do
    $CCM4 -ffreestanding -std=c99 -Wall -Wextra -Werror -pedantic -Os -ffunction-sections \
        -fdata-sections -Iinclude -c "$f" -o "$T/$(basename "$f" .c).o"
done
python3 - "$T"/*.o <<'PY'
import os, struct, sys
text = ro = 0
for f in sys.argv[1:]:
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
    print(f'  {os.path.basename(f)[:-2] + ".c":28s} .text {t:5d}  .rodata {r:4d}')
    text, ro = text + t, ro + r
print(f'.text {text} bytes, .rodata {ro} bytes, total {text + ro} bytes (budget: .text <= 8192)')
PY
rm -rf "$T"
