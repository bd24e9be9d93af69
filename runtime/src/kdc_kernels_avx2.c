/* kdc_kernels_avx2.c - the x86-64 AVX2 variant ("avx2", host only; chosen where __AVX2__ is
 * defined, e.g. cc -mavx2, or with -DKDC_KERNELS_AVX2; -DKDC_KERNELS_PORTABLE keeps the portable
 * variant; see kdc_kernels.h): FC over four weight rows per pass, conv (pointwise 1x1 included)
 * over an int16 im2col of two output pixels in the scratch with 4-channel x 2-pixel blocks of
 * _mm256_madd_epi16, depthwise over 16 channels per vector, max pool over 32/16/8 channels per
 * vector, average pool over 8, and the requantization of both arithmetics on eight lanes at
 * once; where the CPU has AVX-512 VNNI, conv, depthwise and max pool take the AVX-512 paths of
 * the section "AVX-512 VNNI" below (chosen at run time). Everything else (global average pool,
 * ADD, CLAMP, LEAKY_RELU, SOFTMAX, kdc_requant) is the reference kernel. Byte for byte equal to
 * the reference (kdc_kernels_ref.c; tests/test_variants.c).
 *
 * Exactness. Products: (x - zx) is in [-255, 255] and a weight in [-128, 127], so an int16 pair
 * sum of _mm256_madd_epi16 is at most 2 * 32640 and every partial sum is the reference's int32
 * sum (which cannot overflow for k <= 65536); the bias is added modulo 2^32 like the reference's
 * wrap_add. Requantization (rq8_prep / rq8_apply below) computes the reference's formulas in
 * 64-bit lanes (kdc's on the magnitude, TFLite's srdhm as one floor) and caps the result at
 * +-1024 before the zero point: the int8 clamp that follows is monotone, so the cap changes no
 * output byte. FC in TFLite arithmetic (the double scale) stays scalar: kdc_tfl_scale. Channel
 * tails, depth multipliers above 1 and windows past the scratch plan take scalar loops with the
 * seam's kdc_requant / kdc_tfl_mbqm. */
#include "kdc_kernels.h"

#if KDC__VARIANT_AVX2

#include <immintrin.h>
#include <string.h>

/* The output stage is inlined into each kernel's loop (gcc -O2 would call it). */
#if defined(__GNUC__)
#define AVX2_INLINE __attribute__((always_inline)) inline
#else
#define AVX2_INLINE
#endif

/* ---- requantization, eight lanes ----------------------------------------------------------- */

/* Low 32 bits of each 64-bit lane of even lanes from `ev` and odd lanes from `od`. */
static __m256i join64(__m256i ev, __m256i od)
{
    return _mm256_blend_epi32(ev, _mm256_slli_epi64(od, 32), 0xaa);
}

/* The per-channel part of an output stage (from M and e alone), computed once per channel
 * block where a kernel can. kdc: s0, s1 = r = 31 - e of the even and odd lanes as 64-bit
 * counts, s2, s3 = 2^(r-1) of them. TFLite: s0 = max(e, 0) (left), s1 = max(-e, 0) (right),
 * s2 = 2^right - 1 (mask), s3 = mask >> 1. */
typedef struct {
    __m256i m, s0, s1, s2, s3;
} rq8;

AVX2_INLINE static rq8 rq8_prep(__m256i m, __m256i e, int tflite)
{
    rq8 r;
    r.m = m;
    if (tflite) {
        r.s0 = _mm256_max_epi32(e, _mm256_setzero_si256());
        r.s1 = _mm256_sub_epi32(r.s0, e);
        r.s2 =
            _mm256_sub_epi32(_mm256_sllv_epi32(_mm256_set1_epi32(1), r.s1), _mm256_set1_epi32(1));
        r.s3 = _mm256_srli_epi32(r.s2, 1);
    } else {
        const __m256i one = _mm256_set1_epi64x(1);
        __m256i rr = _mm256_sub_epi32(_mm256_set1_epi32(31), e);
        r.s0 = _mm256_and_si256(rr, _mm256_set1_epi64x(0xffffffff));
        r.s1 = _mm256_srli_epi64(rr, 32);
        r.s2 = _mm256_sllv_epi64(one, _mm256_sub_epi64(r.s0, one));
        r.s3 = _mm256_sllv_epi64(one, _mm256_sub_epi64(r.s1, one));
    }
    return r;
}

/* kdc's requant (docs/QUANTIZATION.md 4) of acc with (M, e), capped at +-1024:
 * sign(acc) * min(round_half_away(|acc| * M / 2^r), 1024), r = 31 - e in [1, 62]. */
AVX2_INLINE static __m256i req_kdc(__m256i acc, const rq8 *r)
{
    const __m256i cap = _mm256_set1_epi64x(1024);
    __m256i a = _mm256_abs_epi32(acc);        /* INT32_MIN -> 2^31 read unsigned: its magnitude */
    __m256i p_ev = _mm256_mul_epu32(a, r->m); /* |acc| * M < 2^62 */
    __m256i p_od = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(r->m, 32));
    __m256i q_ev = _mm256_srlv_epi64(_mm256_add_epi64(p_ev, r->s2), r->s0);
    __m256i q_od = _mm256_srlv_epi64(_mm256_add_epi64(p_od, r->s3), r->s1);
    q_ev = _mm256_blendv_epi8(q_ev, cap, _mm256_cmpgt_epi64(q_ev, cap));
    q_od = _mm256_blendv_epi8(q_od, cap, _mm256_cmpgt_epi64(q_od, cap));
    return _mm256_sign_epi32(join64(q_ev, q_od), acc); /* acc == 0 gives q == 0 anyway */
}

/* TFLite's MultiplyByQuantizedMultiplier (kdc_tfl_mbqm): rdbpot(srdhm(x << max(e, 0), M),
 * max(-e, 0)), the left shift wrapping modulo 2^32. M is never INT32_MIN, so srdhm does not
 * saturate, and then srdhm(a, M) = floor((a*M + 2^30) / 2^31) for every a: gemmlowp's nudge of
 * 1 - 2^30 for a negative product, then truncation toward zero, is ceil((a*M + 1 - 2^30) / 2^31)
 * = floor((a*M + 2^30) / 2^31). The result fits 32 bits, which are bits 31..62 of the sum: a
 * logical 64-bit shift gives them too (AVX2 has no arithmetic one). */
AVX2_INLINE static __m256i req_tfl(__m256i acc, const rq8 *r)
{
    const __m256i zero = _mm256_setzero_si256(), nudge = _mm256_set1_epi64x((int64_t)1 << 30);
    __m256i xs = _mm256_sllv_epi32(acc, r->s0);
    __m256i p_ev = _mm256_add_epi64(_mm256_mul_epi32(xs, r->m), nudge);
    __m256i p_od = _mm256_add_epi64(
        _mm256_mul_epi32(_mm256_srli_epi64(xs, 32), _mm256_srli_epi64(r->m, 32)), nudge);
    __m256i v = join64(_mm256_srli_epi64(p_ev, 31), _mm256_srli_epi64(p_od, 31));
    /* rdbpot(v, right): floor(v / 2^right) + (rem > (mask >> 1) + [v < 0]) */
    __m256i rem = _mm256_and_si256(v, r->s2);
    __m256i thr = _mm256_sub_epi32(r->s3, _mm256_cmpgt_epi32(zero, v));
    v = _mm256_sub_epi32(_mm256_srav_epi32(v, r->s1), _mm256_cmpgt_epi32(rem, thr));
    return _mm256_min_epi32(_mm256_max_epi32(v, _mm256_set1_epi32(-1024)), _mm256_set1_epi32(1024));
}

/* Output stage: clamp(requant(acc) + zy, lo, hi) on eight lanes, int32 results. */
typedef struct {
    __m256i zy, lo, hi;
    int tflite;
} oq8;

static oq8 oq8_make(int32_t zy, int32_t lo, int32_t hi, int32_t tflite)
{
    oq8 q;
    q.zy = _mm256_set1_epi32(zy), q.lo = _mm256_set1_epi32(lo), q.hi = _mm256_set1_epi32(hi);
    (void)tflite; /* unused with KDC_TFLITE 0 */
    q.tflite = KDC__TFL(tflite) ? 1 : 0;
    return q;
}

AVX2_INLINE static __m256i rq8_apply(__m256i acc, const rq8 *r, const oq8 *q)
{
    __m256i v = q->tflite ? req_tfl(acc, r) : req_kdc(acc, r);
    v = _mm256_add_epi32(v, q->zy);
    return _mm256_min_epi32(_mm256_max_epi32(v, q->lo), q->hi);
}

AVX2_INLINE static __m256i req8(__m256i acc, __m256i m, __m256i e, const oq8 *q)
{
    rq8 r = rq8_prep(m, e, q->tflite);
    return rq8_apply(acc, &r, q);
}

/* Eight int32 lanes already within int8: the low byte of lanes 0-3 to a, of 4-7 to b. */
static void store4x2(int8_t *a, int8_t *b, __m256i v)
{
    __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(v, v), v);
    int32_t lo = _mm_cvtsi128_si32(_mm256_castsi256_si128(p)),
            hi = _mm_cvtsi128_si32(_mm256_extracti128_si256(p, 1));
    memcpy(a, &lo, 4);
    memcpy(b, &hi, 4);
}

/* One output, scalar: the reference's out8 (kdc_requant or kdc_tfl_mbqm). */
static int8_t out1(int32_t acc, int32_t m, int32_t e, int32_t zy, int32_t lo, int32_t hi,
                   int32_t tflite)
{
    int64_t v;
    (void)tflite; /* unused with KDC_TFLITE 0 */
    v = (int64_t)(KDC__TFL(tflite) ? kdc_tfl_mbqm(acc, m, e) : kdc_requant(acc, m, e)) + zy;
    return (int8_t)(v < lo ? lo : v > hi ? hi : v);
}

