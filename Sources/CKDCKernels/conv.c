/* conv.c - direct 2-D convolution kernels for training (see kdc_kernels.h). Every output value
 * is one chain of fused multiply-adds in a fixed order (bias or 0 first, then the taps by
 * (ky, kx, channel), or the pixels in order for the weight gradient): fmaf is exact-rounded by
 * IEEE 754, so the portable loops and the AVX2 and AVX-512 copies (chosen at run time) give the
 * same bits; the vector code only computes 8 or 16 output channels at once. */
#include "kdc_kernels.h"

#include <math.h>
#include <string.h>

/* KDC_PORTABLE_ONLY (a test build) leaves the AVX2 and AVX-512 copies out. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(KDC_PORTABLE_ONLY)
#define KDC_X86 1
#include <immintrin.h>
#endif

void kdc_pad_nhwc(float *restrict xp, const float *restrict x, size_t n, size_t h, size_t w,
                  size_t c, size_t hp, size_t wp, size_t top, size_t left)
{
    for (size_t s = 0; s < n; s++) {
        const float *img = x + s * h * w * c;
        float *out = xp + s * hp * wp * c;
        for (size_t y = 0; y < hp; y++) {
            float *row = out + y * wp * c;
            if (y < top || y - top >= h) {
                memset(row, 0, wp * c * sizeof(float));
                continue;
            }
            const float *src = img + (y - top) * w * c;
            const size_t lead = left < wp ? left : wp;
            const size_t copy = (wp - lead) < w ? (wp - lead) : w;
            memset(row, 0, lead * c * sizeof(float));
            memcpy(row + lead * c, src, copy * c * sizeof(float));
            memset(row + (lead + copy) * c, 0, (wp - lead - copy) * c * sizeof(float));
        }
    }
}

/* Portable forward: output channels f0..f1 (the packed block w, [patch, f1 - f0]) of output
 * pixels ox0..ox1 of row oy of one sample. */
static void conv_tile_portable(float *restrict y, const float *restrict xp, const float *restrict w,
                               const float *restrict bias, const kdc_conv_shape *s, size_t oy,
                               size_t ox0, size_t ox1, size_t f0, size_t f1)
{
    const size_t span = s->kw * s->cin, b = f1 - f0;
    for (size_t ox = ox0; ox < ox1; ox++) {
        for (size_t f = f0; f < f1; f++) {
            float acc = bias ? bias[f] : 0.0f;
            for (size_t ky = 0; ky < s->kh; ky++) {
                const float *a = xp + ((oy * s->sh + ky) * s->wp + ox * s->sw) * s->cin;
                const float *wk = w + ky * span * b + (f - f0);
                for (size_t j = 0; j < span; j++) acc = fmaf(a[j], wk[j * b], acc);
            }
            y[ox * s->cout + f] = s->relu && 0.0f >= acc ? 0.0f : acc;
        }
    }
}

/* The widths of the channel blocks the kernels take, in order from channel 0: per instruction
 * set, as wide as its registers allow, then narrower, then the rest in one portable block. */
static size_t block_width(size_t f0, size_t cout, int isa)
{
    static const size_t widths[3][5] = {{0}, {16, 8, 0}, {64, 32, 16, 8, 0}};
    for (const size_t *b = widths[isa]; *b; b++)
        if (f0 + *b <= cout) return *b;
    return cout - f0;
}

static int conv_isa(void);

void kdc_conv2d_pack_weights(float *restrict wpack, const float *restrict w,
                             const kdc_conv_shape *s)
{
    const size_t patch = s->kh * s->kw * s->cin, cout = s->cout;
    const int isa = conv_isa();
    for (size_t f0 = 0; f0 < cout;) {
        const size_t b = block_width(f0, cout, isa);
        for (size_t i = 0; i < patch; i++)
            memcpy(wpack + f0 * patch + i * b, w + i * cout + f0, b * sizeof(float));
        f0 += b;
    }
}

/* Portable weight gradient: rows j0..j1 of tap row ky, channels f0..f1, over the pixels of
 * one sample, added to acc (the running sums, [patch, cout]). */
