/* fuzz_inflate.c - libFuzzer target 2: inflate.
 * Input starting with "KDCM": a compressed artifact (header CRC re-sealed)
 * through kdc_unpack with destinations of unpack_bytes - 3 .. + 2 bytes.
 * Anything else: a zlib stream through kdc_zlib_uncompress, first into a
 * large buffer, then into exact-size heap buffers of every size near the
 * right one (n - 3 .. n + 2, and 0), which must agree with the first run. */
#include "fuzz_common.h"

#define BIG ((size_t)1 << 20)

static void unpack_case(const uint8_t *data, size_t size)
{
    uint8_t *a = fz_dup(data, size);
    kdc_info info;
    size_t want = 0, d;
    fz_reseal(a, size);
    if (kdc_query(a, size, &info) != KDC_OK || !(info.flags & KDC_FLAG_COMPRESSED) ||
        info.unpack_bytes > FUZZ_UNPACK_CAP) {
        free(a);
        return;
    }
    for (d = 0; d < 6; d++) {
        size_t dl = info.unpack_bytes + d >= 3 ? info.unpack_bytes + d - 3 : 0, w = 0;
        uint8_t *dst = (uint8_t *)malloc(dl ? dl : 1);
        kdc_status st;
        if (!dst) abort();
        st = kdc_unpack(a, size, dst, dl, &w);
        FUZZ_ASSERT((unsigned)st < KDC_STATUS_COUNT);
        if (size < info.total_bytes)
            FUZZ_ASSERT(st == KDC_ERR_TRUNCATED); /* checked first */
        else if (dl < info.unpack_bytes)
            FUZZ_ASSERT(st == KDC_ERR_DST_TOO_SMALL);
        if (st == KDC_OK) {
            kdc_info u;
            FUZZ_ASSERT(w == info.unpack_bytes && (want == 0 || want == w));
            want = w;
            /* the result is a stored artifact with a valid header and the other flags kept */
            FUZZ_ASSERT(kdc_query(dst, w, &u) == KDC_OK &&
                        u.flags == (info.flags & ~KDC_FLAG_COMPRESSED) && u.total_bytes == w);
        }
        free(dst);
    }
    free(a);
}

static uint32_t adler32(const uint8_t *p, size_t n)
{
    uint32_t a = 1, b = 0;
    size_t i;
    for (i = 0; i < n; i++) a = (a + p[i]) % 65521u, b = (b + a) % 65521u;
    return b << 16 | a;
}

static void zlib_case(const uint8_t *data, size_t size)
{
    uint8_t *src = fz_dup(data, size), *ref = (uint8_t *)malloc(BIG);
    size_t n = BIG, d;
    kdc_status st0;
    if (!ref) abort();
    st0 = kdc_zlib_uncompress(ref, &n, src, size);
    FUZZ_ASSERT((unsigned)st0 < KDC_STATUS_COUNT);
    if (st0 == KDC_ERR_ADLER32) {
        /* the stream decodes but the trailer is wrong (the usual result of a
         * mutation): find its length (destinations below it are too small),
         * fix the trailer and go on as for a valid stream */
        size_t lo = 0, hi = BIG; /* answer in [lo, hi] */
        uint32_t a;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2, got = mid;
            kdc_status st = kdc_zlib_uncompress(ref, &got, src, size);
            FUZZ_ASSERT(st == KDC_ERR_ADLER32 || st == KDC_ERR_DST_TOO_SMALL);
            if (st == KDC_ERR_DST_TOO_SMALL)
                lo = mid + 1;
            else
                hi = mid;
        }
        n = lo;
        a = adler32(ref, n);
        src[size - 4] = (uint8_t)(a >> 24), src[size - 3] = (uint8_t)(a >> 16);
        src[size - 2] = (uint8_t)(a >> 8), src[size - 1] = (uint8_t)a;
        d = n;
        st0 = kdc_zlib_uncompress(ref, &d, src, size);
        FUZZ_ASSERT(st0 == KDC_OK && d == n);
    }
    if (st0 == KDC_OK) {
        /* every destination size near n: too small below, identical at and above */
        for (d = 0; d < 7; d++) {
            size_t cap = d == 6 ? 0 : n + d >= 3 ? n + d - 3 : 0, got = cap;
            uint8_t *dst = (uint8_t *)malloc(cap ? cap : 1);
            kdc_status st;
            if (!dst) abort();
            st = kdc_zlib_uncompress(cap ? dst : NULL, &got, src, size);
            if (cap >= n)
                FUZZ_ASSERT(st == KDC_OK && got == n && memcmp(dst, ref, n) == 0);
            else
                FUZZ_ASSERT(st == KDC_ERR_DST_TOO_SMALL);
            free(dst);
        }
    } else {
        /* a failed stream fails at any destination size, without overflowing */
        size_t cap, got;
        uint8_t *dst;
        for (d = 0; d < 3; d++) {
            cap = d == 0 ? 0 : d == 1 ? 1 : 4096;
            got = cap;
            dst = (uint8_t *)malloc(cap ? cap : 1);
            if (!dst) abort();
            FUZZ_ASSERT(kdc_zlib_uncompress(cap ? dst : NULL, &got, src, size) != KDC_OK);
            free(dst);
        }
    }
    free(ref);
    free(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= 4 && memcmp(data, "KDCM", 4) == 0)
        unpack_case(data, size);
    else
        zlib_case(data, size);
    return 0;
}
