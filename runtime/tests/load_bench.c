/* load_bench.c - time to validate artifacts: for each file, kdc_query, kdc_unpack if
 * compressed, then kdc_init (body CRC checked, no arena: every structural check runs, then
 * KDC_ERR_ARENA_TOO_SMALL for a model that is otherwise valid), best of several runs.
 * `make load-bench` runs it on the artifacts of tests/gen_slow_load.py. Builds against this
 * runtime and against an older kdc.h (without kdc_info.macs) for before/after figures. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "kdc.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        long len;
        size_t n;
        uint8_t *a, *u = NULL;
        kdc_info info;
        kdc_model m;
        kdc_status st = KDC_OK;
        double best = 1e9, best_nocrc = 1e9, total = 0;
        int runs = 0;
        if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
            fseek(f, 0, SEEK_SET) != 0 || !(a = (uint8_t *)malloc((size_t)len + 1)) ||
            fread(a, 1, (size_t)len, f) != (size_t)len) {
            fprintf(stderr, "load_bench: cannot read %s\n", argv[i]);
            return 2;
        }
        fclose(f);
        n = (size_t)len;
        if (kdc_query(a, n, &info) == KDC_OK && (info.flags & KDC_FLAG_COMPRESSED)) {
            u = (uint8_t *)malloc(info.unpack_bytes);
            if (!u || kdc_unpack(a, n, u, info.unpack_bytes, &n) != KDC_OK) {
                fprintf(stderr, "load_bench: cannot unpack %s\n", argv[i]);
                return 2;
            }
        }
        while (runs < 3 || (total < 2.0 && runs < 100)) {
            double t0 = now();
            st = kdc_init(&m, u ? u : a, n, NULL, 0, 0);
            t0 = now() - t0;
            best = t0 < best ? t0 : best;
            total += t0;
            t0 = now();
            kdc_init(&m, u ? u : a, n, NULL, 0, KDC_INIT_SKIP_CRC);
            t0 = now() - t0;
            best_nocrc = t0 < best_nocrc ? t0 : best_nocrc;
            total += t0;
            runs++;
        }
        printf("%s: %lu bytes, kdc_init: %s, best of %d: %.3f ms (%.3f ms without the body CRC)",
               argv[i], (unsigned long)len, kdc_status_str(st), runs, best * 1e3, best_nocrc * 1e3);
#ifdef KDC_ARENA_TOTAL /* kdc_query's op figures (this runtime) */
        if (kdc_query(u ? u : a, n, &info) == KDC_OK && info.ops_known)
            printf(", %lu ops, %.3g MACs", (unsigned long)info.n_ops, (double)info.macs);
#endif
        printf("\n");
        free(u);
        free(a);
    }
    return 0;
}