static void wgrad_tile_portable(float *restrict acc, const float *restrict xp,
                                const float *restrict g, const kdc_conv_shape *s, size_t ky,
                                size_t j0, size_t j1, size_t f0, size_t f1)
{
    const size_t span = s->kw * s->cin;
    for (size_t j = j0; j < j1; j++) {
        for (size_t f = f0; f < f1; f++) {
            float a = acc[(ky * span + j) * s->cout + f];
            for (size_t oy = 0; oy < s->oh; oy++) {
                const float *row = xp + ((oy * s->sh + ky) * s->wp) * s->cin + j;
                const float *gr = g + oy * s->ow * s->cout + f;
                for (size_t ox = 0; ox < s->ow; ox++)
                    a = fmaf(row[ox * s->sw * s->cin], gr[ox * s->cout], a);
            }
            acc[(ky * span + j) * s->cout + f] = a;
        }
    }
}

#ifdef KDC_X86
#define KDC_AVX2 __attribute__((target("avx2,fma")))
#define KDC_INLINE static inline __attribute__((always_inline))

/* P pixels (ox0..ox0+P) × V vectors of 8 channels (f0..f0+8V): P·V accumulators in registers. */
KDC_INLINE KDC_AVX2 void conv_block_avx2(float *restrict y, const float *restrict xp,
                                         const float *restrict w, const float *restrict bias,
                                         const kdc_conv_shape *s, size_t oy, size_t ox0, size_t f0,
                                         const int P, const int V)
{
    __m256 acc[6][2];
    for (int v = 0; v < V; v++) {
        const __m256 b0 = bias ? _mm256_loadu_ps(bias + f0 + 8 * v) : _mm256_setzero_ps();
        for (int p = 0; p < P; p++) acc[p][v] = b0;
    }
    const size_t span = s->kw * s->cin, step = s->sw * s->cin, cout = s->cout;
    for (size_t ky = 0; ky < s->kh; ky++) {
        const float *a = xp + ((oy * s->sh + ky) * s->wp + ox0 * s->sw) * s->cin;
        const float *wk = w + ky * span * (8 * V);
        for (size_t j = 0; j < span; j++) {
            __m256 wv[2];
            for (int v = 0; v < V; v++) wv[v] = _mm256_loadu_ps(wk + j * (8 * V) + 8 * v);
            for (int p = 0; p < P; p++) {
                const __m256 av = _mm256_broadcast_ss(a + p * step + j);
                for (int v = 0; v < V; v++) acc[p][v] = _mm256_fmadd_ps(av, wv[v], acc[p][v]);
            }
        }
    }
    if (s->relu) {
        /* 0 where 0 >= y (not for NaN), as the portable code. */
        const __m256 zero = _mm256_setzero_ps();
        for (int p = 0; p < P; p++)
            for (int v = 0; v < V; v++)
                acc[p][v] = _mm256_andnot_ps(_mm256_cmp_ps(zero, acc[p][v], _CMP_GE_OQ), acc[p][v]);
    }
    for (int p = 0; p < P; p++)
        for (int v = 0; v < V; v++) _mm256_storeu_ps(y + (ox0 + p) * cout + f0 + 8 * v, acc[p][v]);
}

KDC_INLINE KDC_AVX2 void conv_row_avx2(float *restrict y, const float *restrict xp,
                                       const float *restrict w, const float *restrict bias,
                                       const kdc_conv_shape *s, size_t oy, size_t f0, const int V)
{
    size_t ox = 0;
    for (; ox + 6 <= s->ow; ox += 6) conv_block_avx2(y, xp, w, bias, s, oy, ox, f0, 6, V);
    switch (s->ow - ox) {
    case 5: conv_block_avx2(y, xp, w, bias, s, oy, ox, f0, 5, V); break;
    case 4: conv_block_avx2(y, xp, w, bias, s, oy, ox, f0, 4, V); break;
    case 3: conv_block_avx2(y, xp, w, bias, s, oy, ox, f0, 3, V); break;
    case 2: conv_block_avx2(y, xp, w, bias, s, oy, ox, f0, 2, V); break;
    case 1: conv_block_avx2(y, xp, w, bias, s, oy, ox, f0, 1, V); break;
    default: break;
    }
}

