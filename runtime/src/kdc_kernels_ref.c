/* kdc_kernels_ref.c - the portable reference kernels: docs/QUANTIZATION.md written as plain
 * loops, for clarity and not for speed (like the Swift int8 interpreter). They are the
 * specification: every variant (kdc_kernels_<name>.c) must give the same bytes. A kernel the
 * selected variant does not provide is compiled here under its seam name (kdc_kernels.h). */
#include "kdc_kernels.h"

/* Which reference kernels this build compiles (kdc_kernels.h, "Variants"). */
#define REF_REQUANT (!KDC__HAS_REQUANT || KDC__WITH_REF)
#define REF_FC (!KDC__HAS_FC || KDC__WITH_REF)
#define REF_CONV2D (!KDC__HAS_CONV2D || KDC__WITH_REF)
#define REF_DWCONV2D (!KDC__HAS_DWCONV2D || KDC__WITH_REF)
#define REF_MAXPOOL (!KDC__HAS_MAXPOOL || KDC__WITH_REF)
#define REF_AVGPOOL (!KDC__HAS_AVGPOOL || KDC__WITH_REF)
#define REF_GAP (!KDC__HAS_GAP || KDC__WITH_REF)
#define REF_ADD (!KDC__HAS_ADD || KDC__WITH_REF)
#define REF_CLAMP (!KDC__HAS_CLAMP || KDC__WITH_REF)
#define REF_LEAKY_RELU (!KDC__HAS_LEAKY_RELU || KDC__WITH_REF)
#define REF_SOFTMAX ((!KDC__HAS_SOFTMAX || KDC__WITH_REF) && KDC_TFLITE) /* TFLite-mode only */

/* ---- arithmetic ------------------------------------------------------- */

#if REF_REQUANT
int32_t kdc_ref_requant(int32_t acc, int32_t M, int32_t e)
{
    int64_t p = (int64_t)acc * M;             /* |p| < 2^62 */
    int r = 31 - e;                           /* 1..62 */
    int64_t half = (int64_t)1 << (r - 1);     /* round half away from zero: */
    int64_t q = p >= 0 ? (p + half) >> r      /*   on the magnitude, */
                       : -((-p + half) >> r); /* then the sign back */
    return q > INT32_MAX ? INT32_MAX : q < INT32_MIN ? INT32_MIN : (int32_t)q;
}
#endif

#if REF_FC || REF_CONV2D || REF_DWCONV2D
/* a + b modulo 2^32 (the accumulator bias + sum wraps; a valid model never does). Written
 * without the implementation-defined conversion of a uint32 above INT32_MAX to int32. */
static int32_t wrap_add(int32_t a, int32_t b)
{
    uint32_t u = (uint32_t)a + (uint32_t)b;
    return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
}

#endif

