/* bench.c - host timing of kdc_invoke on the golden 784-32-10 MLP and the
 * 28x28 CNN (conv8-maxpool-conv16-maxpool-dense10). `make bench`. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kdc.h"

static int check_bytes(const char *n, const int8_t *g, const int8_t *w, size_t k)
{
    (void)n;
    return memcmp(g, w, k) == 0;
}
#include "golden_models.h"

static uint32_t buf[70000 / 4];
static uint8_t arena[16384];

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void bench(const struct golden_model *g, long iters)
{
    kdc_model m;
    long i;
    double t0, best = 1e9;
    int r;
    memcpy(buf, g->bytes, g->len);
    if (kdc_init(&m, (const uint8_t *)buf, g->len, arena, sizeof arena, 0) != KDC_OK) {
        printf("%s: init failed\n", g->name);
        return;
    }
    memcpy(kdc_input(&m).data, g->in, g->in_size);
    for (r = 0; r < 30; r++) {
        t0 = now();
        for (i = 0; i < iters; i++) {
            memcpy(kdc_input(&m).data, g->in, g->in_size);
            kdc_invoke(&m);
        }
        t0 = (now() - t0) / iters;
        if (t0 < best) best = t0;
    }
    printf("%-14s %8.2f us/inference (%s)\n", g->name, best * 1e6,
           check_bytes(g->name, kdc_output(&m).data, g->out, g->out_size) ? "output ok"
                                                                          : "OUTPUT MISMATCH");
}

int main(void)
{
    bench(&golden_models[0], 2000);
    bench(&golden_models[4], 200);
    return 0;
}
