/* kdc_helpers.c - float helpers for firmware: input normalization and quantization, dequantized
 * outputs, argmax and softmax (no libm). */
#include "kdc.h"
#include "kdc_kernels.h"

#include <string.h>

size_t kdc_argmax(const int8_t *x, size_t n)
{
    size_t i, best = 0;
    for (i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

float kdc_dequantize(int8_t q, float scale, int32_t zero_point)
{
    return scale * (float)((int32_t)q - zero_point);
}

int8_t kdc_quantize(float x, float scale, int32_t zero_point)
{
    float v = x / scale, f;
    int32_t r;
    if (v != v) v = 0.0f;         /* NaN */
    if (v > 1000.0f) v = 1000.0f; /* far outside int8 anyway; keeps the cast defined */
    if (v < -1000.0f) v = -1000.0f;
    r = (int32_t)v;                  /* toward zero */
    f = v - (float)r;                /* exact for |v| < 2^23; no double, no libm */
    r += (f >= 0.5f) - (f <= -0.5f); /* round half away from zero */
    r += zero_point;
    return (int8_t)(r < -128 ? -128 : r > 127 ? 127 : r);
}

void kdc_quantize_array(int8_t *y, const float *x, size_t n, float scale, int32_t zero_point)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = kdc_quantize(x[i], scale, zero_point);
}

void kdc_normalize_quantize(int8_t *y, const float *x, size_t n, const float *mean,
                            const float *std, size_t channels, float scale, int32_t zero_point)
{
    size_t i, c = 0;
    for (i = 0; i < n; i++) {
        float inv = 1.0f / std[c]; /* kdc's Swift normalization multiplies by 1/std in float */
        y[i] = kdc_quantize((x[i] - mean[c]) * inv, scale, zero_point);
        if (++c == channels) c = 0;
    }
}

kdc_status kdc_input_from_float(kdc_model *m, const float *x, size_t n, const float *mean,
                                const float *std, size_t channels)
{
    kdc_tensor in = kdc_input(m);
    if (!in.data || !x || !mean || !std) return KDC_ERR_NULL;
    if (n != in.size || channels == 0 || n % channels != 0) return KDC_ERR_SHAPE;
    kdc_normalize_quantize(in.data, x, n, mean, std, channels, in.scale, in.zero_point);
    return KDC_OK;
}

kdc_status kdc_output_to_float(const kdc_model *m, float *y, size_t n)
{
    kdc_tensor out = kdc_output(m);
    size_t i;
    if (!out.data || !y) return KDC_ERR_NULL;
    if (n != out.size) return KDC_ERR_SHAPE;
    for (i = 0; i < n; i++) y[i] = kdc_dequantize(out.data[i], out.scale, out.zero_point);
    return KDC_OK;
}

/* e^x = 2^k * e^r with k = round(x / ln2) and r = x - k*ln2 in [-ln2/2, ln2/2] (ln2 split in a
 * part with few mantissa bits, so k*LN2_HI is exact, and the rest); e^r by its Taylor polynomial
 * of degree 7 (truncation < 1e-8 relative); 2^k built in the float's exponent bits. */
float kdc__expf(float x)
{
    const float LOG2E = 1.44269504f, LN2_HI = 0.693145751953125f, LN2_LO = 1.42860677e-6f;
    float k, r, p, two_k;
    int32_t n;
    uint32_t bits;
    if (!(x >= -87.33f)) return 0.0f; /* below FLT_MIN (2^-126), and NaN */
    if (x > 0.0f) x = 0.0f;
    k = x * LOG2E;
    n = (int32_t)(k - 0.5f); /* round half away, k <= 0: -126 <= n <= 0 */
    k = (float)n;
    r = (x - k * LN2_HI) - k * LN2_LO;
    p = 1.0f / 720 + r * (1.0f / 5040);
    p = 1.0f / 24 + r * (1.0f / 120 + r * p);
    p = 1.0f + r * (1.0f + r * (1.0f / 2 + r * (1.0f / 6 + r * p)));
    bits = (uint32_t)(n + 127) << 23;
    memcpy(&two_k, &bits, sizeof two_k);
    return p * two_k;
}

void kdc_softmax(float *p, const float *x, size_t n)
{
    size_t i;
    float max, sum = 0.0f;
    if (n == 0) return;
    max = x[0];
    for (i = 1; i < n; i++)
        if (x[i] > max) max = x[i];
    for (i = 0; i < n; i++) {
        p[i] = kdc__expf(x[i] - max);
        sum += p[i];
    }
    for (i = 0; i < n; i++) p[i] /= sum; /* sum >= 1: the maximum contributes e^0 */
}