/* ---- dot products --------------------------------------------------------------------------- */

/* Sum of the eight int32 lanes. */
static int32_t hsum1(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
}

/* The lane sums of a..h as one vector [sum a, sum b, ..., sum h]. */
static __m256i hsum8(__m256i a, __m256i b, __m256i c, __m256i d, __m256i e, __m256i f, __m256i g,
                     __m256i h)
{
    __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    __m256i efgh = _mm256_hadd_epi32(_mm256_hadd_epi32(e, f), _mm256_hadd_epi32(g, h));
    return _mm256_add_epi32(_mm256_permute2x128_si256(abcd, efgh, 0x20),
                            _mm256_permute2x128_si256(abcd, efgh, 0x31));
}

/* sum (x[i] - zx) * w[i] over n bytes: 16 at a time, then the tail one by one (no read past n). */
static int32_t dot_s8(const int8_t *x, const int8_t *w, size_t n, int32_t zx)
{
    __m256i acc = _mm256_setzero_si256(), z = _mm256_set1_epi16((int16_t)zx);
    size_t i = 0;
    int32_t s;
    for (; i + 16 <= n; i += 16) {
        __m256i xv =
            _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + i))), z);
        __m256i wv = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(w + i)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xv, wv));
    }
    s = hsum1(acc);
    for (; i < n; i++) s += (int32_t)(x[i] - zx) * w[i];
    return s;
}

/* bias + dot modulo 2^32 (the reference's wrap_add) */
static int32_t wrap_add(int32_t a, int32_t b)
{
    uint32_t u = (uint32_t)a + (uint32_t)b;
    return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
}

/* ---- fully connected ------------------------------------------------------------------------ */

static int8_t fc_out(int32_t acc, const kdc_consts *c, size_t o, const kdc_fc_params *p)
{
    if (KDC__TFL(p->tflite)) {
        int64_t v =
            (int64_t)kdc_tfl_scale(acc, (uint32_t)c->mult[o], (uint32_t)c->shift[o]) + p->zy;
        return (int8_t)(v < p->act_min ? p->act_min : v > p->act_max ? p->act_max : v);
    }
    return out1(acc, c->mult[o], c->shift[o], p->zy, p->act_min, p->act_max, 0);
}

void kdc_fc_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_fc_params *p,
               void *scratch)
{
    size_t o = 0, k = p->k, n = p->n, i;
    const int8_t *w = c->weights;
    const __m256i z = _mm256_set1_epi16((int16_t)p->zx);
    (void)scratch;
    for (; o + 4 <= n; o += 4) { /* four rows per pass: each x block widened once */
        const int8_t *w0 = w + o * k, *w1 = w0 + k, *w2 = w1 + k, *w3 = w2 + k;
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, s;
        int32_t t[8], r;
        for (i = 0; i + 16 <= k; i += 16) {
            __m256i xv = _mm256_sub_epi16(
                _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(x + i))), z);
            a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(xv, _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                                (const __m128i *)(w0 + i)))));
            a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(xv, _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                                (const __m128i *)(w1 + i)))));
            a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(xv, _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                                (const __m128i *)(w2 + i)))));
            a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(xv, _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                                (const __m128i *)(w3 + i)))));
        }
        s = hsum8(a0, a1, a2, a3, a0, a1, a2, a3);
        _mm256_storeu_si256((__m256i *)t, s);
        for (r = 0; r < 4; r++) {
            const int8_t *wr = w0 + (size_t)r * k;
            int32_t sum = t[r];
            size_t j;
            for (j = i; j < k; j++) sum += (int32_t)(x[j] - p->zx) * wr[j];
            y[o + (size_t)r] = fc_out(wrap_add(c->bias[o + (size_t)r], sum), c, o + (size_t)r, p);
        }
    }
    for (; o < n; o++) y[o] = fc_out(wrap_add(c->bias[o], dot_s8(x, w + o * k, k, p->zx)), c, o, p);
}

/* ---- convolution ---------------------------------------------------------------------------- */

/* The scratch plan: K = k_h*k_w*in_c, K2 and K16 = K rounded up to 2 and to 16.
 * - "lanes" (32*K2 + 8*K16 <= KDC__SCRATCH_BOUND, i.e. K up to about 100): the weights of 16
 *   output channels as int16 pairs, [K2/2][16 channels][2] (32*K2 bytes), then four int16
 *   im2col windows of K16 values (8*K16): channels in the lanes, 4 pixels x 16 channels per
 *   pass, no horizontal sums.
 * - "pairs" (else, 4*K16 <= bound): two int16 windows, 4 channels x 2 pixels of horizontal dot
 *   products; else one window (2*K16 <= bound); else none (dots row by row from x and w). */
#define AVX2_CONV_MAX 4096u
static size_t lanes_bytes(size_t k)
{
    return 32 * ((k + 1) & ~(size_t)1) + 8 * ((k + 15) & ~(size_t)15);
}
static size_t avx2_conv_bytes(size_t k)
{
    size_t k16 = (k + 15) & ~(size_t)15;
    if (lanes_bytes(k) <= AVX2_CONV_MAX) return lanes_bytes(k);
    return 4 * k16 <= AVX2_CONV_MAX ? 4 * k16 : 2 * k16 <= AVX2_CONV_MAX ? 2 * k16 : 0;
}
#define VN_NP 8
/* The AVX-512 VNNI plans of conv (conv_vnni below). "image": the input region the windows cover,
 * (Hp = (out_h-1)*stride_h + k_h) x (Wp = (out_w-1)*stride_w + k_w) pixels, copied once as bytes x
 * + 128 with zx + 128 in the padding; each window row (k_w*in_c bytes) read in place as R4 =
 * round_up(k_w*in_c, 4) bytes (the bytes past the row meet zero weights), so no window is gathered;
 * 64 bytes of slack. Scratch: 4*C16 + k_h*R4*C16 + Hp*Wp*in_c + 64. "windows" (when that exceeds
 * the bound): the weights as one row of K4 = round_up(K, 4) and VN_NP gathered windows of K4 bytes:
 * 4*C16 + K4*C16 + VN_NP*K4 + 64. 0: neither fits KDC__SCRATCH_BOUND. */
static size_t vn_image_bytes(const kdc_conv_params *p)
{
    const size_t B = KDC__SCRATCH_BOUND;
    size_t c16, r4, hp, wp;
    if (p->out_c > B || p->k_h > B || p->k_w > B || p->in_c > B || p->out_h > B || p->out_w > B ||
        p->stride_h > B || p->stride_w > B || p->k_w * p->in_c > B)
        return 0;
    c16 = (p->out_c + 15) & ~(size_t)15, r4 = (p->k_w * p->in_c + 3) & ~(size_t)3;
    hp = (p->out_h - 1) * p->stride_h + p->k_h, wp = (p->out_w - 1) * p->stride_w + p->k_w;
    if (p->out_c < 1 || p->out_h < 1 || p->out_w < 1 || hp > B || wp > B || hp * wp > B ||
        hp * wp * p->in_c > B || p->k_h * r4 > B || p->k_h * r4 * c16 > B)
        return 0;
    return 4 * c16 + p->k_h * r4 * c16 + hp * wp * p->in_c + 64 <= B
               ? 4 * c16 + p->k_h * r4 * c16 + hp * wp * p->in_c + 64
               : 0;
}
static size_t vn_windows_bytes(size_t k, size_t cout)
{
    size_t k4 = (k + 3) & ~(size_t)3, c16 = (cout + 15) & ~(size_t)15, v;
    if (cout < 1 || cout > KDC__SCRATCH_BOUND || k > KDC__SCRATCH_BOUND) return 0;
    v = 4 * c16 + k4 * c16 + VN_NP * k4 + 64;
    return v <= KDC__SCRATCH_BOUND ? v : 0;
}

/* The larger of the AVX2 plan and the VNNI one (kdc_conv2d_s8 below): the same on every CPU
 * (the arena does not depend on the CPU). */
size_t kdc_conv2d_s8_scratch_bytes(const kdc_conv_params *p)
{
    size_t k, a, v;
    if (p->k_h > 65536 || p->k_w > 65536 || p->in_c > 65536) return 0; /* unvalidated: no wrap */
    k = p->k_h * p->k_w * p->in_c;
    a = avx2_conv_bytes(k), v = vn_image_bytes(p);
    if (v == 0) v = vn_windows_bytes(k, p->out_c);
    return a > v ? a : v;
}

/* In-bounds taps [lo, hi) of output o along one axis and s, the input index of tap lo. */
static void range1(size_t o, size_t stride, size_t pad, size_t k, size_t n, size_t *s, size_t *lo,
                   size_t *hi)
{
    size_t start = o * stride; /* window start + pad, never negative */
    *lo = start < pad ? pad - start : 0;
    *hi = start + k - pad > n ? n + pad - start : k;
    *s = start - pad + *lo;
}

/* The window of output pixel (oy, ox) as int16 (x - zx), [ky][kx][ci] order, zero where it
 * leaves the input and from K to K16: win is k16 int16 values at any byte address. */