static KDC_AVX2 void conv_sample_avx2(float *restrict y, const float *restrict xp,
                                      const float *restrict w, const float *restrict bias,
                                      const kdc_conv_shape *s)
{
    /* Channel blocks outermost: one block's weights (kh*kw*cin*16 floats) stay in L1 over the
     * whole sample. */
    const size_t cout = s->cout, row = s->ow * cout, patch = s->kh * s->kw * s->cin;
    size_t f0 = 0;
    for (; f0 + 16 <= cout; f0 += 16)
        for (size_t oy = 0; oy < s->oh; oy++)
            conv_row_avx2(y + oy * row, xp, w + f0 * patch, bias, s, oy, f0, 2);
    for (; f0 + 8 <= cout; f0 += 8)
        for (size_t oy = 0; oy < s->oh; oy++)
            conv_row_avx2(y + oy * row, xp, w + f0 * patch, bias, s, oy, f0, 1);
    if (f0 < cout)
        for (size_t oy = 0; oy < s->oh; oy++)
            conv_tile_portable(y + oy * row, xp, w + f0 * patch, bias, s, oy, 0, s->ow, f0, cout);
}

/* R rows j0..j0+R of tap row ky × V vectors of channels, over one sample's pixels. */
KDC_INLINE KDC_AVX2 void wgrad_block_avx2(float *restrict acc, const float *restrict xp,
                                          const float *restrict g, const kdc_conv_shape *s,
                                          size_t ky, size_t j0, size_t f0, const int R, const int V)
{
    const size_t span = s->kw * s->cin, cout = s->cout, step = s->sw * s->cin;
    float *dst = acc + (ky * span + j0) * cout + f0;
    __m256 a[6][2];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) a[r][v] = _mm256_loadu_ps(dst + r * cout + 8 * v);
    for (size_t oy = 0; oy < s->oh; oy++) {
        const float *row = xp + ((oy * s->sh + ky) * s->wp) * s->cin + j0;
        const float *gr = g + oy * s->ow * cout + f0;
        for (size_t ox = 0; ox < s->ow; ox++) {
            __m256 gv[2];
            for (int v = 0; v < V; v++) gv[v] = _mm256_loadu_ps(gr + ox * cout + 8 * v);
            for (int r = 0; r < R; r++) {
                const __m256 xv = _mm256_broadcast_ss(row + ox * step + r);
                for (int v = 0; v < V; v++) a[r][v] = _mm256_fmadd_ps(xv, gv[v], a[r][v]);
            }
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) _mm256_storeu_ps(dst + r * cout + 8 * v, a[r][v]);
}

KDC_INLINE KDC_AVX2 void wgrad_rows_avx2(float *restrict acc, const float *restrict xp,
                                         const float *restrict g, const kdc_conv_shape *s,
                                         size_t ky, size_t f0, const int V)
{
    const size_t span = s->kw * s->cin;
    size_t j = 0;
    for (; j + 6 <= span; j += 6) wgrad_block_avx2(acc, xp, g, s, ky, j, f0, 6, V);
    switch (span - j) {
    case 5: wgrad_block_avx2(acc, xp, g, s, ky, j, f0, 5, V); break;
    case 4: wgrad_block_avx2(acc, xp, g, s, ky, j, f0, 4, V); break;
    case 3: wgrad_block_avx2(acc, xp, g, s, ky, j, f0, 3, V); break;
    case 2: wgrad_block_avx2(acc, xp, g, s, ky, j, f0, 2, V); break;
    case 1: wgrad_block_avx2(acc, xp, g, s, ky, j, f0, 1, V); break;
    default: break;
    }
}

static KDC_AVX2 void wgrad_sample_avx2(float *restrict acc, const float *restrict xp,
                                       const float *restrict g, const kdc_conv_shape *s)
{
    const size_t cout = s->cout;
    for (size_t ky = 0; ky < s->kh; ky++) {
        size_t f0 = 0;
        for (; f0 + 16 <= cout; f0 += 16) wgrad_rows_avx2(acc, xp, g, s, ky, f0, 2);
        for (; f0 + 8 <= cout; f0 += 8) wgrad_rows_avx2(acc, xp, g, s, ky, f0, 1);
        if (f0 < cout) wgrad_tile_portable(acc, xp, g, s, ky, 0, s->kw * s->cin, f0, cout);
    }
}

/* AVX-512: 16 channels per register and 32 registers, so larger tiles (P·V up to 24). */
#define KDC_AVX512 __attribute__((target("avx512f,avx2,fma")))

