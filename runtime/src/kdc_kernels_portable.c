/* kdc_kernels_portable.c - the tuned portable C variant ("portable", the default; see
 * kdc_kernels.h): FC and conv with 16-wide dot-product blocks that compilers vectorize (with a
 * clang and a gcc form of each block), conv over a gathered window and two output pixels per
 * pass over the weights, depthwise with hoisted window ranges, the 2x2 max-pool fast path and
 * average pool over blocks of 16 channels. Byte for byte equal to the reference
 * (kdc_kernels_ref.c; tests/test_variants.c). The dsp and mve variants (kdc_kernels_dsp.c,
 * kdc_kernels_mve.c) build this file too, without its FC, conv and depthwise. */
#include "kdc_kernels.h"

#if KDC__VARIANT_PORTABLE

#include <string.h>
#if KDC__VARIANT_DSP
#include <arm_acle.h>
#endif

/* gcc -O3 would unroll the 16-wide block early and then vectorize it badly
 * (5x slower than -O2); keeping it a loop lets both levels vectorize it. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
#define KDC__KEEP_LOOP _Pragma("GCC unroll 1")
#else
#define KDC__KEEP_LOOP
#endif

/* round_half_away(p / 2^r) for |p| <= 2^62, 1 <= r <= 62, without branches:
 * for p < 0 it equals floor((p + 2^(r-1) - 1) / 2^r). Right-shifting a negative
 * number is implementation-defined in C; where it is the usual arithmetic shift
 * (a constant the compiler folds) it is used, else a 2^63 bias keeps it unsigned. */
KDC__SMALL static int64_t kdc__round_shift(int64_t p, int r)
{
    int64_t t = p + ((int64_t)1 << (r - 1)) - (p < 0);
    if (((int64_t)-1 >> 1) == -1) return t >> r;
    return (int64_t)(((uint64_t)t + 0x8000000000000000u) >> r) - ((int64_t)1 << (63 - r));
}

/* kdc_requant (kdc_kernels.h) on the rounding above: the reference ADD this variant keeps (and
 * every reference kernel of a test build) requantizes through it. */
int32_t kdc_requant(int32_t acc, int32_t M, int32_t e)
{
    int64_t q = kdc__round_shift((int64_t)acc * M, 31 - e);
    return q > INT32_MAX ? INT32_MAX : q < INT32_MIN ? INT32_MIN : (int32_t)q;
}

#if !KDC__VARIANT_DSP && !KDC__VARIANT_MVE /* FC, conv, depthwise: kdc_kernels_dsp.c, _mve.c */
/* Output zero point, clamp and arithmetic (0 kdc, 1 TFLite's MultiplyByQuantizedMultiplier,
 * 2 TFLite's double scale of FULLY_CONNECTED), passed by address: four register arguments to
 * kdc__out. */
typedef struct {
    int32_t zy, lo, hi, mode;
} kdc__oq;

/* clamp(requant(acc) + zy, lo, hi). Saturating requant to int32 first would not
 * change the result: the clamp to [lo, hi] within int8 is monotone. */
KDC__SMALL static int8_t kdc__out(int32_t acc, int32_t M, int32_t e, const kdc__oq *q)
{
    int64_t v = !KDC__TFL(q->mode) ? kdc__round_shift((int64_t)acc * M, 31 - e) /* no saturation */
                : q->mode == 1     ? kdc_tfl_mbqm(acc, M, e)
                                   : kdc_tfl_scale(acc, (uint32_t)M, (uint32_t)e);
    v += q->zy;
    v = v < q->lo ? q->lo : v;
    v = v > q->hi ? q->hi : v;
    return (int8_t)v;
}

/* sum (x[i] - zx) * w[i]; |result| < 2^31 for n <= 65536. Blocks of 16 with
 * a fixed trip count so compilers vectorize at -O2 (gcc and clang like the
 * block written differently; both forms compute the same exact sum and both
 * are exercised by `make test`). */