static void gather16(unsigned char *win, const int8_t *x, const kdc_conv_params *p, size_t oy,
                     size_t ox, size_t k16)
{
    size_t iy, ky0, ky1, ix, kx0, kx1, ky, ci = p->in_c, row = p->k_w * ci, len, j;
    const __m256i z = _mm256_set1_epi16((int16_t)p->zx);
    range1(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
    range1(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
    len = (kx1 - kx0) * ci;
    /* zeros (vector stores, k16 a multiple of 16): the whole window if it leaves the input, else
     * the last 16 lanes, which hold the lanes from K to K16 (the rows then overwrite the rest) */
    if (ky0 > 0 || ky1 < p->k_h || len < row) {
        for (j = 0; j < k16; j += 16)
            _mm256_storeu_si256((__m256i *)(win + 2 * j), _mm256_setzero_si256());
    } else if (k16 > p->k_h * row) {
        _mm256_storeu_si256((__m256i *)(win + 2 * (k16 - 16)), _mm256_setzero_si256());
    }
    for (ky = ky0; ky < ky1; ky++) {
        const int8_t *src = x + ((iy + ky - ky0) * p->in_w + ix) * ci;
        unsigned char *dst = win + 2 * (ky * row + kx0 * ci);
        for (j = 0; j + 16 <= len; j += 16)
            _mm256_storeu_si256(
                (__m256i *)(dst + 2 * j),
                _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + j))),
                                 z));
        if (j + 8 <= len) { /* 8 more, inside the row */
            _mm_storeu_si128(
                (__m128i *)(dst + 2 * j),
                _mm_sub_epi16(_mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(src + j))),
                              _mm256_castsi256_si128(z)));
            j += 8;
        }
        for (; j < len; j++) {
            int16_t v = (int16_t)(src[j] - p->zx);
            memcpy(dst + 2 * j, &v, 2);
        }
    }
}

/* n bytes of src as int16 (src - zx) at dst, zero from n to n16 (a multiple of 16, > n - 16). */
static void widen16(unsigned char *dst, const int8_t *src, size_t n, size_t n16, int32_t zx)
{
    const __m256i z = _mm256_set1_epi16((int16_t)zx);
    size_t j;
    if (n16 > n) _mm256_storeu_si256((__m256i *)(dst + 2 * (n16 - 16)), _mm256_setzero_si256());
    for (j = 0; j + 16 <= n; j += 16)
        _mm256_storeu_si256(
            (__m256i *)(dst + 2 * j),
            _mm256_sub_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(src + j))), z));
    for (; j < n; j++) {
        int16_t v = (int16_t)(src[j] - zx);
        memcpy(dst + 2 * j, &v, 2);
    }
}

/* 16 weights at w widened; `avail` bytes from w to the end of the weights: fewer than 16 are
 * copied (the lanes past them meet window lanes that are 0). */
static __m256i wload(const int8_t *w, size_t avail)
{
    int8_t t[16];
    if (avail >= 16) return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w));
    memset(t, 0, sizeof t);
    memcpy(t, w, avail);
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)t));
}

#define MADD(acc, xv, wv) acc = _mm256_add_epi32(acc, _mm256_madd_epi16(xv, wv))

/* Two pixels' windows (w0, w1: k16 int16 each) against channels [co, co+4): the eight sums
 * [w0.c0 .. w0.c3, w1.c0 .. w1.c3]. */
static __m256i block4x2(const unsigned char *w0, const unsigned char *w1, const int8_t *wc,
                        size_t k, size_t k16, size_t wleft)
{
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0,
            b3 = a0;
    size_t j, last = k16 - 16;
    for (j = 0; j < last; j += 16) { /* every block but the last lies inside each channel's K */
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(w0 + 2 * j));
        __m256i x1 = _mm256_loadu_si256((const __m256i *)(w1 + 2 * j));
        __m256i v0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wc + j)));
        __m256i v1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wc + k + j)));
        __m256i v2 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wc + 2 * k + j)));
        __m256i v3 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wc + 3 * k + j)));
        MADD(a0, x0, v0), MADD(a1, x0, v1), MADD(a2, x0, v2), MADD(a3, x0, v3);
        MADD(b0, x1, v0), MADD(b1, x1, v1), MADD(b2, x1, v2), MADD(b3, x1, v3);
    }
    {
        __m256i x0 = _mm256_loadu_si256((const __m256i *)(w0 + 2 * j));
        __m256i x1 = _mm256_loadu_si256((const __m256i *)(w1 + 2 * j));
        __m256i v0 = wload(wc + j, wleft - j), v1 = wload(wc + k + j, wleft - k - j);
        __m256i v2 = wload(wc + 2 * k + j, wleft - 2 * k - j),
                v3 = wload(wc + 3 * k + j, wleft - 3 * k - j);
        MADD(a0, x0, v0), MADD(a1, x0, v1), MADD(a2, x0, v2), MADD(a3, x0, v3);
        MADD(b0, x1, v0), MADD(b1, x1, v1), MADD(b2, x1, v2), MADD(b3, x1, v3);
    }
    return hsum8(a0, a1, a2, a3, b0, b1, b2, b3);
}

/* One window against one channel. */
static int32_t dot16(const unsigned char *win, const int8_t *wc, size_t k16, size_t wleft)
{
    __m256i a = _mm256_setzero_si256();
    size_t j;
    for (j = 0; j < k16; j += 16) {
        __m256i v = j + 16 < k16 ? _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(wc + j)))
                                 : wload(wc + j, wleft - j);
        MADD(a, _mm256_loadu_si256((const __m256i *)(win + 2 * j)), v);
    }
    return hsum1(a);
}

/* Windows larger than the scratch plan: per pixel and channel, dots row by row from x and w. */
static void conv_direct(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *p)
{
    size_t oy, ox, co, ky, ci = p->in_c, wk = p->k_h * p->k_w * ci, row = p->k_w * ci;
    for (oy = 0; oy < p->out_h; oy++) {
        size_t iy, ky0, ky1;
        range1(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
        for (ox = 0; ox < p->out_w; ox++) {
            size_t ix, kx0, kx1;
            range1(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
            for (co = 0; co < p->out_c; co++) {
                int32_t s = 0;
                for (ky = ky0; ky < ky1; ky++)
                    s +=
                        dot_s8(x + ((iy + ky - ky0) * p->in_w + ix) * ci,
                               c->weights + co * wk + ky * row + kx0 * ci, (kx1 - kx0) * ci, p->zx);
                *y++ = out1(wrap_add(c->bias[co], s), c->mult[co], c->shift[co], p->zy, p->act_min,
                            p->act_max, p->tflite);
            }
        }
    }
}

/* Eight int32 lanes within int8 each (a: channels 0-7, b: 8-15) as 16 bytes in channel order. */
static __m128i pack16(__m256i a, __m256i b)
{
    __m256i p =
        _mm256_packs_epi16(_mm256_packs_epi32(a, b), a); /* dwords: a0-3 b0-3 . . | a4-7 b4-7 */
    return _mm256_castsi256_si128(
        _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0)));
}

/* The "lanes" plan: per block of 16 output channels, their weights rearranged into the scratch
 * as int16 pairs (2j, 2j+1) per channel, zero past K and past out_c; then per group of 4 output
 * pixels, their windows gathered after the weights and, for each pair j, the window's pair
 * broadcast to every lane times the block's weights (_mm256_madd_epi16): 16 channels x 4
 * pixels of exact int32 sums, requantized 8 channels at a time. */
static void conv_lanes(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *p,
                       unsigned char *scratch)
{
    size_t k = p->k_h * p->k_w * p->in_c, k2 = (k + 1) & ~(size_t)1, k16 = (k + 15) & ~(size_t)15;
    size_t pairs = k2 / 2, cout = p->out_c, npix = p->out_h * p->out_w, cb, pix, j, i, g;
    unsigned char *wa = scratch, *win = scratch + 32 * k2;
    int flat = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
               p->pad_top == 0 && p->pad_left == 0 && p->out_w == p->in_w;
    oq8 q = oq8_make(p->zy, p->act_min, p->act_max, p->tflite);
    for (cb = 0; cb < cout; cb += 16) {
        size_t nb = cout - cb < 16 ? cout - cb : 16;
        int32_t b[16], m[16], e[16];
        rq8 rlo, rhi;
        for (i = 0; i < 16; i++) { /* lanes past out_c: M = 0, computed and not stored */
            b[i] = i < nb ? c->bias[cb + i] : 0;
            m[i] = i < nb ? c->mult[cb + i] : 0;
            e[i] = i < nb ? c->shift[cb + i] : 0;
        }
        for (j = 0; j < pairs; j++)
            for (i = 0; i < 16; i++) {
                const int8_t *wc = c->weights + (cb + i) * k;
                int16_t w2[2];
                w2[0] = (int16_t)(i < nb ? wc[2 * j] : 0);
                w2[1] = (int16_t)(i < nb && 2 * j + 1 < k ? wc[2 * j + 1] : 0);
                memcpy(wa + 64 * j + 4 * i, w2, 4);
            }
        rlo = rq8_prep(_mm256_loadu_si256((const __m256i *)m),
                       _mm256_loadu_si256((const __m256i *)e), q.tflite);
        rhi = rq8_prep(_mm256_loadu_si256((const __m256i *)(m + 8)),
                       _mm256_loadu_si256((const __m256i *)(e + 8)), q.tflite);
        for (pix = 0; pix < npix; pix += 4) {
            size_t n = npix - pix < 4 ? npix - pix : 4;
            __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
                    a6 = a0, a7 = a0;
            const unsigned char *w0 = win, *w1 = win + 2 * k16 * (n > 1),
                                *w2 = win + 4 * k16 * (n > 2), *w3 = win + 6 * k16 * (n > 3);
            for (g = 0; g < n; g++)
                if (flat) /* 1x1, stride 1, no padding: the window is input pixel pix + g */
                    widen16(win + 2 * k16 * g, x + (pix + g) * k, k, k16, p->zx);
                else
                    gather16(win + 2 * k16 * g, x, p, (pix + g) / p->out_w, (pix + g) % p->out_w,
                             k16);
            for (j = 0; j < pairs; j++) {
                __m256i lo = _mm256_loadu_si256((const __m256i *)(wa + 64 * j));
                __m256i hi = _mm256_loadu_si256((const __m256i *)(wa + 64 * j + 32));
                int32_t v;
                __m256i xb;
                memcpy(&v, w0 + 4 * j, 4), xb = _mm256_set1_epi32(v);
                MADD(a0, xb, lo), MADD(a1, xb, hi);
                memcpy(&v, w1 + 4 * j, 4), xb = _mm256_set1_epi32(v);
                MADD(a2, xb, lo), MADD(a3, xb, hi);
                memcpy(&v, w2 + 4 * j, 4), xb = _mm256_set1_epi32(v);
                MADD(a4, xb, lo), MADD(a5, xb, hi);
                memcpy(&v, w3 + 4 * j, 4), xb = _mm256_set1_epi32(v);
                MADD(a6, xb, lo), MADD(a7, xb, hi);
            }
            {
                __m256i blo = _mm256_loadu_si256((const __m256i *)b),
                        bhi = _mm256_loadu_si256((const __m256i *)(b + 8));
                __m128i o[4];
                int8_t t[16];
                o[0] = pack16(rq8_apply(_mm256_add_epi32(a0, blo), &rlo, &q),
                              rq8_apply(_mm256_add_epi32(a1, bhi), &rhi, &q));
                o[1] = pack16(rq8_apply(_mm256_add_epi32(a2, blo), &rlo, &q),
                              rq8_apply(_mm256_add_epi32(a3, bhi), &rhi, &q));
                o[2] = pack16(rq8_apply(_mm256_add_epi32(a4, blo), &rlo, &q),
                              rq8_apply(_mm256_add_epi32(a5, bhi), &rhi, &q));
                o[3] = pack16(rq8_apply(_mm256_add_epi32(a6, blo), &rlo, &q),
                              rq8_apply(_mm256_add_epi32(a7, bhi), &rhi, &q));
                for (g = 0; g < n; g++) {
                    if (nb == 16) {
                        _mm_storeu_si128((__m128i *)(y + (pix + g) * cout + cb), o[g]);
                    } else {
                        _mm_storeu_si128((__m128i *)t, o[g]);
                        memcpy(y + (pix + g) * cout + cb, t, nb);
                    }
                }
            }
        }
    }
}