#if REF_FC || REF_CONV2D || REF_DWCONV2D || REF_ADD || REF_LEAKY_RELU
/* The int8 output: clamp(r + zy, lo, hi) of a requantized r, the sum in 64 bits. */
static int8_t outq(int32_t r, int32_t zy, int32_t lo, int32_t hi)
{
    int64_t v = (int64_t)r + zy;
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* clamp(requant(acc, M, e) + zy, lo, hi); with tflite, MultiplyByQuantizedMultiplier instead. */
KDC__SMALL static int8_t out8(int32_t acc, int32_t M, int32_t e, int32_t zy, int32_t lo, int32_t hi,
                              int32_t tflite)
{
    (void)tflite; /* unused with KDC_TFLITE 0 */
    return outq(KDC__TFL(tflite) ? kdc_tfl_mbqm(acc, M, e) : kdc_requant(acc, M, e), zy, lo, hi);
}

#endif

#if REF_MAXPOOL || REF_AVGPOOL || REF_GAP || REF_CLAMP
static int8_t clamp8(int32_t v, int32_t lo, int32_t hi)
{
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

#endif

#if REF_AVGPOOL || REF_GAP
/* round_half_away(sum / count), count >= 1, on the magnitude: a global average over 2^24 taps
 * of -128 sums to INT32_MIN, whose negation does not fit an int32 (and 32-bit division keeps
 * libgcc's 64-bit division out of the device image). */
static int32_t avg(int32_t sum, int32_t count)
{
    uint32_t mag = sum >= 0 ? (uint32_t)sum : 0u - (uint32_t)sum; /* <= 2^31 */
    int32_t q = (int32_t)((mag + (uint32_t)count / 2) / (uint32_t)count);
    return sum >= 0 ? q : -q;
}

#endif

#if REF_CONV2D || REF_DWCONV2D || REF_MAXPOOL || REF_AVGPOOL
/* Input coordinate of tap k of output o along one axis: o*stride - pad + k. Sets *i and returns
 * 1 if it lies inside [0, n); returns 0 for a tap in the padding (it contributes nothing). */
static int tap(size_t o, size_t stride, size_t pad, size_t k, size_t n, size_t *i)
{
    size_t padded = o * stride + k; /* coordinate + pad, never negative */
    if (padded < pad || padded - pad >= n) return 0;
    *i = padded - pad;
    return 1;
}
#endif

/* ---- kernels ---------------------------------------------------------- */

#if REF_FC
void kdc_ref_fc_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_fc_params *p,
                   void *scratch)
{
    size_t o, i;
    (void)scratch;
    for (o = 0; o < p->n; o++) {
        int32_t sum = 0; /* |sum| <= 65536 * 255 * 128 < 2^31 */
        int32_t acc;
        for (i = 0; i < p->k; i++) sum += (x[i] - p->zx) * c->weights[o * p->k + i];
        acc = wrap_add(c->bias[o], sum);
        /* TFLite: mult and shift hold the double scale's low and high words */
        y[o] = KDC__TFL(p->tflite)
                   ? outq(kdc_tfl_scale(acc, (uint32_t)c->mult[o], (uint32_t)c->shift[o]), p->zy,
                          p->act_min, p->act_max)
                   : out8(acc, c->mult[o], c->shift[o], p->zy, p->act_min, p->act_max, 0);
    }
}

#endif

#if REF_CONV2D
void kdc_ref_conv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *p,
                       void *scratch)
{
    size_t oy, ox, co, ky, kx, ci, iy, ix;
    (void)scratch;
    for (oy = 0; oy < p->out_h; oy++)
        for (ox = 0; ox < p->out_w; ox++)
            for (co = 0; co < p->out_c; co++) {
                int32_t sum = 0;
                for (ky = 0; ky < p->k_h; ky++) {
                    if (!tap(oy, p->stride_h, p->pad_top, ky, p->in_h, &iy)) continue;
                    for (kx = 0; kx < p->k_w; kx++) {
                        if (!tap(ox, p->stride_w, p->pad_left, kx, p->in_w, &ix)) continue;
                        for (ci = 0; ci < p->in_c; ci++)
                            sum += (x[(iy * p->in_w + ix) * p->in_c + ci] - p->zx) *
                                   c->weights[((co * p->k_h + ky) * p->k_w + kx) * p->in_c + ci];
                    }
                }
                y[(oy * p->out_w + ox) * p->out_c + co] =
                    out8(wrap_add(c->bias[co], sum), c->mult[co], c->shift[co], p->zy, p->act_min,
                         p->act_max, p->tflite);
            }
}

#endif

#if REF_DWCONV2D
void kdc_ref_dwconv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *p,
                         void *scratch)
{
    size_t oy, ox, oc, ky, kx, iy, ix;
    (void)scratch;
    for (oy = 0; oy < p->out_h; oy++)
        for (ox = 0; ox < p->out_w; ox++)
            for (oc = 0; oc < p->out_c; oc++) {
                size_t ic = oc / p->depth_mult; /* oc = ic * depth_mult + m */
                int32_t sum = 0;
                for (ky = 0; ky < p->k_h; ky++) {
                    if (!tap(oy, p->stride_h, p->pad_top, ky, p->in_h, &iy)) continue;
                    for (kx = 0; kx < p->k_w; kx++) {
                        if (!tap(ox, p->stride_w, p->pad_left, kx, p->in_w, &ix)) continue;
                        sum += (x[(iy * p->in_w + ix) * p->in_c + ic] - p->zx) *
                               c->weights[(ky * p->k_w + kx) * p->out_c + oc];
                    }
                }
                y[(oy * p->out_w + ox) * p->out_c + oc] =
                    out8(wrap_add(c->bias[oc], sum), c->mult[oc], c->shift[oc], p->zy, p->act_min,
                         p->act_max, p->tflite);
            }
}

#endif