KDC__SMALL static int32_t kdc__dot(const int8_t *x, const int8_t *w, size_t n, int32_t zx)
{
    int32_t s = 0;
    size_t i = 0;
    int j;
#if defined(__clang__)
    int32_t lane[8] = {0};
    for (; i + 16 <= n; i += 16)
        for (j = 0; j < 8; j++)
            lane[j] += (int16_t)(x[i + 2 * j] - zx) * w[i + 2 * j] +
                       (int16_t)(x[i + 2 * j + 1] - zx) * w[i + 2 * j + 1];
    for (j = 0; j < 8; j++) s += lane[j];
#else
    for (; i + 16 <= n; i += 16) {
        int32_t t = 0;
        KDC__KEEP_LOOP
        for (j = 0; j < 16; j++) t += (int16_t)(x[i + j] - zx) * w[i + j];
        s += t;
    }
#endif
    for (; i < n; i++) s += (int32_t)(x[i] - zx) * w[i];
    return s;
}

/* bias + dot, computed modulo 2^32 (no UB even if an exporter overflows it) */
static int32_t kdc__acc(int32_t bias, int32_t dot)
{
    uint32_t u = (uint32_t)bias + (uint32_t)dot;
    return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
}

void kdc_fc_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_fc_params *p,
               void *scratch)
{
    const int8_t *w = c->weights;
    const int32_t *bias = c->bias, *mult = c->mult, *shift = c->shift;
    size_t o, k = p->k, n = p->n;
    int32_t zx = p->zx;
    kdc__oq q;
    (void)scratch;
    q.zy = p->zy, q.lo = p->act_min, q.hi = p->act_max, q.mode = KDC__TFL(p->tflite) ? 2 : 0;
    for (o = 0; o < n; o++) {
        int32_t acc = kdc__acc(bias[o], kdc__dot(x, w + o * k, k, zx));
        y[o] = kdc__out(acc, mult[o], shift[o], &q);
    }
}

#endif /* !KDC__VARIANT_DSP && !KDC__VARIANT_MVE */

/* Window of output o along one axis: in-bounds taps [lo, hi) and s, the input
 * index of tap lo. The window starts at o*stride - pad, which may be < 0. */
KDC__SMALL static void kdc__range(size_t o, size_t stride, size_t pad, size_t k, size_t n,
                                  size_t *s, size_t *lo, size_t *hi)
{
    size_t start = o * stride; /* window start + pad, never negative */
    *lo = start < pad ? pad - start : 0;
    *hi = start + k - pad > n ? n + pad - start : k;
    *s = start - pad + *lo; /* first in-bounds input index */
}

#if !KDC__VARIANT_DSP && !KDC__VARIANT_MVE
/* Two dot products sharing the weights (two output pixels, one channel):
 * s[0] = sum (a[i] - zx) * w[i], s[1] = sum (b[i] - zx) * w[i]. As in
 * kdc__dot, gcc and clang each get the block form they vectorize well; clang
 * also does better when this stays a call. */
#if defined(__clang__)
#define KDC__DOT2 __attribute__((noinline)) static
#else
#define KDC__DOT2 KDC__SMALL static
#endif
KDC__DOT2 void kdc__dot2(int32_t s[2], const int8_t *a, const int8_t *b, const int8_t *w, size_t n,
                         int32_t zx)
{
    int32_t s0 = 0, s1 = 0;
    size_t i = 0;
    int j;
#if defined(__clang__)
    int32_t la[8] = {0}, lb[8] = {0};
    for (; i + 16 <= n; i += 16) {
        for (j = 0; j < 8; j++)
            la[j] += (int16_t)(a[i + 2 * j] - zx) * w[i + 2 * j] +
                     (int16_t)(a[i + 2 * j + 1] - zx) * w[i + 2 * j + 1];
        for (j = 0; j < 8; j++)
            lb[j] += (int16_t)(b[i + 2 * j] - zx) * w[i + 2 * j] +
                     (int16_t)(b[i + 2 * j + 1] - zx) * w[i + 2 * j + 1];
    }
    for (j = 0; j < 8; j++) s0 += la[j], s1 += lb[j];
#else
    for (; i + 16 <= n; i += 16) {
        int32_t t0 = 0, t1 = 0;
        KDC__KEEP_LOOP
        for (j = 0; j < 16; j++) {
            int16_t wv = w[i + j];
            t0 += (int16_t)(a[i + j] - zx) * wv;
            t1 += (int16_t)(b[i + j] - zx) * wv;
        }
        s0 += t0;
        s1 += t1;
    }
#endif
    for (; i < n; i++) {
        s0 += (int32_t)(a[i] - zx) * w[i];
        s1 += (int32_t)(b[i] - zx) * w[i];
    }
    s[0] = s0;
    s[1] = s1;
}

