/* fuzz_load.c - libFuzzer target 1: artifact loading and validation.
 * Any bytes through kdc_query and kdc_init, with and without the body CRC,
 * as given (the header CRC usually fails) and with the header CRC re-sealed
 * (so mutations reach the body checks); misaligned copy; one byte short. */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *a = fz_dup(data, size), *u;
    kdc_info info;
    kdc_status st, st0, st1;
    unsigned flags;
    st = kdc_query(a, size, &info);
    FUZZ_ASSERT((unsigned)st < KDC_STATUS_COUNT);
    for (flags = 0; flags < 2; flags++) (void)fz_init_invoke(a, size, flags, 0, NULL, 0);
    fz_reseal(a, size);
    st0 = fz_init_invoke(a, size, 0, 0, NULL, 0);
    st1 = fz_init_invoke(a, size, KDC_INIT_SKIP_CRC, 0, NULL, 0);
    /* skipping the CRC changes nothing but the CRC check */
    FUZZ_ASSERT(st0 == st1 || st0 == KDC_ERR_BODY_CRC);
    if (st1 == KDC_OK) {
        kdc_model m;
        kdc_query(a, size, &info);
        /* the body must be all there: one byte short is truncated */
        FUZZ_ASSERT(kdc_init(&m, a, info.total_bytes - 1, NULL, 0, KDC_INIT_SKIP_CRC) ==
                    KDC_ERR_TRUNCATED);
    }
    /* misaligned artifact (header valid or not) */
    u = (uint8_t *)malloc(size + 1);
    if (!u) abort();
    if (size) memcpy(u + 1, a, size);
    st = kdc_init(&(kdc_model){0}, u + 1, size, NULL, 0, KDC_INIT_SKIP_CRC);
    FUZZ_ASSERT(st == KDC_ERR_ALIGN);
    free(u);
    free(a);
    return 0;
}