#if REF_MAXPOOL
void kdc_ref_maxpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *p, void *scratch)
{
    size_t oy, ox, ch, ky, kx, iy, ix;
    (void)scratch;
    for (oy = 0; oy < p->out_h; oy++)
        for (ox = 0; ox < p->out_w; ox++)
            for (ch = 0; ch < p->out_c; ch++) {
                int32_t m = -128; /* every window has an in-bounds tap */
                for (ky = 0; ky < p->k_h; ky++) {
                    if (!tap(oy, p->stride_h, p->pad_top, ky, p->in_h, &iy)) continue;
                    for (kx = 0; kx < p->k_w; kx++) {
                        int32_t v;
                        if (!tap(ox, p->stride_w, p->pad_left, kx, p->in_w, &ix)) continue;
                        v = x[(iy * p->in_w + ix) * p->in_c + ch];
                        if (v > m) m = v;
                    }
                }
                y[(oy * p->out_w + ox) * p->out_c + ch] = clamp8(m, p->act_min, p->act_max);
            }
}

#endif

#if REF_AVGPOOL
void kdc_ref_avgpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *p, void *scratch)
{
    size_t oy, ox, ch, ky, kx, iy, ix;
    (void)scratch;
    for (oy = 0; oy < p->out_h; oy++)
        for (ox = 0; ox < p->out_w; ox++)
            for (ch = 0; ch < p->out_c; ch++) {
                int32_t sum = 0, count = 0; /* over the in-bounds taps only (<= 65536) */
                for (ky = 0; ky < p->k_h; ky++) {
                    if (!tap(oy, p->stride_h, p->pad_top, ky, p->in_h, &iy)) continue;
                    for (kx = 0; kx < p->k_w; kx++) {
                        if (!tap(ox, p->stride_w, p->pad_left, kx, p->in_w, &ix)) continue;
                        sum += x[(iy * p->in_w + ix) * p->in_c + ch];
                        count++;
                    }
                }
                y[(oy * p->out_w + ox) * p->out_c + ch] =
                    clamp8(avg(sum, count), p->act_min, p->act_max);
            }
}

#endif

#if REF_GAP
void kdc_ref_global_avgpool_s8(int8_t *y, const int8_t *x, const kdc_gap_params *p, void *scratch)
{
    size_t ch, i;
    (void)scratch;
    for (ch = 0; ch < p->c; ch++) {
        int32_t sum = 0; /* |sum| <= 2^24 * 128 = 2^31: INT32_MIN at most */
        for (i = 0; i < p->hw; i++) sum += x[i * p->c + ch];
        y[ch] = clamp8(avg(sum, (int32_t)p->hw), p->act_min, p->act_max);
    }
}

#endif

#if REF_ADD
void kdc_ref_add_s8(int8_t *y, const int8_t *a, const int8_t *b, const kdc_add_params *p,
                    void *scratch)
{
    size_t i;
    (void)scratch;
    for (i = 0; i < p->n; i++) {
        /* |x - z| <= 255, so (x - z) * 2^20 fits; ea, eb <= 0 keep |va|, |vb| <= 2^28 */
        int32_t sa = (a[i] - p->za) * (1 << 20), sb = (b[i] - p->zb) * (1 << 20);
        int32_t va =
            KDC__TFL(p->tflite) ? kdc_tfl_mbqm(sa, p->ma, p->ea) : kdc_requant(sa, p->ma, p->ea);
        int32_t vb =
            KDC__TFL(p->tflite) ? kdc_tfl_mbqm(sb, p->mb, p->eb) : kdc_requant(sb, p->mb, p->eb);
        y[i] = out8(va + vb, p->mo, p->eo, p->zy, p->act_min, p->act_max, p->tflite);
    }
}

#endif

#if REF_CLAMP
void kdc_ref_clamp_s8(int8_t *y, const int8_t *x, const kdc_clamp_params *p, void *scratch)
{
    size_t i;
    (void)scratch;
    for (i = 0; i < p->n; i++) y[i] = clamp8(x[i], p->act_min, p->act_max);
}

#endif

#if REF_LEAKY_RELU
void kdc_ref_leaky_relu_s8(int8_t *y, const int8_t *x, const kdc_leaky_relu_params *p,
                           void *scratch)
{
    size_t i;
    (void)scratch;
    for (i = 0; i < p->n; i++) {
        int32_t v = x[i] - p->zx; /* -255..255 */
        int neg = v < 0;          /* alpha below the zero point, the identity from it on */
        y[i] = out8(v, neg ? p->m_alpha : p->m_id, neg ? p->e_alpha : p->e_id, p->zy, p->act_min,
                    p->act_max, 0);
    }
}