/* ---- AVX-512 VNNI (chosen at run time) ------------------------------------------------------- */

/* Where the CPU has AVX-512 F, BW, VL, VNNI, VBMI and VBMI2 (and kdc__avx2_no_avx512 is 0), conv,
 * depthwise with multiplier 1 and max pool take the functions below, compiled for those
 * extensions by a target attribute (the rest of the file stays AVX2; a CPU without them, or
 * valgrind, which reports none, runs the AVX2 code). Same arithmetic, byte for byte:
 * - conv: VPDPBUSD multiplies unsigned bytes by signed ones, four pairs summed into each int32
 *   lane without saturation. The window goes in as u = x + 128 (x ^ 0x80), taps outside the
 *   input as zx + 128 (so that x - zx is 0 there), and sum (x - zx) * w = sum u * w - (128 + zx)
 *   * sum w, the last term per channel (in the scratch with the bias, modulo 2^32 like the
 *   reference's wrap_add: every step is exact modulo 2^32 and the reference's sum fits int32).
 *   The weights are packed per call into the scratch as [rows][R4/4][C16][4] bytes (zero past
 *   each row and past out_c); the windows are read from a copy of the input region as bytes
 *   (the "image" plan) or gathered 8 at a time (the "windows" plan), each window dword broadcast
 *   against 16 channels (32 when out_c > 16: two blocks share each broadcast), 8 pixels per pass.
 * - depthwise: VPDPWSSD on int16 pairs: two taps' x interleaved per channel against the two
 *   taps' weights (prepared once per 32-channel block, on the stack), 32 channels per pass.
 * - max pool, up to 32 channels: the pixels of a row whose windows lie inside the input, by
 *   VPERMT2B picks from 128 bytes of the input rows.
 * - the output stage on 16 lanes: rq16_prep / rq16_apply, the formulas of rq8_prep / rq8_apply. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define AVX2_VNNI 1
#define VNNI_FN                                                                                    \
    __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi,"              \
                          "avx512vbmi2")))
#define VNNI_INLINE                                                                                \
    __attribute__((target("avx2,fma,avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi,avx512vbmi2"), \
                   always_inline)) inline
#else
#define AVX2_VNNI 0
#endif
int kdc__avx2_no_avx512;

#if AVX2_VNNI
static int vnni_ok(void)
{
    return !kdc__avx2_no_avx512 && __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx512vbmi2");
}

typedef struct {
    __m512i m, m_od, s0, s1, s2, s3; /* m_od: M of the odd lanes in the even ones' place */
    int left;                        /* TFLite: some e > 0 (a left shift) */
} rq16;

typedef struct {
    __m512i zy, lo, hi; /* lo, hi: act_min - zy, act_max - zy */
    int tflite;
} oq16;

VNNI_INLINE static rq16 rq16_prep(__m512i m, __m512i e, int tflite)
{
    rq16 r;
    r.m = m, r.m_od = _mm512_srli_epi64(m, 32);
    r.left = _mm512_cmpgt_epi32_mask(e, _mm512_setzero_si512()) != 0;
    if (tflite) {
        r.s0 = _mm512_max_epi32(e, _mm512_setzero_si512());
        r.s1 = _mm512_sub_epi32(r.s0, e);
        r.s2 =
            _mm512_sub_epi32(_mm512_sllv_epi32(_mm512_set1_epi32(1), r.s1), _mm512_set1_epi32(1));
        r.s3 = _mm512_srli_epi32(r.s2, 1);
    } else {
        const __m512i one = _mm512_set1_epi64(1);
        __m512i rr = _mm512_sub_epi32(_mm512_set1_epi32(31), e);
        r.s0 = _mm512_and_si512(rr, _mm512_set1_epi64(0xffffffff));
        r.s1 = _mm512_srli_epi64(rr, 32);
        r.s2 = _mm512_sllv_epi64(one, _mm512_sub_epi64(r.s0, one));
        r.s3 = _mm512_sllv_epi64(one, _mm512_sub_epi64(r.s1, one));
    }
    return r;
}

/* req_kdc on 16 lanes */
VNNI_INLINE static __m512i req16_kdc(__m512i acc, const rq16 *r)
{
    const __m512i cap = _mm512_set1_epi64(1024);
    __m512i a = _mm512_abs_epi32(acc);
    __m512i p_ev = _mm512_mul_epu32(a, r->m);
    __m512i p_od = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), r->m_od);
    __m512i q_ev = _mm512_srlv_epi64(_mm512_add_epi64(p_ev, r->s2), r->s0);
    __m512i q_od = _mm512_srlv_epi64(_mm512_add_epi64(p_od, r->s3), r->s1);
    __m512i v;
    q_ev = _mm512_min_epu64(q_ev, cap);
    q_od = _mm512_min_epu64(q_od, cap);
    v = _mm512_mask_blend_epi32((__mmask16)0xaaaa, q_ev, _mm512_slli_epi64(q_od, 32));
    return _mm512_mask_sub_epi32(v, _mm512_cmplt_epi32_mask(acc, _mm512_setzero_si512()),
                                 _mm512_setzero_si512(), v);
}

/* req_tfl on 16 lanes, without its cap (rq16_apply clamps) */
VNNI_INLINE static __m512i req16_tfl(__m512i acc, const rq16 *r)
{
    const __m512i nudge = _mm512_set1_epi64((int64_t)1 << 30), one = _mm512_set1_epi32(1);
    __m512i xs = r->left ? _mm512_sllv_epi32(acc, r->s0) : acc;
    __m512i p_ev = _mm512_add_epi64(_mm512_mul_epi32(xs, r->m), nudge);
    __m512i p_od = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(xs, 32), r->m_od), nudge);
    /* bits 31..62 of each product: of p_od, the high half of p_od << 1 */
    __m512i v = _mm512_mask_blend_epi32((__mmask16)0xaaaa, _mm512_srli_epi64(p_ev, 31),
                                        _mm512_slli_epi64(p_od, 1));
    __m512i rem = _mm512_and_si512(v, r->s2);
    __m512i thr = _mm512_mask_add_epi32(r->s3, _mm512_cmplt_epi32_mask(v, _mm512_setzero_si512()),
                                        r->s3, one);
    v = _mm512_srav_epi32(v, r->s1);
    return _mm512_mask_add_epi32(v, _mm512_cmpgt_epi32_mask(rem, thr), v, one);
}

/* clamp(requant(acc) + zy, lo, hi) as 16 bytes, computed as clamp(requant(acc), lo - zy,
 * hi - zy) + zy: the same for every int32 requant (lo - zy and hi - zy are within +-255), with
 * no overflow and no cap of its own. */
VNNI_INLINE static __m128i rq16_apply(__m512i acc, const rq16 *r, const oq16 *q)
{
    __m512i v = q->tflite ? req16_tfl(acc, r) : req16_kdc(acc, r);
    v = _mm512_min_epi32(_mm512_max_epi32(v, q->lo), q->hi);
    v = _mm512_add_epi32(v, q->zy);
    return _mm512_cvtepi32_epi8(v);
}

VNNI_FN static oq16 oq16_make(int32_t zy, int32_t lo, int32_t hi, int32_t tflite)
{
    oq16 q;
    q.zy = _mm512_set1_epi32(zy), q.lo = _mm512_set1_epi32(lo - zy);
    q.hi = _mm512_set1_epi32(hi - zy);
    (void)tflite; /* unused with KDC_TFLITE 0 */
    q.tflite = KDC__TFL(tflite) ? 1 : 0;
    return q;
}