KDC_INLINE KDC_AVX512 void conv_block_avx512(float *restrict y, const float *restrict xp,
                                             const float *restrict w, const float *restrict bias,
                                             const kdc_conv_shape *s, size_t oy, size_t ox0,
                                             size_t f0, const int P, const int V)
{
    __m512 acc[12][4];
    for (int v = 0; v < V; v++) {
        const __m512 b0 = bias ? _mm512_loadu_ps(bias + f0 + 16 * v) : _mm512_setzero_ps();
        for (int p = 0; p < P; p++) acc[p][v] = b0;
    }
    const size_t span = s->kw * s->cin, step = s->sw * s->cin, cout = s->cout;
    for (size_t ky = 0; ky < s->kh; ky++) {
        const float *a = xp + ((oy * s->sh + ky) * s->wp + ox0 * s->sw) * s->cin;
        const float *wk = w + ky * span * (16 * V);
        for (size_t j = 0; j < span; j++) {
            __m512 wv[4];
            for (int v = 0; v < V; v++) wv[v] = _mm512_loadu_ps(wk + j * (16 * V) + 16 * v);
            for (int p = 0; p < P; p++) {
                const __m512 av = _mm512_set1_ps(a[p * step + j]);
                for (int v = 0; v < V; v++) acc[p][v] = _mm512_fmadd_ps(av, wv[v], acc[p][v]);
            }
        }
    }
    if (s->relu) {
        const __m512 zero = _mm512_setzero_ps();
        for (int p = 0; p < P; p++)
            for (int v = 0; v < V; v++)
                acc[p][v] = _mm512_mask_mov_ps(
                    acc[p][v], _mm512_cmp_ps_mask(zero, acc[p][v], _CMP_GE_OQ), zero);
    }
    for (int p = 0; p < P; p++)
        for (int v = 0; v < V; v++) _mm512_storeu_ps(y + (ox0 + p) * cout + f0 + 16 * v, acc[p][v]);
}

/* One output row, channels f0..f0+16V, in tiles of PB pixels, the rest in tiles of 4, 2, 1. */
#define KDC_CONV_ROW512(PB, V)                                                                     \
    do {                                                                                           \
        size_t ox = 0;                                                                             \
        for (; ox + (PB) <= s->ow; ox += (PB))                                                     \
            conv_block_avx512(yr, xp, w + f0 * patch, bias, s, oy, ox, f0, (PB), (V));             \
        for (; ox + 4 <= s->ow; ox += 4)                                                           \
            conv_block_avx512(yr, xp, w + f0 * patch, bias, s, oy, ox, f0, 4, (V));                \
        for (; ox + 2 <= s->ow; ox += 2)                                                           \
            conv_block_avx512(yr, xp, w + f0 * patch, bias, s, oy, ox, f0, 2, (V));                \
        for (; ox < s->ow; ox++)                                                                   \
            conv_block_avx512(yr, xp, w + f0 * patch, bias, s, oy, ox, f0, 1, (V));                \
    } while (0)

static KDC_AVX512 void conv_sample_avx512(float *restrict y, const float *restrict xp,
                                          const float *restrict w, const float *restrict bias,
                                          const kdc_conv_shape *s)
{
    const size_t cout = s->cout, row = s->ow * cout, patch = s->kh * s->kw * s->cin;
    size_t f0 = 0;
    for (; f0 + 64 <= cout; f0 += 64)
        for (size_t oy = 0; oy < s->oh; oy++) {
            float *yr = y + oy * row;
            KDC_CONV_ROW512(6, 4);
        }
    for (; f0 + 32 <= cout; f0 += 32)
        for (size_t oy = 0; oy < s->oh; oy++) {
            float *yr = y + oy * row;
            KDC_CONV_ROW512(8, 2);
        }
    for (; f0 + 16 <= cout; f0 += 16)
        for (size_t oy = 0; oy < s->oh; oy++) {
            float *yr = y + oy * row;
            KDC_CONV_ROW512(12, 1);
        }
    for (; f0 + 8 <= cout; f0 += 8)
        for (size_t oy = 0; oy < s->oh; oy++)
            conv_row_avx2(y + oy * row, xp, w + f0 * patch, bias, s, oy, f0, 1);
    if (f0 < cout)
        for (size_t oy = 0; oy < s->oh; oy++)
            conv_tile_portable(y + oy * row, xp, w + f0 * patch, bias, s, oy, 0, s->ow, f0, cout);
}

