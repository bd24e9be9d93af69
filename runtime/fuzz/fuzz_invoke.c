/* fuzz_invoke.c - libFuzzer target 3: load then invoke on arbitrary bytes.
 * The header CRC is re-sealed; a compressed artifact is unpacked (with the
 * body CRC re-sealed in a copy if only the CRC is wrong); then kdc_init with
 * KDC_INIT_SKIP_CRC, an exact-size arena (capped at FUZZ_ARENA_CAP), and
 * kdc_invoke twice (input from the artifact's bytes, then all -128). */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *a = fz_dup(data, size);
    kdc_info info;
    fz_reseal(a, size);
    if (kdc_query(a, size, &info) == KDC_OK && (info.flags & KDC_FLAG_COMPRESSED)) {
        uint8_t *dst;
        size_t w = 0;
        kdc_status st;
        if (info.unpack_bytes > FUZZ_UNPACK_CAP) goto done;
        dst = (uint8_t *)malloc(info.unpack_bytes);
        if (!dst) abort();
        st = kdc_unpack(a, size, dst, info.unpack_bytes, &w);
        if (st == KDC_ERR_BODY_CRC && size >= info.total_bytes) {
            /* let structural mutations of the compressed body through: fix the CRC */
            uint32_t c = kdc_crc32(0, dst + KDC_HEADER_BYTES, info.raw_body_bytes);
            uint8_t *crc = a + KDC__HDR_BODY_CRC;
            crc[0] = (uint8_t)c, crc[1] = (uint8_t)(c >> 8), crc[2] = (uint8_t)(c >> 16),
            crc[3] = (uint8_t)(c >> 24);
            fz_reseal(a, size);
            st = kdc_unpack(a, size, dst, info.unpack_bytes, &w);
            FUZZ_ASSERT(st == KDC_OK);
        }
        if (st == KDC_OK) {
            FUZZ_ASSERT(w == info.unpack_bytes);
            (void)fz_init_invoke(dst, w, KDC_INIT_SKIP_CRC, 1, data, size);
        }
        free(dst);
    } else {
        (void)fz_init_invoke(a, size, KDC_INIT_SKIP_CRC, 1, data, size);
    }
done:
    free(a);
    return 0;
}