/* The conv's scratch plan (kdc_conv2d_s8 follows it). padded = k_h*k_w*in_c rounded up to 16.
 * If padded > 512: no scratch, dots row by row straight from x and w. Else nwin windows of
 * padded bytes (nwin = 2, two output pixels per pass over the weights, if 2*padded <= 512,
 * else 1), then, if (nwin + 2)*padded <= 512, a weight tail of 2*padded bytes. At most 512
 * bytes; unsigned arithmetic, so any parameters give a bounded answer. */
#define KDC__CONV_SCRATCH 512u
size_t kdc_conv2d_s8_scratch_bytes(const kdc_conv_params *p)
{
    size_t padded = (p->k_h * p->k_w * p->in_c + 15) & ~(size_t)15;
    size_t nwin = 2 * padded <= KDC__CONV_SCRATCH ? 2 : 1;
    if (padded > KDC__CONV_SCRATCH) return 0;
    return nwin * padded + ((nwin + 2) * padded <= KDC__CONV_SCRATCH ? 2 * padded : 0);
}

/* Copy the window of output (oy, ox) into win[0..k_h*k_w*in_c), [ky][kx][ci]
 * order, with zx where the window leaves the input (those taps then add 0). */
static void kdc__gather(int8_t *win, const int8_t *x, const kdc_conv_params *p, size_t iy,
                        size_t ky0, size_t ky1, size_t ox)
{
    size_t ix, kx0, kx1, ky, ci = p->in_c, row = p->k_w * ci, len;
    kdc__range(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
    len = (kx1 - kx0) * ci;
    if (ky0 > 0 || ky1 < p->k_h || len < row) memset(win, (int8_t)p->zx, p->k_h * row);
    /* row pointers formed inside the loop: never past the end of x */
    for (ky = ky0; ky < ky1; ky++)
        memcpy(win + ky * row + kx0 * ci, x + ((iy + ky - ky0) * p->in_w + ix) * ci, len);
}

void kdc_conv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *pp,
                   void *scratch)
{
    const kdc_conv_params P = *pp, *p = &P; /* a local copy: stores to y cannot alias it */
    size_t oy, ox, co, ky, ci = p->in_c, wk = p->k_h * p->k_w * ci, row = p->k_w * ci;
    size_t padded = (wk + 15) & ~(size_t)15, wtotal = p->out_c * wk, cout = p->out_c, step;
    /* Fast paths (the scratch plan above): gather one window (or two, for two
     * output pixels sharing each weight load) into the scratch, padded with zx to
     * a multiple of 16, then one contiguous dot per output channel. The padding
     * lanes hold zx, so reading the next channel's weights there adds 0. */
    int gather = padded <= KDC__CONV_SCRATCH, pairs = 2 * padded <= KDC__CONV_SCRATCH;
    size_t nwin = pairs ? 2 : 1, tail = wtotal;
    int8_t *win = (int8_t *)scratch, *wtail = win;
    kdc__oq q;
    q.zy = p->zy, q.lo = p->act_min, q.hi = p->act_max, q.mode = KDC__TFL(p->tflite) ? 1 : 0;
    if (gather) memset(win, (int8_t)p->zx, nwin * padded);
    /* The last channels cannot read `padded` weights in place (that would pass
     * the end of w): copy the last min(wtotal, padded) weight bytes, zero padded,
     * after the windows when there is room, so they too take the padded dot. */
    if (gather && (nwin + 2) * padded <= KDC__CONV_SCRATCH) {
        size_t tl = wtotal < padded ? wtotal : padded;
        wtail = win + nwin * padded;
        tail = wtotal - tl;
        memset(wtail, 0, 2 * padded);
        memcpy(wtail, c->weights + tail, tl);
    }
    for (oy = 0; oy < p->out_h; oy++) {
        size_t iy, ky0, ky1;
        kdc__range(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
        for (ox = 0; ox < p->out_w; ox += step) {
            step = pairs && ox + 1 < p->out_w ? 2 : 1;
            if (gather) kdc__gather(win, x, p, iy, ky0, ky1, ox);
            if (step == 2) kdc__gather(win + padded, x, p, iy, ky0, ky1, ox + 1);
            for (co = 0; co < cout; co++) {
                const int8_t *wc = c->weights + co * wk;
                size_t n = padded;
                int32_t s[2] = {0, 0};
                if (co * wk + padded > wtotal) {
                    if (tail < wtotal)
                        wc = wtail + (co * wk - tail); /* co * wk > tail here */
                    else
                        n = wk;
                }
                if (step == 2) {
                    kdc__dot2(s, win, win + padded, wc, n, p->zx);
                    y[cout + co] =
                        kdc__out(kdc__acc(c->bias[co], s[1]), c->mult[co], c->shift[co], &q);
                } else if (gather) {
                    s[0] = kdc__dot(win, wc, n, p->zx);
                } else { /* window larger than the scratch plan: row by row */
                    size_t ix, kx0, kx1;
                    kdc__range(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
                    for (ky = ky0; ky < ky1; ky++)
                        s[0] += kdc__dot(x + ((iy + ky - ky0) * p->in_w + ix) * ci,
                                         wc + ky * row + kx0 * ci, (kx1 - kx0) * ci, p->zx);
                }
                y[co] = kdc__out(kdc__acc(c->bias[co], s[0]), c->mult[co], c->shift[co], &q);
            }
            y += step * cout;
        }
    }
}

void kdc_dwconv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *pp,
                     void *scratch)
{
    const kdc_conv_params P = *pp, *p = &P; /* a local copy: stores to y cannot alias it */
    const int8_t *w = c->weights;
    const int32_t *bias = c->bias, *mult = c->mult, *shift = c->shift;
    size_t oy, ox, oc, ky, kx, cin = p->in_c, cout = p->out_c;
    kdc__oq q;
    (void)scratch;
    q.zy = p->zy, q.lo = p->act_min, q.hi = p->act_max, q.mode = KDC__TFL(p->tflite) ? 1 : 0;
    for (oy = 0; oy < p->out_h; oy++) {
        size_t iy, ky0, ky1;
        kdc__range(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
        for (ox = 0; ox < p->out_w; ox++) {
            size_t ix, kx0, kx1, ic = 0, m = 0;
            kdc__range(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
            for (oc = 0; oc < cout; oc++) {
                const int8_t *xc = x + (iy * p->in_w + ix) * cin + ic;
                int32_t s = 0;
                for (ky = ky0; ky < ky1; ky++) {
                    const int8_t *xr = xc + (ky - ky0) * p->in_w * cin;
                    const int8_t *wr = w + (ky * p->k_w + kx0) * cout + oc;
                    for (kx = 0; kx < kx1 - kx0; kx++)
                        s += (int32_t)(xr[kx * cin] - p->zx) * wr[kx * cout];
                }
                *y++ = kdc__out(kdc__acc(bias[oc], s), mult[oc], shift[oc], &q);
                if (++m == p->depth_mult) m = 0, ic++; /* oc = ic * depth_mult + m */
            }
        }
    }
}

#endif /* !KDC__VARIANT_DSP && !KDC__VARIANT_MVE */

static int8_t kdc__clamp8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* round_half_away(sum / count), count >= 1. The magnitude is taken unsigned:
 * a global average pool over 2^24 taps of -128 sums to INT32_MIN, whose
 * negation (and -sum + count / 2 near it) overflows int32. */
static int32_t kdc__avg(int32_t sum, int32_t count)
{
    uint32_t mag = sum >= 0 ? (uint32_t)sum : 0u - (uint32_t)sum;         /* <= 2^31 */
    int32_t q = (int32_t)((mag + (uint32_t)count / 2) / (uint32_t)count); /* <= 128 */
    return sum >= 0 ? q : -q;
}

/* Average pool. Channels innermost (contiguous). */
void kdc_avgpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *pp, void *scratch)
{
    const kdc_conv_params P = *pp, *p = &P; /* a local copy: stores to y cannot alias it */
    size_t oy, ox, c, ky, kx, cin = p->in_c;
    int32_t acc[16];
    (void)scratch;
    for (oy = 0; oy < p->out_h; oy++) {
        size_t iy, ky0, ky1;
        kdc__range(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
        for (ox = 0; ox < p->out_w; ox++) {
            size_t ix, kx0, kx1, c0;
            int32_t count;
            kdc__range(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
            count = (int32_t)((ky1 - ky0) * (kx1 - kx0));
            for (c0 = 0; c0 < cin; c0 += 16) { /* blocks of up to 16 channels */
                size_t nc = cin - c0 < 16 ? cin - c0 : 16;
                for (c = 0; c < nc; c++) acc[c] = 0;
                for (ky = 0; ky < ky1 - ky0; ky++)
                    for (kx = 0; kx < kx1 - kx0; kx++) {
                        const int8_t *xc = x + ((iy + ky) * p->in_w + ix + kx) * cin + c0;
                        for (c = 0; c < nc; c++) acc[c] += xc[c];
                    }
                for (c = 0; c < nc; c++)
                    *y++ = kdc__clamp8(kdc__avg(acc[c], count), p->act_min, p->act_max);
            }
        }
    }
}

void kdc_maxpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *pp, void *scratch)
{
    /* Channels outside, taps inside: the running maximum stays in a register (one load and
     * one compare per tap on Cortex-M), and the 2x2 window of the common case unrolls. */
    const kdc_conv_params P = *pp, *p = &P; /* a local copy: stores to y cannot alias it */
    size_t oy, ox, c, ky, kx, cin = p->in_c, rowstep = p->in_w * cin;
    const int8_t lo = (int8_t)p->act_min, hi = (int8_t)p->act_max;
    (void)scratch;
    for (oy = 0; oy < p->out_h; oy++) {
        size_t iy, ky0, ky1;
        kdc__range(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
        for (ox = 0; ox < p->out_w; ox++) {
            size_t ix, kx0, kx1, nky, nkx;
            const int8_t *x0;
            kdc__range(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
            nky = ky1 - ky0, nkx = kx1 - kx0;
            x0 = x + (iy * p->in_w + ix) * cin;
            if (nky == 2 && nkx == 2) { /* the common 2x2 window, fully inside the input */
                const int8_t *x1 = x0 + rowstep;
                c = 0;
#if KDC__VARIANT_DSP /* four channels per word: SSUB8 sets each byte's GE flag where a >= b, SEL   \
                        picks */
                for (; c + 4 <= cin; c += 4) {
                    uint32_t a, b, d, m, l = (uint8_t)lo * 0x01010101u,
                                         h = (uint8_t)hi * 0x01010101u;
                    memcpy(&a, x0 + c, 4), memcpy(&b, x0 + c + cin, 4);
                    (void)__ssub8(a, b), m = __sel(a, b);
                    memcpy(&a, x1 + c, 4), memcpy(&b, x1 + c + cin, 4);
                    (void)__ssub8(a, b), d = __sel(a, b);
                    (void)__ssub8(m, d), m = __sel(m, d);
                    (void)__ssub8(m, l), m = __sel(m, l); /* max(m, lo) */
                    (void)__ssub8(h, m), m = __sel(m, h); /* min(m, hi) */
                    memcpy(y + c, &m, 4);
                }
#endif
                for (; c < cin; c++) {
                    int8_t a = x0[c] > x0[c + cin] ? x0[c] : x0[c + cin];
                    int8_t b = x1[c] > x1[c + cin] ? x1[c] : x1[c + cin];
                    int8_t m = a > b ? a : b;
                    y[c] = m < lo ? lo : m > hi ? hi : m;
                }
                y += cin;
                continue;
            }
            for (c = 0; c < cin; c++) {
                const int8_t *xr = x0 + c;
                int8_t m = -128;
                for (ky = 0; ky < nky; ky++, xr += rowstep) {
                    const int8_t *xk = xr;
                    for (kx = 0; kx < nkx; kx++, xk += cin) m = *xk > m ? *xk : m;
                }
                *y++ = m < lo ? lo : m > hi ? hi : m;
            }
        }
    }
}

#else
typedef int kdc__portable_not_selected; /* ISO C forbids an empty translation unit */
#endif /* KDC__VARIANT_PORTABLE */