#endif

#if REF_SOFTMAX
/* gemmlowp exp_on_negative_values for a <= 0 in Q5.26, result in Q0.31 (docs/QUANTIZATION.md
 * 8.4): exp on [-1/4, 0) by a Taylor polynomial around -1/8, then one multiplication by
 * exp(-2^k) per set bit k of the remaining whole quarters. */
static int32_t exp_neg(int32_t a)
{
    static const int32_t barrel[7] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535,   720401,     242};
    int32_t q = (int32_t)((uint32_t)a & 0xffffffu) - (1 << 24); /* in [-2^24, 0) */
    int32_t x = q * 32 + (1 << 28), x2, x3, x4, poly, res, rem;
    int k;
    if (a == 0) return INT32_MAX;
    x2 = kdc_tfl_srdhm(x, x);
    x3 = kdc_tfl_srdhm(x2, x);
    x4 = kdc_tfl_srdhm(x2, x2);
    poly = kdc_tfl_rdbpot(kdc_tfl_srdhm(kdc_tfl_rdbpot(x4, 2) + x3, 715827883) + x2, 1);
    res = 1895147668 + kdc_tfl_srdhm(1895147668, x + poly);
    rem = q - a; /* >= 0: the whole quarters of -a */
    for (k = 0; k < 7; k++)
        if (rem & (1 << (24 + k))) res = kdc_tfl_srdhm(res, barrel[k]);
    return res;
}

/* d * 2^left for the differences softmax keeps (|d * 2^left| <= 31 * 2^26, docs/QUANTIZATION.md
 * 8.4), without the undefined 1 << 31. */
static int32_t shl(int32_t d, int32_t left) { return (int32_t)((int64_t)d * ((int64_t)1 << left)); }

/* Saturating x * 2^s for 1 <= s <= 2. */
static int32_t sat_shl(int32_t x, int s)
{
    int64_t v = (int64_t)x * ((int64_t)1 << s);
    return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) for a in [0, 1) Q0.31, Q0.31. */
static int32_t recip1p(int32_t a)
{
    int64_t s = (int64_t)a + INT32_MAX; /* RoundingHalfSum(a, one): (a + one + 1) / 2 */
    int32_t h = (int32_t)((s + 1) >> 1), x = 1515870810 + kdc_tfl_srdhm(h, -1010580540);
    int i;
    for (i = 0; i < 3; i++) x += sat_shl(kdc_tfl_srdhm(x, (1 << 29) - kdc_tfl_srdhm(h, x)), 2);
    return sat_shl(x, 1);
}

void kdc_ref_softmax_s8(int8_t *y, const int8_t *x, const kdc_softmax_params *p, void *scratch)
{
    size_t r, i, n = p->depth;
    (void)scratch;
    for (r = 0; r < p->rows; r++, x += n, y += n) {
        int32_t max = -128, sum = 0, scale, bits;
        uint32_t u;
        int lz = 0;
        for (i = 0; i < n; i++)
            if (x[i] > max) max = x[i];
        /* |d| * 2^left <= 31 * 2^26 for d >= diff_min: no overflow */
        for (i = 0; i < n; i++) {
            int32_t d = x[i] - max;
            if (d >= p->diff_min)
                sum += kdc_tfl_rdbpot(exp_neg(kdc_tfl_srdhm(shl(d, p->left), p->m)), 12);
        }
        /* sum in [2^19, 4095 * 2^19]: the row's maximum contributes 2^19 */
        for (u = (uint32_t)sum; !(u & 0x80000000u); u <<= 1) lz++;
        bits = 12 - lz;
        scale = recip1p((int32_t)(u - 0x80000000u));
        for (i = 0; i < n; i++) {
            int32_t d = x[i] - max, v;
            if (d < p->diff_min) {
                y[i] = -128;
                continue;
            }
            v = kdc_tfl_rdbpot(kdc_tfl_srdhm(scale, exp_neg(kdc_tfl_srdhm(shl(d, p->left), p->m))),
                               bits + 23) -
                128;
            y[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        }
    }
}

#endif