KDC_INLINE KDC_AVX512 void wgrad_block_avx512(float *restrict acc, const float *restrict xp,
                                              const float *restrict g, const kdc_conv_shape *s,
                                              size_t ky, size_t j0, size_t f0, const int R,
                                              const int V)
{
    const size_t span = s->kw * s->cin, cout = s->cout, step = s->sw * s->cin;
    float *dst = acc + (ky * span + j0) * cout + f0;
    __m512 a[12][4];
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) a[r][v] = _mm512_loadu_ps(dst + r * cout + 16 * v);
    for (size_t oy = 0; oy < s->oh; oy++) {
        const float *row = xp + ((oy * s->sh + ky) * s->wp) * s->cin + j0;
        const float *gr = g + oy * s->ow * cout + f0;
        for (size_t ox = 0; ox < s->ow; ox++) {
            __m512 gv[4];
            for (int v = 0; v < V; v++) gv[v] = _mm512_loadu_ps(gr + ox * cout + 16 * v);
            for (int r = 0; r < R; r++) {
                const __m512 xv = _mm512_set1_ps(row[ox * step + r]);
                for (int v = 0; v < V; v++) a[r][v] = _mm512_fmadd_ps(xv, gv[v], a[r][v]);
            }
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) _mm512_storeu_ps(dst + r * cout + 16 * v, a[r][v]);
}

#define KDC_WGRAD_ROWS512(RB, V)                                                                   \
    do {                                                                                           \
        size_t j = 0;                                                                              \
        for (; j + (RB) <= span; j += (RB))                                                        \
            wgrad_block_avx512(acc, xp, g, s, ky, j, f0, (RB), (V));                               \
        for (; j + 3 <= span; j += 3) wgrad_block_avx512(acc, xp, g, s, ky, j, f0, 3, (V));        \
        for (; j < span; j++) wgrad_block_avx512(acc, xp, g, s, ky, j, f0, 1, (V));                \
    } while (0)

static KDC_AVX512 void wgrad_sample_avx512(float *restrict acc, const float *restrict xp,
                                           const float *restrict g, const kdc_conv_shape *s)
{
    const size_t cout = s->cout, span = s->kw * s->cin;
    for (size_t ky = 0; ky < s->kh; ky++) {
        size_t f0 = 0;
        for (; f0 + 64 <= cout; f0 += 64) KDC_WGRAD_ROWS512(6, 4);
        for (; f0 + 32 <= cout; f0 += 32) KDC_WGRAD_ROWS512(8, 2);
        for (; f0 + 16 <= cout; f0 += 16) KDC_WGRAD_ROWS512(12, 1);
        for (; f0 + 8 <= cout; f0 += 8) wgrad_rows_avx2(acc, xp, g, s, ky, f0, 1);
        if (f0 < cout) wgrad_tile_portable(acc, xp, g, s, ky, 0, span, f0, cout);
    }
}

static int conv_has_avx512(void)
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma") ? 1 : 0;
}

static int conv_has_avx2(void)
{
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}
#endif

/* 2: AVX-512, 1: AVX2 with FMA, 0: portable C. */
static int conv_isa(void)
{
#ifdef KDC_X86
    if (conv_has_avx512()) return 2;
    if (conv_has_avx2()) return 1;
#endif
    return 0;
}

void kdc_conv2d_forward(float *y, const float *xp, const float *w, const float *bias,
                        const kdc_conv_shape *s, size_t n0, size_t n1)
{
    const size_t in = s->hp * s->wp * s->cin, out = s->oh * s->ow * s->cout;
#ifdef KDC_X86
    const int isa = conv_isa();
    if (isa == 2) {
        for (size_t i = n0; i < n1; i++) conv_sample_avx512(y + i * out, xp + i * in, w, bias, s);
        return;
    }
    if (isa == 1) {
        for (size_t i = n0; i < n1; i++) conv_sample_avx2(y + i * out, xp + i * in, w, bias, s);
        return;
    }
#endif
    for (size_t i = n0; i < n1; i++)
        for (size_t oy = 0; oy < s->oh; oy++)
            conv_tile_portable(y + i * out + oy * s->ow * s->cout, xp + i * in, w, bias, s, oy, 0,
                               s->ow, 0, s->cout);
}

