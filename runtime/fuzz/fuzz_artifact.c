/* fuzz_artifact.c - libFuzzer harness: any bytes through query, unpack, init
 * (with and without the body CRC) and invoke. Build and run:
 *   clang -std=c99 -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *         src/*.c fuzz/fuzz_artifact.c -o fuzz_artifact && ./fuzz_artifact -max_total_time=60
 * Seed corpus: the golden artifacts (`make -C runtime fuzz-corpus`). The header
 * CRC is recomputed for every input so mutations reach the structural checks. */
#include <stdint.h>
#include <string.h>

#include "kdc.h"

static uint32_t art[65536 / 4], unpacked[65536 / 4];
static uint8_t arena[65536];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *a = (const uint8_t *)art;
    size_t len = size;
    kdc_info info;
    kdc_model m;
    unsigned flags;
    if (size > sizeof art) return 0;
    memcpy(art, data, size);
    if (size >= KDC_HEADER_BYTES) { /* re-seal the header so mutations reach the body checks */
        uint32_t c = kdc_crc32(0, a, 28);
        uint8_t *h = (uint8_t *)art;
        h[28] = (uint8_t)c, h[29] = (uint8_t)(c >> 8), h[30] = (uint8_t)(c >> 16), h[31] = (uint8_t)(c >> 24);
    }
    if (kdc_query(a, len, &info) != KDC_OK) return 0;
    if (info.flags & KDC_FLAG_COMPRESSED) {
        if (kdc_unpack(a, len, (uint8_t *)unpacked, sizeof unpacked, &len) != KDC_OK) return 0;
        a = (const uint8_t *)unpacked;
    }
    for (flags = 0; flags < 2; flags++) {
        if (kdc_init(&m, a, len, arena, sizeof arena, flags ? KDC_INIT_SKIP_CRC : 0) == KDC_OK) {
            kdc_tensor in = kdc_input(&m);
            memset(in.data, 0x5a, in.size);
            kdc_invoke(&m);
            (void)kdc_argmax(kdc_output(&m).data, kdc_output(&m).size);
        }
    }
    return 0;
}