/* The per-channel part of 16 channels from cb (n <= 16 of them; lanes past n: M 0, e 0). */
VNNI_FN static rq16 rq16_channels(const kdc_consts *c, size_t cb, size_t n, int tflite)
{
    __mmask16 k = (__mmask16)(n >= 16 ? 0xffffu : (1u << n) - 1u);
    return rq16_prep(_mm512_maskz_loadu_epi32(k, c->mult + cb),
                     _mm512_maskz_loadu_epi32(k, c->shift + cb), tflite);
}

/* Mask of bits [lo, hi) of 64, lo < hi <= 64. */
static __mmask64 bits64(size_t lo, size_t hi)
{
    return (__mmask64)((hi >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << hi) - 1) &
                       ~(((uint64_t)1 << lo) - 1));
}

/* The window of output pixel pix as K4 bytes x + 128, zx + 128 outside the input (and garbage
 * from K to K4, which meets zero weights). Built 64 bytes at a time in a register (each row
 * segment expanded into its lanes) and written with whole 64-byte stores, so the broadcasts
 * that read it back are forwarded from the stores (a masked store would not be): writes up to
 * 63 bytes past K4, into the next window (written after this one) or the scratch's slack. */
VNNI_FN static void vn_gather(uint8_t *win, const int8_t *x, const kdc_conv_params *p, size_t pix,
                              size_t k4)
{
    size_t iy, ky0, ky1, ix, kx0, kx1, ky, ci = p->in_c, row = p->k_w * ci, len, ch;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    range1(pix / p->out_w, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
    range1(pix % p->out_w, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
    len = (kx1 - kx0) * ci;
    for (ch = 0; ch < k4; ch += 64) {
        __m512i v = _mm512_set1_epi8((char)p->zx);
        for (ky = ky0; ky < ky1; ky++) {
            size_t s0 = ky * row + kx0 * ci, s1 = s0 + len;
            size_t a = s0 > ch ? s0 : ch, b = s1 < ch + 64 ? s1 : ch + 64;
            if (a < b)
                v = _mm512_mask_expandloadu_epi8(v, bits64(a - ch, b - ch),
                                                 x + ((iy + ky - ky0) * p->in_w + ix) * ci +
                                                     (a - s0));
        }
        _mm512_storeu_si512((void *)(win + ch), _mm512_xor_si512(v, flip));
    }
}

/* Packs the weights as [rows][R4/4][C16][4] bytes: each channel's K weights taken as `rows`
 * rows of `len` bytes, each row zero-padded to r4 (a multiple of 4), zero past out_c; and the
 * corrections bias - (128 + zx) * sum w (int32 per channel, modulo 2^32). */
VNNI_FN static void vn_pack(uint8_t *corr, uint8_t *wp, const kdc_consts *c, size_t k, size_t rows,
                            size_t len, size_t r4, size_t cout, int32_t zx)
{
    size_t c16 = (cout + 15) & ~(size_t)15, rq = r4 / 4, co, ky, j;
    const __m512i idx =
        _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32((int)c16));
    const __m512i ones = _mm512_set1_epi8(1);
    if (cout < c16) memset(wp, 0, rows * r4 * c16);
    for (co = 0; co < cout; co++) {
        const int8_t *wc = c->weights + co * k;
        __m512i sw = _mm512_setzero_si512();
        int32_t t;
        for (j = 0; j < k; j += 64) /* sum of the channel's weights */
            sw = _mm512_dpbusd_epi32(
                sw, ones, _mm512_maskz_loadu_epi8(bits64(0, k - j < 64 ? k - j : 64), wc + j));
        t = (int32_t)((uint32_t)c->bias[co] -
                      (uint32_t)(128 + zx) * (uint32_t)_mm512_reduce_add_epi32(sw));
        memcpy(corr + 4 * co, &t, 4);
        for (ky = 0; ky < rows; ky++) {
            const int8_t *wr = wc + ky * len;
            uint8_t *dst = wp + 4 * (ky * rq * c16 + co);
            if (rq < 8) { /* short rows: dword by dword */
                for (j = 0; j < rq; j++) {
                    size_t left = len - 4 * j;
                    int32_t v;
                    if (left >= 4)
                        memcpy(&v, wr + 4 * j, 4);
                    else /* the last 1..3 bytes, zero above (no byte-wise copy through memory) */
                        v = _mm_cvtsi128_si32(
                            _mm_maskz_loadu_epi8((__mmask16)((1u << left) - 1u), wr + 4 * j));
                    memcpy(dst + 4 * j * c16, &v, 4);
                }
                continue;
            }
            for (j = 0; j < rq; j += 16) { /* 16 dwords (64 weights), zero past len */
                size_t left = len - 4 * j;
                __mmask16 kd = (__mmask16)(rq - j >= 16 ? 0xffffu : (1u << (rq - j)) - 1u);
                __m512i v = _mm512_maskz_loadu_epi8(bits64(0, left < 64 ? left : 64), wr + 4 * j);
                _mm512_mask_i32scatter_epi32((int *)(void *)(dst + 4 * j * c16), kd, idx, v, 4);
            }
        }
    }
}

#define VN_DP(a, g) a = _mm512_dpbusd_epi32(a, _mm512_set1_epi32(rd(b##g + o)), wv)
#define VN_DP2(a, d, g)                                                                            \
    (xb = _mm512_set1_epi32(rd(b##g + o)), a = _mm512_dpbusd_epi32(a, xb, wv),                     \
     d = _mm512_dpbusd_epi32(d, xb, wu))

static int32_t rd(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The image plan's copy of the input (see above). */
VNNI_FN static void vn_image(uint8_t *img, const int8_t *x, const kdc_conv_params *p, size_t hp,
                             size_t wp)
{
    size_t ci = p->in_c, r, j;
    size_t c0 = p->pad_left, c1 = p->pad_left + p->in_w < wp ? p->pad_left + p->in_w : wp;
    memset(img, (p->zx + 128) & 0xff, hp * wp * ci);
    for (r = p->pad_top; r < hp && r < p->pad_top + p->in_h; r++) {
        const int8_t *src = x + (r - p->pad_top) * p->in_w * ci;
        uint8_t *dst = img + (r * wp + c0) * ci;
        size_t n = (c1 - c0) * ci;
        for (j = 0; j < n; j += 64) {
            __mmask64 m = bits64(0, n - j < 64 ? n - j : 64);
            _mm512_mask_storeu_epi8(dst + j, m,
                                    _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, src + j),
                                                     _mm512_set1_epi8((char)0x80)));
        }
    }
}

VNNI_FN static void conv_vnni(int8_t *y, const int8_t *x, const kdc_consts *c,
                              const kdc_conv_params *p, unsigned char *scratch)
{
    size_t k = p->k_h * p->k_w * p->in_c, cout = p->out_c, ci = p->in_c;
    size_t c16 = (cout + 15) & ~(size_t)15, npix = p->out_h * p->out_w, pix, cb, g, ky, jr;
    int image = vn_image_bytes(p) > 0;
    /* rows of r4 bytes per window, read at `rstride` bytes from each other */
    size_t rows = image ? p->k_h : 1, len = image ? p->k_w * ci : k, r4 = (len + 3) & ~(size_t)3;
    size_t rq = r4 / 4, hp = (p->out_h - 1) * p->stride_h + p->k_h,
           wpx = (p->out_w - 1) * p->stride_w + p->k_w, rstride = image ? wpx * ci : 0;
    uint8_t *corr = scratch, *wp = scratch + 4 * c16, *buf = wp + rows * r4 * c16;
    const uint8_t *prow = buf, *pcur = buf; /* image: the window of the next pixel and its row */
    size_t ox = 0, ow = p->out_w; /* the output column of pix (locals: stores to y may alias p) */
    size_t pstep = p->stride_w * ci, rstep = p->stride_h * wpx * ci;
    int g2 = 0; /* r2 prepared (out_c <= 8) */
    rq16 r2;
    oq16 q = oq16_make(p->zy, p->act_min, p->act_max, p->tflite);
    vn_pack(corr, wp, c, k, rows, len, r4, cout, p->zx);
    if (image) vn_image(buf, x, p, hp, wpx);
    for (pix = 0; pix < npix; pix += VN_NP) {
        size_t n = npix - pix < VN_NP ? npix - pix : VN_NP;
        const uint8_t *bs[VN_NP], *b0, *b1, *b2, *b3, *b4, *b5, *b6, *b7;
        for (g = 0; g < n; g++) {
            if (image) { /* the window of (oy, ox) starts at row oy*sh, column ox*sw */
                bs[g] = pcur, pcur += pstep;
                if (++ox == ow) ox = 0, prow += rstep, pcur = prow;
            } else {
                bs[g] = buf + g * r4;
                vn_gather(buf + g * r4, x, p, pix + g, r4);
            }
        }
        for (g = n; g < VN_NP; g++) bs[g] = bs[0]; /* past the last pixel: computed, not stored */
        b0 = bs[0], b1 = bs[1], b2 = bs[2], b3 = bs[3], b4 = bs[4], b5 = bs[5], b6 = bs[6];
        b7 = bs[7];
        for (cb = 0; cb < cout; cb += 16) {
            size_t nb = cout - cb < 16 ? cout - cb : 16;
            __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0,
                    a6 = a0, a7 = a0, cv, acc[VN_NP];
            const uint8_t *wb = wp + 4 * cb;
            rq16 r;
            __mmask16 km = (__mmask16)(nb == 16 ? 0xffffu : (1u << nb) - 1u);
            if (cb + 16 < cout) { /* two blocks at once: each broadcast serves both */
                __m512i d0 = a0, d1 = a0, d2 = a0, d3 = a0, d4 = a0, d5 = a0, d6 = a0, d7 = a0;
                size_t nb1 = cout - cb - 16 < 16 ? cout - cb - 16 : 16;
                for (ky = 0; ky < rows; ky++)
                    for (jr = 0; jr < rq; jr++, wb += 4 * c16) {
                        size_t o = ky * rstride + 4 * jr;
                        __m512i wv = _mm512_loadu_si512((const void *)wb),
                                wu = _mm512_loadu_si512((const void *)(wb + 64)), xb;
                        VN_DP2(a0, d0, 0), VN_DP2(a1, d1, 1), VN_DP2(a2, d2, 2);
                        VN_DP2(a3, d3, 3), VN_DP2(a4, d4, 4), VN_DP2(a5, d5, 5);
                        VN_DP2(a6, d6, 6), VN_DP2(a7, d7, 7);
                    }
                cv = _mm512_loadu_si512((const void *)(corr + 4 * cb));
                r = rq16_channels(c, cb, 16, q.tflite);
                acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
                acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
                for (g = 0; g < n; g++)
                    _mm_storeu_si128((__m128i *)(y + (pix + g) * cout + cb),
                                     rq16_apply(_mm512_add_epi32(acc[g], cv), &r, &q));
                cb += 16;
                km = (__mmask16)(nb1 == 16 ? 0xffffu : (1u << nb1) - 1u);
                cv = _mm512_loadu_si512((const void *)(corr + 4 * cb));
                r = rq16_channels(c, cb, nb1, q.tflite);
                acc[0] = d0, acc[1] = d1, acc[2] = d2, acc[3] = d3;
                acc[4] = d4, acc[5] = d5, acc[6] = d6, acc[7] = d7;
                for (g = 0; g < n; g++)
                    _mm_mask_storeu_epi8(y + (pix + g) * cout + cb, km,
                                         rq16_apply(_mm512_add_epi32(acc[g], cv), &r, &q));
                continue;
            }
            for (ky = 0; ky < rows; ky++)
                for (jr = 0; jr < rq; jr++, wb += 4 * c16) {
                    size_t o = ky * rstride + 4 * jr;
                    __m512i wv = _mm512_loadu_si512((const void *)wb);
                    VN_DP(a0, 0), VN_DP(a1, 1), VN_DP(a2, 2), VN_DP(a3, 3);
                    VN_DP(a4, 4), VN_DP(a5, 5), VN_DP(a6, 6), VN_DP(a7, 7);
                }
            cv = _mm512_loadu_si512((const void *)(corr + 4 * cb)); /* within 4*C16 bytes */
            acc[0] = a0, acc[1] = a1, acc[2] = a2, acc[3] = a3;
            acc[4] = a4, acc[5] = a5, acc[6] = a6, acc[7] = a7;
            if (cout <= 8) { /* two pixels per output stage: lanes 0-7 pixel g, 8-15 g + 1 */
                __m512i cv2 = _mm512_broadcast_i64x4(_mm512_castsi512_si256(cv));
                __mmask8 k8 = (__mmask8)((1u << nb) - 1u);
                __m128i o;
                if (g2 == 0) {
                    r2 = rq16_prep(_mm512_broadcast_i64x4(_mm256_maskz_loadu_epi32(k8, c->mult)),
                                   _mm512_broadcast_i64x4(_mm256_maskz_loadu_epi32(k8, c->shift)),
                                   q.tflite);
                    g2 = 1;
                }
                for (g = 0; g < n; g += 2) {
                    __m512i v = _mm512_inserti64x4(acc[g], _mm512_castsi512_si256(acc[g + 1]), 1);
                    o = rq16_apply(_mm512_add_epi32(v, cv2), &r2, &q);
                    _mm_mask_storeu_epi8(y + (pix + g) * cout, (__mmask16)k8, o);
                    if (g + 1 < n)
                        _mm_mask_storeu_epi8(y + (pix + g + 1) * cout, (__mmask16)k8,
                                             _mm_srli_si128(o, 8));
                }
                continue;
            }
            r = rq16_channels(c, cb, nb, q.tflite);
            for (g = 0; g < n; g++)
                _mm_mask_storeu_epi8(y + (pix + g) * cout + cb, km,
                                     rq16_apply(_mm512_add_epi32(acc[g], cv), &r, &q));
        }
    }
}

/* Depthwise, multiplier 1, up to DW_TAPS taps: blocks of 32 channels; returns the channels done
 * (the rest go to the AVX2 loops). sum (x - zx) * w over the in-bounds taps is computed as
 * sum x' * w - zx * sum w over every tap, with x' = zx at the taps outside the input (so they
 * add zx * w back): no subtraction per tap, and the second sum is per channel, the
 * accumulators' start (modulo 2^32, like the reference's wrap_add). */
#define DW_TAPS 25
#define DW_PAIR(l, h, q, ta, tb)                                                                   \
    (va = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(xq + f##ta))),                 \
     vb = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(xq + f##tb))),                 \
     l = _mm512_dpwssd_epi32(l, _mm512_unpacklo_epi16(va, vb), wlo[q]),                            \
     h = _mm512_dpwssd_epi32(h, _mm512_unpackhi_epi16(va, vb), whi[q]))
VNNI_FN static size_t dw_vnni(int8_t *y, const int8_t *x, const kdc_consts *c,
                              const kdc_conv_params *p)
{
    size_t taps = p->k_h * p->k_w, npair = (taps + 1) / 2, cin = p->in_c, cout = p->out_c;
    size_t oc, oy, ox, t, q2, iw = p->in_w;
    __m512i wlo[(DW_TAPS + 1) / 2], whi[(DW_TAPS + 1) / 2];
    size_t tky[DW_TAPS + 1], tkx[DW_TAPS + 1], toff[DW_TAPS + 1];
    const __m512i zv = _mm512_set1_epi16((short)p->zx);
    const __m512i ilo = _mm512_setr_epi32(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
    const __m512i ihi =
        _mm512_setr_epi32(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
    oq16 q = oq16_make(p->zy, p->act_min, p->act_max, p->tflite);
    size_t f0, f1, f2, f3, f4, f5, f6, f7, f8; /* 3x3: the tap offsets */
    memset(toff, 0, sizeof toff);
    for (t = 0; t < taps; t++)
        tky[t] = t / p->k_w, tkx[t] = t % p->k_w, toff[t] = (tky[t] * iw + tkx[t]) * cin;
    f0 = toff[0], f1 = toff[1], f2 = toff[2], f3 = toff[3], f4 = toff[4], f5 = toff[5];
    f6 = toff[6], f7 = toff[7], f8 = toff[8]; /* toff has DW_TAPS + 1 >= 9 entries */
    for (oc = 0; oc + 32 <= cout; oc += 32) {
        rq16 r0 = rq16_channels(c, oc, 16, q.tflite), r1 = rq16_channels(c, oc + 16, 16, q.tflite);
        __m512i b0 = _mm512_loadu_si512((const void *)(c->bias + oc)),
                b1 = _mm512_loadu_si512((const void *)(c->bias + oc + 16));
        __m512i slo = _mm512_setzero_si512(), shi = slo; /* -zx * sum w, lo / hi order */
        for (q2 = 0; q2 < npair; q2++) { /* taps 2q2, 2q2+1 interleaved per channel */
            __m512i wa = _mm512_cvtepi8_epi16(
                _mm256_loadu_si256((const __m256i *)(c->weights + 2 * q2 * cout + oc)));
            __m512i wb = 2 * q2 + 1 < taps
                             ? _mm512_cvtepi8_epi16(_mm256_loadu_si256(
                                   (const __m256i *)(c->weights + (2 * q2 + 1) * cout + oc)))
                             : _mm512_setzero_si512();
            wlo[q2] = _mm512_unpacklo_epi16(wa, wb), whi[q2] = _mm512_unpackhi_epi16(wa, wb);
            slo = _mm512_dpwssd_epi32(slo, zv, wlo[q2]);
            shi = _mm512_dpwssd_epi32(shi, zv, whi[q2]);
        }
        slo = _mm512_sub_epi32(_mm512_setzero_si512(), slo);
        shi = _mm512_sub_epi32(_mm512_setzero_si512(), shi);
        for (oy = 0; oy < p->out_h; oy++) {
            size_t iy, ky0, ky1;
            range1(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
            for (ox = 0; ox < p->out_w; ox++) {
                size_t ix, kx0, kx1;
                const int8_t *xp = x + oc;
                size_t o;
                __m512i lo = slo, hi = shi, o0, o1;
                range1(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
                /* o: the offset of the window's tap (0, 0), possibly outside the input (then
                 * wrapped modulo 2^N); o + toff[t] of an in-bounds tap is its offset */
                o = ((iy - ky0) * iw + (ix - kx0)) * cin;
                if (taps == 9 && ky0 == 0 && ky1 == p->k_h && kx0 == 0 && kx1 == p->k_w) {
                    /* 3x3 inside the input: unrolled, two chains of accumulators */
                    const int8_t *xq = xp + o;
                    __m512i l2 = _mm512_setzero_si512(), h2 = l2, va, vb;
                    DW_PAIR(lo, hi, 0, 0, 1), DW_PAIR(l2, h2, 1, 2, 3);
                    DW_PAIR(lo, hi, 2, 4, 5), DW_PAIR(l2, h2, 3, 6, 7);
                    va = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(xq + f8)));
                    lo = _mm512_dpwssd_epi32(lo, _mm512_unpacklo_epi16(va, zv), wlo[4]);
                    hi = _mm512_dpwssd_epi32(hi, _mm512_unpackhi_epi16(va, zv), whi[4]);
                    lo = _mm512_add_epi32(lo, l2), hi = _mm512_add_epi32(hi, h2);
                } else if (ky0 == 0 && ky1 == p->k_h && kx0 == 0 && kx1 == p->k_w) {
                    for (q2 = 0; q2 < npair; q2++) {
                        size_t ta = 2 * q2, tb = ta + 1;
                        __m512i va = _mm512_cvtepi8_epi16(
                            _mm256_loadu_si256((const __m256i *)(xp + (o + toff[ta]))));
                        __m512i vb = tb < taps ? _mm512_cvtepi8_epi16(_mm256_loadu_si256(
                                                     (const __m256i *)(xp + (o + toff[tb]))))
                                               : zv;
                        lo = _mm512_dpwssd_epi32(lo, _mm512_unpacklo_epi16(va, vb), wlo[q2]);
                        hi = _mm512_dpwssd_epi32(hi, _mm512_unpackhi_epi16(va, vb), whi[q2]);
                    }
                } else {
                    for (q2 = 0; q2 < npair; q2++) {
                        size_t ta = 2 * q2, tb = ta + 1;
                        __m512i va = zv, vb = zv;
                        if (tky[ta] >= ky0 && tky[ta] < ky1 && tkx[ta] >= kx0 && tkx[ta] < kx1)
                            va = _mm512_cvtepi8_epi16(
                                _mm256_loadu_si256((const __m256i *)(xp + (o + toff[ta]))));
                        if (tb < taps && tky[tb] >= ky0 && tky[tb] < ky1 && tkx[tb] >= kx0 &&
                            tkx[tb] < kx1)
                            vb = _mm512_cvtepi8_epi16(
                                _mm256_loadu_si256((const __m256i *)(xp + (o + toff[tb]))));
                        lo = _mm512_dpwssd_epi32(lo, _mm512_unpacklo_epi16(va, vb), wlo[q2]);
                        hi = _mm512_dpwssd_epi32(hi, _mm512_unpackhi_epi16(va, vb), whi[q2]);
                    }
                }
                /* lo: channels 8L+0..3 of 128-bit lane L, hi: 8L+4..7; back to channel order */
                o0 = _mm512_add_epi32(_mm512_permutex2var_epi32(lo, ilo, hi), b0);
                o1 = _mm512_add_epi32(_mm512_permutex2var_epi32(lo, ihi, hi), b1);
                _mm256_storeu_si256(
                    (__m256i *)(y + (oy * p->out_w + ox) * cout + oc),
                    _mm256_setr_m128i(rq16_apply(o0, &r0, &q), rq16_apply(o1, &r1, &q)));
            }
        }
    }
    return oc;
}
#endif /* AVX2_VNNI */

void kdc_conv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *pp,
                   void *scratch)
{
    const kdc_conv_params P = *pp, *p = &P; /* a local copy: stores to y cannot alias it */
    size_t k = p->k_h * p->k_w * p->in_c, k16 = (k + 15) & ~(size_t)15, cout = p->out_c,
           wtotal = cout * k;
    size_t npix = p->out_h * p->out_w, pix, co, nwin = avx2_conv_bytes(k) / (2 * k16);
    unsigned char *win0 = (unsigned char *)scratch, *win1 = win0;
    oq8 q = oq8_make(p->zy, p->act_min, p->act_max, p->tflite);
#if AVX2_VNNI
    if ((vn_image_bytes(p) > 0 || vn_windows_bytes(k, cout) > 0) && vnni_ok()) {
        conv_vnni(y, x, c, p, (unsigned char *)scratch);
        return;
    }
#endif
    if (k <= 65536 && avx2_conv_bytes(k) == lanes_bytes(k)) {
        conv_lanes(y, x, c, p, (unsigned char *)scratch);
        return;
    }
    if (nwin == 0) {
        conv_direct(y, x, c, p);
        return;
    }
    if (nwin == 2) win1 = win0 + 2 * k16;
    for (pix = 0; pix < npix; pix += nwin) {
        int two = nwin == 2 && pix + 1 < npix;
        int8_t *y0 = y + pix * cout, *y1 = two ? y0 + cout : y0;
        gather16(win0, x, p, pix / p->out_w, pix % p->out_w, k16);
        if (two) gather16(win1, x, p, (pix + 1) / p->out_w, (pix + 1) % p->out_w, k16);
        for (co = 0; co + 4 <= cout; co += 4) {
            __m256i s =
                block4x2(win0, two ? win1 : win0, c->weights + co * k, k, k16, wtotal - co * k);
            __m256i b =
                _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(c->bias + co)));
            __m256i m =
                _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(c->mult + co)));
            __m256i e =
                _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(c->shift + co)));
            /* two == 0: the second half repeats the first pixel and y1 == y0, the same bytes */
            store4x2(y0 + co, y1 + co, req8(_mm256_add_epi32(s, b), m, e, &q));
        }
        for (; co < cout; co++) { /* the last out_c % 4 channels */
            const int8_t *wc = c->weights + co * k;
            y0[co] = out1(wrap_add(c->bias[co], dot16(win0, wc, k16, wtotal - co * k)), c->mult[co],
                          c->shift[co], p->zy, p->act_min, p->act_max, p->tflite);
            if (two)
                y1[co] = out1(wrap_add(c->bias[co], dot16(win1, wc, k16, wtotal - co * k)),
                              c->mult[co], c->shift[co], p->zy, p->act_min, p->act_max, p->tflite);
        }
    }
}