void kdc_conv2d_weight_grad(float *acc, float *bias_acc, const float *xp, const float *g,
                            const kdc_conv_shape *s, size_t n0, size_t n1)
{
    const size_t in = s->hp * s->wp * s->cin, out = s->oh * s->ow * s->cout;
    const size_t pix = s->oh * s->ow, cout = s->cout;
    for (size_t i = n0; i < n1; i++) {
        const float *gi = g + i * out;
#ifdef KDC_X86
        if (conv_isa() == 2) {
            wgrad_sample_avx512(acc, xp + i * in, gi, s);
        } else if (conv_isa() == 1) {
            wgrad_sample_avx2(acc, xp + i * in, gi, s);
        } else
#endif
        {
            for (size_t ky = 0; ky < s->kh; ky++)
                wgrad_tile_portable(acc, xp + i * in, gi, s, ky, 0, s->kw * s->cin, 0, cout);
        }
        if (bias_acc) {
            /* Eight channels at a time in a local array (no aliasing with g: it vectorizes). */
            size_t f0 = 0;
            for (; f0 + 8 <= cout; f0 += 8) {
                float t[8];
                for (int k = 0; k < 8; k++) t[k] = bias_acc[f0 + k];
                for (size_t p = 0; p < pix; p++)
                    for (int k = 0; k < 8; k++) t[k] += gi[p * cout + f0 + k];
                for (int k = 0; k < 8; k++) bias_acc[f0 + k] = t[k];
            }
            for (size_t p = 0; p < pix; p++)
                for (size_t f = f0; f < cout; f++) bias_acc[f] += gi[p * cout + f];
        }
    }
}

/* 2x2 windows at stride 2, all four taps inside: the taps in the order the general loop takes
 * them (row by row), the first maximal one kept, as selects over the channels (eight at a time
 * when the channel count allows: loops of a constant eight become single vector operations). */
#define KDC_POOL_LANES(CH0, LANES)                                                                 \
    for (size_t ch = (CH0); ch < (CH0) + (LANES); ch++) {                                          \
        if (a) {                                                                                   \
            float b = x0[ch];                                                                      \
            int32_t k = (int32_t)(t0 + ch);                                                        \
            k = x1[ch] > b ? (int32_t)(t1 + ch) : k;                                               \
            b = x1[ch] > b ? x1[ch] : b;                                                           \
            k = x2[ch] > b ? (int32_t)(t2 + ch) : k;                                               \
            b = x2[ch] > b ? x2[ch] : b;                                                           \
            k = x3[ch] > b ? (int32_t)(t3 + ch) : k;                                               \
            b = x3[ch] > b ? x3[ch] : b;                                                           \
            o[ch] = b;                                                                             \
            a[ch] = k;                                                                             \
        } else {                                                                                   \
            float b = x0[ch];                                                                      \
            b = x1[ch] >= b ? x1[ch] : b;                                                          \
            b = x2[ch] >= b ? x2[ch] : b;                                                          \
            b = x3[ch] >= b ? x3[ch] : b;                                                          \
            o[ch] = b;                                                                             \
        }                                                                                          \
    }

