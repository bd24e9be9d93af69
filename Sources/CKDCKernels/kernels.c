/* kernels.c - see kdc_kernels.h. Built with -O2 -fno-math-errno -ffp-contract=off (Package.swift):
 * sqrtf then becomes the vector square root and no multiply-add is fused. On x86-64 a copy
 * compiled for AVX2 is chosen at run time when the CPU has it; it computes the same IEEE
 * operations in the same order, eight lanes at a time, so the results are identical. */
#include "kdc_kernels.h"

#include <math.h>

#define ADAM_BODY                                                                                  \
    {                                                                                              \
        const float a1 = 1.0f - b1, a2 = 1.0f - b2;                                                \
        for (size_t i = 0; i < n; i++) {                                                           \
            const float wi = w[i];                                                                 \
            const float gi = g[i] + l2 * wi;                                                       \
            const float mi = b1 * m[i] + a1 * gi;                                                  \
            const float vi = b2 * v[i] + a2 * gi * gi;                                             \
            m[i] = mi;                                                                             \
            v[i] = vi;                                                                             \
            w[i] = wi - (decoupled * wi + step_size * mi / (sqrtf(vi * inv_c2) + eps));            \
        }                                                                                          \
    }

static void adam_portable(float *restrict w, const float *restrict g, float *restrict m,
                          float *restrict v, size_t n, float l2, float b1, float b2,
                          float decoupled, float step_size, float inv_c2, float eps) ADAM_BODY

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __attribute__((target("avx2"))) static void adam_avx2(float *restrict w,
                                                          const float *restrict g,
                                                          float *restrict m, float *restrict v,
                                                          size_t n, float l2, float b1, float b2,
                                                          float decoupled, float step_size,
                                                          float inv_c2, float eps) ADAM_BODY

    /* __builtin_cpu_supports reads what the compiler runtime's constructor found at start-up. */
    static int has_avx2(void)
{
    return __builtin_cpu_supports("avx2") ? 1 : 0;
}
#endif

void kdc_adam_update(float *w, const float *g, float *m, float *v, size_t n, float l2, float b1,
                     float b2, float decoupled, float step_size, float inv_c2, float eps)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (has_avx2()) {
        adam_avx2(w, g, m, v, n, l2, b1, b2, decoupled, step_size, inv_c2, eps);
        return;
    }
#endif
    adam_portable(w, g, m, v, n, l2, b1, b2, decoupled, step_size, inv_c2, eps);
}

/* Selects, not branches, and every load unconditional, so the loops vectorize: the signs of
 * activations are random, so branches would mispredict. */
void kdc_relu_backward(float *restrict dx, const float *restrict g, const float *restrict y,
                       size_t n, int capped, float hi)
{
    if (capped) {
        for (size_t i = 0; i < n; i++) {
            const float gi = g[i], yi = y[i];
            dx[i] = ((yi > 0.0f) & (yi < hi)) ? gi : 0.0f;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            const float gi = g[i], yi = y[i];
            dx[i] = yi > 0.0f ? gi : 0.0f;
        }
    }
}

/* The 16-bit fields are read as little-endian byte pairs of the words' bytes (the same values as
 * the shifts in kdc_kernels.h on a little-endian host, which x86-64 and AArch64 Linux are). */
void kdc_dropout_forward(float *restrict y, float *restrict mask, const float *restrict x,
                         const uint64_t *restrict bits, size_t n, uint32_t threshold, float keep)
{
    const unsigned char *b = (const unsigned char *)bits;
    for (size_t i = 0; i < n; i++) {
        const uint32_t field = (uint32_t)b[2 * i] | (uint32_t)b[2 * i + 1] << 8;
        const float k = field >= threshold ? keep : 0.0f;
        mask[i] = k;
        y[i] = x[i] * k;
    }
}