/* ---- depthwise ------------------------------------------------------------------------------ */

/* Depth multiplier 1: blocks of 16 (then 8) channels, each over every output pixel, so the
 * output stage's per-channel part is prepared once per block; (x - zx) * w exact in int16
 * (|.| <= 32640), summed in int32. The last in_c % 8 channels, and every channel of the other
 * multipliers, one by one over the pixels (the reference's loop with hoisted window ranges). */
void kdc_dwconv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *pp,
                     void *scratch)
{
    const kdc_conv_params P = *pp, *p = &P;
    const int8_t *w = c->weights;
    size_t oy, ox, oc = 0, ky, kx, cin = p->in_c, cout = p->out_c, step;
    const __m256i z = _mm256_set1_epi16((int16_t)p->zx);
    oq8 q = oq8_make(p->zy, p->act_min, p->act_max, p->tflite);
    (void)scratch;
#if AVX2_VNNI
    if (p->depth_mult == 1 && cout >= 32 && p->k_h * p->k_w <= DW_TAPS && vnni_ok())
        oc = dw_vnni(y, x, c, p);
#endif
    for (; p->depth_mult == 1 && oc + 8 <= cout; oc += step) {
        int wide = oc + 16 <= cout;
        rq8 rlo = rq8_prep(_mm256_loadu_si256((const __m256i *)(c->mult + oc)),
                           _mm256_loadu_si256((const __m256i *)(c->shift + oc)), q.tflite),
            rhi = rlo;
        __m256i blo = _mm256_loadu_si256((const __m256i *)(c->bias + oc)), bhi = blo;
        step = wide ? 16 : 8;
        if (wide) {
            rhi = rq8_prep(_mm256_loadu_si256((const __m256i *)(c->mult + oc + 8)),
                           _mm256_loadu_si256((const __m256i *)(c->shift + oc + 8)), q.tflite);
            bhi = _mm256_loadu_si256((const __m256i *)(c->bias + oc + 8));
        }
        for (oy = 0; oy < p->out_h; oy++) {
            size_t iy, ky0, ky1;
            range1(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
            for (ox = 0; ox < p->out_w; ox++) {
                size_t ix, kx0, kx1;
                const int8_t *xp;
                int8_t *yp = y + (oy * p->out_w + ox) * cout + oc;
                __m256i lo = _mm256_setzero_si256(), hi = lo;
                range1(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
                xp = x + (iy * p->in_w + ix) * cin + oc;
                for (ky = ky0; ky < ky1; ky++)
                    for (kx = kx0; kx < kx1; kx++) {
                        const int8_t *xt = xp + ((ky - ky0) * p->in_w + (kx - kx0)) * cin;
                        const int8_t *wt = w + (ky * p->k_w + kx) * cout + oc;
                        __m128i xb = wide ? _mm_loadu_si128((const __m128i *)xt)
                                          : _mm_loadl_epi64((const __m128i *)xt);
                        __m128i wb = wide ? _mm_loadu_si128((const __m128i *)wt)
                                          : _mm_loadl_epi64((const __m128i *)wt);
                        __m256i pr =
                            _mm256_mullo_epi16(_mm256_sub_epi16(_mm256_cvtepi8_epi16(xb), z),
                                               _mm256_cvtepi8_epi16(wb));
                        lo =
                            _mm256_add_epi32(lo, _mm256_cvtepi16_epi32(_mm256_castsi256_si128(pr)));
                        hi = _mm256_add_epi32(
                            hi, _mm256_cvtepi16_epi32(_mm256_extracti128_si256(pr, 1)));
                    }
                lo = rq8_apply(_mm256_add_epi32(lo, blo), &rlo, &q);
                if (wide)
                    _mm_storeu_si128((__m128i *)yp,
                                     pack16(lo, rq8_apply(_mm256_add_epi32(hi, bhi), &rhi, &q)));
                else
                    store4x2(yp, yp + 4, lo);
            }
        }
    }
    for (; oc < cout; oc++) {
        size_t ic = oc / p->depth_mult;
        for (oy = 0; oy < p->out_h; oy++) {
            size_t iy, ky0, ky1;
            range1(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
            for (ox = 0; ox < p->out_w; ox++) {
                size_t ix, kx0, kx1;
                const int8_t *xp;
                int32_t sum = 0;
                range1(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
                xp = x + (iy * p->in_w + ix) * cin + ic;
                for (ky = ky0; ky < ky1; ky++)
                    for (kx = kx0; kx < kx1; kx++)
                        sum += (int32_t)(xp[((ky - ky0) * p->in_w + (kx - kx0)) * cin] - p->zx) *
                               w[(ky * p->k_w + kx) * cout + oc];
                y[(oy * p->out_w + ox) * cout + oc] =
                    out1(wrap_add(c->bias[oc], sum), c->mult[oc], c->shift[oc], p->zy, p->act_min,
                         p->act_max, p->tflite);
            }
        }
    }
}

/* ---- max pool ------------------------------------------------------------------------------- */

#if AVX2_VNNI
/* Max pool, few channels (AVX-512 VBMI): the output pixels [ox0, ox1) of one row whose windows
 * lie inside the input, `nox` at a time: the input span they read (at most 128 bytes) loaded
 * from each window row and maxed (vertical), then for each kx the bytes of tap kx of every
 * output pixel picked from the two vectors (VPERMT2B) and maxed (horizontal). */
VNNI_FN static void mp_row(int8_t *y, const int8_t *x0, const kdc_conv_params *p, size_t n,
                           size_t nox, const int8_t (*idx)[64])
{
    size_t cin = p->in_c, sw = p->stride_w, ox, ky, kx;
    const __m512i vlo = _mm512_set1_epi8((char)p->act_min),
                  vhi = _mm512_set1_epi8((char)p->act_max);
    for (ox = 0; ox < n; ox += nox) {
        size_t m = n - ox < nox ? n - ox : nox, span = ((m - 1) * sw + p->k_w) * cin;
        __mmask64 k0 = bits64(0, span < 64 ? span : 64),
                  k1 = span > 64 ? bits64(0, span - 64) : (__mmask64)0;
        const int8_t *src = x0 + ox * sw * cin;
        __m512i a = _mm512_set1_epi8(-128), b = a, r = a;
        for (ky = 0; ky < p->k_h; ky++, src += p->in_w * cin) {
            a = _mm512_max_epi8(a, _mm512_maskz_loadu_epi8(k0, src));
            b = _mm512_max_epi8(b, _mm512_maskz_loadu_epi8(k1, src + 64));
        }
        for (kx = 0; kx < p->k_w; kx++)
            r = _mm512_max_epi8(
                r, _mm512_permutex2var_epi8(a, _mm512_loadu_si512((const void *)idx[kx]), b));
        _mm512_mask_storeu_epi8(y + ox * cin, bits64(0, m * cin),
                                _mm512_min_epi8(_mm512_max_epi8(r, vlo), vhi));
    }
}
#endif

void kdc_maxpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *pp, void *scratch)
{
    const kdc_conv_params P = *pp, *p = &P;
    size_t oy, ox, ch, ky, kx, cin = p->in_c;
    const int8_t lo = (int8_t)p->act_min, hi = (int8_t)p->act_max;
    const __m256i vlo = _mm256_set1_epi8(lo), vhi = _mm256_set1_epi8(hi);
    /* mp_row: the pixels [fx0, fx1) of each row whose window rows are all inside, nox at a time
     * (nox 0: not taken) */
    size_t nox = 0, fx0 = 0, fx1 = 0;
    int8_t idx[8][64]; /* mp_row's picks: byte o of tap kx of output pixel o / in_c */
    (void)scratch;
#if AVX2_VNNI
    if (cin <= 32 && p->k_w <= 8 && p->k_w * cin <= 128 && p->in_w + p->pad_left >= p->k_w &&
        vnni_ok()) {
        nox = 64 / cin; /* output bytes */
        if (nox > (128 / cin - p->k_w) / p->stride_w + 1)
            nox = (128 / cin - p->k_w) / p->stride_w + 1;
        fx0 = (p->pad_left + p->stride_w - 1) / p->stride_w;
        fx1 = (p->in_w + p->pad_left - p->k_w) / p->stride_w + 1;
        if (fx1 > p->out_w) fx1 = p->out_w;
        if (fx0 >= fx1) nox = 0;
        for (kx = 0; kx < p->k_w; kx++) {
            size_t o = 0, px, c2;
            for (px = 0; px < 64 / cin; px++)
                for (c2 = 0; c2 < cin; c2++, o++)
                    idx[kx][o] = (int8_t)(px < nox ? (px * p->stride_w + kx) * cin + c2 : 0);
            for (; o < 64; o++) idx[kx][o] = 0;
        }
    }
#endif
    for (oy = 0; oy < p->out_h; oy++) {
        size_t iy, ky0, ky1;
        range1(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
        for (ox = 0; ox < p->out_w; ox++, y += cin) {
            size_t ix, kx0, kx1, nky, nkx;
            const int8_t *x0;
#if AVX2_VNNI
            if (nox && ox == fx0 && ky0 == 0 && ky1 == p->k_h) {
                mp_row(y, x + (iy * p->in_w + fx0 * p->stride_w - p->pad_left) * cin, p, fx1 - fx0,
                       nox, (const int8_t(*)[64])idx);
                y += (fx1 - fx0 - 1) * cin, ox = fx1 - 1;
                continue;
            }
#endif
            range1(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
            nky = ky1 - ky0, nkx = kx1 - kx0;
            x0 = x + (iy * p->in_w + ix) * cin;
            for (ch = 0; ch + 32 <= cin; ch += 32) {
                __m256i m = _mm256_set1_epi8(-128);
                for (ky = 0; ky < nky; ky++)
                    for (kx = 0; kx < nkx; kx++)
                        m = _mm256_max_epi8(
                            m, _mm256_loadu_si256(
                                   (const __m256i *)(x0 + (ky * p->in_w + kx) * cin + ch)));
                _mm256_storeu_si256((__m256i *)(y + ch),
                                    _mm256_min_epi8(_mm256_max_epi8(m, vlo), vhi));
            }
            for (; ch + 8 <= cin; ch += ch + 16 <= cin ? 16 : 8) {
                int wide = ch + 16 <= cin;
                __m128i m = _mm_set1_epi8(-128);
                for (ky = 0; ky < nky; ky++)
                    for (kx = 0; kx < nkx; kx++) {
                        const int8_t *t = x0 + (ky * p->in_w + kx) * cin + ch;
                        m = _mm_max_epi8(m, wide ? _mm_loadu_si128((const __m128i *)t)
                                                 : _mm_loadl_epi64((const __m128i *)t));
                    }
                m = _mm_min_epi8(_mm_max_epi8(m, _mm256_castsi256_si128(vlo)),
                                 _mm256_castsi256_si128(vhi));
                if (wide)
                    _mm_storeu_si128((__m128i *)(y + ch), m);
                else
                    _mm_storel_epi64((__m128i *)(y + ch), m);
            }
            for (; ch < cin; ch++) {
                int8_t m = -128;
                for (ky = 0; ky < nky; ky++)
                    for (kx = 0; kx < nkx; kx++) {
                        int8_t v = x0[(ky * p->in_w + kx) * cin + ch];
                        m = v > m ? v : m;
                    }
                y[ch] = m < lo ? lo : m > hi ? hi : m;
            }
        }
    }
}

/* ---- average pool --------------------------------------------------------------------------- */

/* round_half_away(sum / count), count >= 1, on the magnitude (the reference's avg) */
static int32_t avg1(int32_t sum, int32_t count)
{
    uint32_t mag = sum >= 0 ? (uint32_t)sum : 0u - (uint32_t)sum;
    int32_t q = (int32_t)((mag + (uint32_t)count / 2) / (uint32_t)count);
    return sum >= 0 ? q : -q;
}

/* Sums over the window 8 channels per vector in int32 (at most 65536 taps of |x| <= 128: no
 * overflow), the rounding division per channel as the reference's. */
void kdc_avgpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *pp, void *scratch)
{
    const kdc_conv_params P = *pp, *p = &P;
    size_t oy, ox, ch, ky, kx, cin = p->in_c;
    int32_t t[8];
    (void)scratch;
    for (oy = 0; oy < p->out_h; oy++) {
        size_t iy, ky0, ky1;
        range1(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
        for (ox = 0; ox < p->out_w; ox++, y += cin) {
            size_t ix, kx0, kx1, nky, nkx, j;
            const int8_t *x0;
            int32_t count;
            range1(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
            nky = ky1 - ky0, nkx = kx1 - kx0, count = (int32_t)(nky * nkx);
            x0 = x + (iy * p->in_w + ix) * cin;
            for (ch = 0; ch + 8 <= cin; ch += 8) {
                __m256i s = _mm256_setzero_si256();
                for (ky = 0; ky < nky; ky++)
                    for (kx = 0; kx < nkx; kx++)
                        s = _mm256_add_epi32(
                            s, _mm256_cvtepi8_epi32(_mm_loadl_epi64(
                                   (const __m128i *)(x0 + (ky * p->in_w + kx) * cin + ch))));
                _mm256_storeu_si256((__m256i *)t, s);
                for (j = 0; j < 8; j++) {
                    int32_t v = avg1(t[j], count);
                    y[ch + j] = (int8_t)(v < p->act_min   ? p->act_min
                                         : v > p->act_max ? p->act_max
                                                          : v);
                }
            }
            for (; ch < cin; ch++) {
                int32_t sum = 0, v;
                for (ky = 0; ky < nky; ky++)
                    for (kx = 0; kx < nkx; kx++) sum += x0[(ky * p->in_w + kx) * cin + ch];
                v = avg1(sum, count);
                y[ch] = (int8_t)(v < p->act_min ? p->act_min : v > p->act_max ? p->act_max : v);
            }
        }
    }
}

#else
typedef int kdc__avx2_not_selected; /* ISO C forbids an empty translation unit */
#endif /* KDC__VARIANT_AVX2 */