#define KDC_POOL_2X2_BODY                                                                          \
    {                                                                                              \
        const size_t c = s->c, in = s->h * s->w * c, out = s->oh * s->ow * c, row = s->w * c;      \
        const size_t c8 = c / 8 * 8;                                                               \
        for (size_t i = n0; i < n1; i++) {                                                         \
            const float *img = x + i * in;                                                         \
            float *o = y + i * out;                                                                \
            int32_t *a = argmax ? argmax + i * out : NULL;                                         \
            for (size_t oy = 0; oy < s->oh; oy++) {                                                \
                for (size_t ox = 0; ox < s->ow; ox++) {                                            \
                    const size_t t0 = (2 * oy * s->w + 2 * ox) * c, t1 = t0 + c, t2 = t0 + row,    \
                                 t3 = t2 + c;                                                      \
                    const float *x0 = img + t0, *x1 = img + t1, *x2 = img + t2, *x3 = img + t3;    \
                    for (size_t c0 = 0; c0 < c8; c0 += 8) KDC_POOL_LANES(c0, 8)                    \
                    KDC_POOL_LANES(c8, c - c8)                                                     \
                    o += c;                                                                        \
                    if (a) a += c;                                                                 \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

static void maxpool_2x2_portable(float *restrict y, int32_t *restrict argmax,
                                 const float *restrict x, const kdc_pool_shape *s, size_t n0,
                                 size_t n1) KDC_POOL_2X2_BODY

#ifdef KDC_X86
    static KDC_AVX2
    void maxpool_2x2_avx2(float *restrict y, int32_t *restrict argmax, const float *restrict x,
                          const kdc_pool_shape *s, size_t n0, size_t n1) KDC_POOL_2X2_BODY
#endif

    static void maxpool_2x2(float *restrict y, int32_t *restrict argmax, const float *restrict x,
                            const kdc_pool_shape *s, size_t n0, size_t n1)
{
#ifdef KDC_X86
    if (conv_isa() >= 1) {
        maxpool_2x2_avx2(y, argmax, x, s, n0, n1);
        return;
    }
#endif
    maxpool_2x2_portable(y, argmax, x, s, n0, n1);
}

void kdc_maxpool_forward(float *restrict y, int32_t *restrict argmax, const float *restrict x,
                         const kdc_pool_shape *s, size_t n0, size_t n1)
{
    const size_t c = s->c, in = s->h * s->w * c, out = s->oh * s->ow * c;
    if (s->kh == 2 && s->kw == 2 && s->sh == 2 && s->sw == 2 && s->pad_top == 0 &&
        s->pad_left == 0 && 2 * s->oh <= s->h && 2 * s->ow <= s->w) {
        maxpool_2x2(y, argmax, x, s, n0, n1);
        return;
    }
    for (size_t i = n0; i < n1; i++) {
        const float *img = x + i * in;
        float *o = y + i * out;
        int32_t *a = argmax ? argmax + i * out : NULL;
        for (size_t oy = 0; oy < s->oh; oy++) {
            /* In-bounds taps [y0, y1) of this window row (pad < kernel: never empty). */
            const long top = (long)(oy * s->sh) - (long)s->pad_top;
            const size_t y0 = top < 0 ? (size_t)(-top) : 0;
            const size_t y1 = (long)s->kh < (long)s->h - top ? s->kh : (size_t)((long)s->h - top);
            for (size_t ox = 0; ox < s->ow; ox++) {
                const long left = (long)(ox * s->sw) - (long)s->pad_left;
                const size_t x0 = left < 0 ? (size_t)(-left) : 0;
                const size_t x1 =
                    (long)s->kw < (long)s->w - left ? s->kw : (size_t)((long)s->w - left);
                const size_t first = (size_t)((top + (long)y0) * (long)s->w + left + (long)x0) * c;
                for (size_t ch = 0; ch < c; ch++) {
                    o[ch] = img[first + ch];
                    if (a) a[ch] = (int32_t)(first + ch);
                }
                for (size_t ky = y0; ky < y1; ky++) {
                    for (size_t kx = x0; kx < x1; kx++) {
                        if (ky == y0 && kx == x0) continue;
                        const size_t t =
                            (size_t)((top + (long)ky) * (long)s->w + left + (long)kx) * c;
                        const float *xi = img + t;
                        if (a) {
                            /* Selects, the first maximal tap wins: vectorizes over channels. */
                            for (size_t ch = 0; ch < c; ch++) {
                                const float v = xi[ch], b = o[ch];
                                a[ch] = v > b ? (int32_t)(t + ch) : a[ch];
                                o[ch] = v > b ? v : b;
                            }
                        } else {
                            for (size_t ch = 0; ch < c; ch++)
                                o[ch] = xi[ch] >= o[ch] ? xi[ch] : o[ch];
                        }
                    }
                }
                o += c;
                if (a) a += c;
            }
        }
    }
}

/* The gradient of 2x2 windows tiling the input exactly: every input value is in one window, so
 * each is written once (g where it was the window's argmax, else 0), no zeroing and no scatter.
 * 0 + g as the scatter into zeros gives it (-0 becomes 0). */
#define KDC_POOL_BWD_2X2_BODY                                                                      \
    {                                                                                              \
        const size_t c = s->c, in = s->h * s->w * c, out = s->oh * s->ow * c, row = s->w * c;      \
        for (size_t i = n0; i < n1; i++) {                                                         \
            float *d = dx + i * in;                                                                \
            const float *gi = g + i * out;                                                         \
            const int32_t *a = argmax + i * out;                                                   \
            for (size_t oy = 0; oy < s->oh; oy++) {                                                \
                for (size_t ox = 0; ox < s->ow; ox++) {                                            \
                    const size_t j0 = (oy * s->ow + ox) * c;                                       \
                    const size_t t0 = (2 * oy * s->w + 2 * ox) * c;                                \
                    float *d0 = d + t0, *d1 = d0 + c, *d2 = d0 + row, *d3 = d2 + c;                \
                    const int32_t k0 = (int32_t)t0, k1 = (int32_t)(t0 + c),                        \
                                  k2 = (int32_t)(t0 + row), k3 = (int32_t)(t0 + row + c);          \
                    const float *gj = gi + j0;                                                     \
                    const int32_t *aj = a + j0;                                                    \
                    if (y) {                                                                       \
                        const float *yj = y + i * out + j0;                                        \
                        for (size_t ch = 0; ch < c; ch++) {                                        \
                            const float v = 0.0f + (yj[ch] > 0.0f ? gj[ch] : 0.0f);                \
                            const int32_t k = aj[ch] - (int32_t)ch;                                \
                            d0[ch] = k == k0 ? v : 0.0f;                                           \
                            d1[ch] = k == k1 ? v : 0.0f;                                           \
                            d2[ch] = k == k2 ? v : 0.0f;                                           \
                            d3[ch] = k == k3 ? v : 0.0f;                                           \
                        }                                                                          \
                    } else {                                                                       \
                        for (size_t ch = 0; ch < c; ch++) {                                        \
                            const float v = 0.0f + gj[ch];                                         \
                            const int32_t k = aj[ch] - (int32_t)ch;                                \
                            d0[ch] = k == k0 ? v : 0.0f;                                           \
                            d1[ch] = k == k1 ? v : 0.0f;                                           \
                            d2[ch] = k == k2 ? v : 0.0f;                                           \
                            d3[ch] = k == k3 ? v : 0.0f;                                           \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    }

static void pool_bwd_2x2_portable(float *restrict dx, const float *restrict g,
                                  const int32_t *restrict argmax, const float *restrict y,
                                  const kdc_pool_shape *s, size_t n0,
                                  size_t n1) KDC_POOL_BWD_2X2_BODY

#ifdef KDC_X86
    static KDC_AVX2
    void pool_bwd_2x2_avx2(float *restrict dx, const float *restrict g,
                           const int32_t *restrict argmax, const float *restrict y,
                           const kdc_pool_shape *s, size_t n0, size_t n1) KDC_POOL_BWD_2X2_BODY
#endif

    void kdc_maxpool_backward(float *restrict dx, const float *restrict g,
                              const int32_t *restrict argmax, const float *restrict y,
                              const kdc_pool_shape *s, size_t n0, size_t n1)
{
    const size_t c = s->c, in = s->h * s->w * c, out = s->oh * s->ow * c;
    if (s->kh == 2 && s->kw == 2 && s->sh == 2 && s->sw == 2 && s->pad_top == 0 &&
        s->pad_left == 0 && 2 * s->oh == s->h && 2 * s->ow == s->w) {
#ifdef KDC_X86
        if (conv_isa() >= 1) {
            pool_bwd_2x2_avx2(dx, g, argmax, y, s, n0, n1);
            return;
        }
#endif
        pool_bwd_2x2_portable(dx, g, argmax, y, s, n0, n1);
        return;
    }
    for (size_t i = n0; i < n1; i++) {
        float *d = dx + i * in;
        const float *gi = g + i * out;
        const int32_t *a = argmax + i * out;
        memset(d, 0, in * sizeof(float));
        if (y) {
            const float *yi = y + i * out;
            for (size_t j = 0; j < out; j++) d[a[j]] += yi[j] > 0.0f ? gi[j] : 0.0f;
        } else {
            for (size_t j = 0; j < out; j++) d[a[j]] += gi[j];
        }
    }
}

void kdc_relu_forward(float *restrict y, const float *restrict x, size_t n, int capped, float hi)
{
    /* Swift's max(v, 0) and min(v, hi) exactly: -0 becomes 0, NaN passes. */
    if (capped) {
        for (size_t i = 0; i < n; i++) {
            const float v = 0.0f >= x[i] ? 0.0f : x[i];
            y[i] = hi < v ? hi : v;
        }
    } else {
        for (size_t i = 0; i < n; i++) y[i] = 0.0f >= x[i] ? 0.0f : x[i];
    }
}
