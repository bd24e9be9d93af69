/* kdc_kernels_mve.c - the Armv8.1-M MVE (Helium) variant ("mve"; kdc_kernels.h selects it where
 * __ARM_FEATURE_MVE is defined: the Cortex-M55 built with -mfloat-abi=softfp or hard; integer MVE
 * is enough): FC, conv and depthwise on 128-bit vectors, with the ACLE intrinsics of <arm_mve.h>
 * (a compiler header like <arm_acle.h>, which the dsp variant includes; it includes only
 * <stdint.h>, <stdbool.h> and its own type header) and their inline asm forms under gcc (below).
 * Every other kernel is the portable variant's
 * (kdc_kernels_portable.c, built too). Byte for byte equal to the reference (kdc_kernels_ref.c) in
 * both arithmetics: tests/test_variants.c and the golden kernels, run under QEMU on the Cortex-M55
 * (mps3-an547, which emulates MVE; runtime/Makefile, `qemu-test`).
 *
 * Dot products. VMLADAVA.S8 multiplies 16 int8 pairs and adds the 16 products to a 32-bit
 * accumulator, but x - zx does not fit in int8; so a window's sum is computed as
 *     sum (x - zx) * w = sum x * w - zx * sum w
 * with sum w by VADDVA.S8 on the same weight vector (exact in int32: both terms are below 2^30
 * in magnitude for K <= 65536, and the difference is the reference's sum). The K % 16 last values
 * take one predicated step (VCTP: the loads of the lanes past K read nothing and give 0).
 *
 * Conv is a GEMM over im2col columns: the window of one output pixel as int8 values, K =
 * k_h*k_w*in_c of them, taps in the padding set to zx (so they add zx*w - zx*w = 0). Four
 * pixels' columns against one weight row at a time (one weight vector and its VADDVA shared by
 * four VMLADAVA); the last npix % 4 pixels, or every pixel when the scratch holds one column, take
 * one column against three rows. A 1x1 conv ("pointwise", any stride) needs no copy: its columns
 * are the input pixels. FC: the input is one column, three weight rows at a time (VMLADAVA and
 * VADDVA need even accumulator registers: eight of them, six used). Depthwise with
 * depth multiplier 1: 16 channels in the lanes, x - zx and w widened to int16 by the loads,
 * VMULLB/VMULLT to int32 and VADD per tap; other multipliers: scalar.
 *
 * Output stage: in TFLite's arithmetic (conv and depthwise: MultiplyByQuantizedMultiplier) four
 * channels per vector: VSHL by max(e, 0), VQRDMULH (gemmlowp's SaturatingRoundingDoublingHighMul
 * exactly: both round (a*M + 2^30) / 2^31 down, saturating INT32_MIN * INT32_MIN), then
 * RoundingDivideByPOT by VRSHL of -max(-e, 0) after subtracting 1 from negative values (VRSHL
 * rounds ties up, gemmlowp away from zero; the -1 changes the result exactly on negative ties),
 * VQADD of zy and the clamp. kdc's arithmetic (a 64-bit product rounded once) and FC's TFLite
 * double scale (kdc_tfl_scale): scalar.
 *
 * Scratch (docs/FORMAT.md 3.6): conv with a window larger than 1x1, K = k_h*k_w*in_c: four int8
 * columns (4*K) if at most 4096, else one (K) if at most 4096, else 0 (dot products row by row
 * from x); 1x1 conv, FC and depthwise: 0.
 *
 * This file is compiled by gcc or clang for Arm only: right shifts of negative values are
 * arithmetic and int32 conversions wrap there (both compilers document it). */
#include "kdc_kernels.h"

#if KDC__VARIANT_MVE

#include <arm_mve.h>

/* Output zero point, clamp, per-channel constants and arithmetic (0 kdc_requant; 1 TFLite's
 * MultiplyByQuantizedMultiplier: kdc__outn; 0 or 2, TFLite's double scale of FULLY_CONNECTED:
 * kdc__outf). */
typedef struct {
    const int32_t *bias, *mult, *shift;
    int32_t zy, lo, hi, mode;
} kdc__oq;

static void kdc__oq_init(kdc__oq *q, const kdc_consts *c, int32_t zy, int32_t lo, int32_t hi,
                         int32_t mode)
{
    q->bias = c->bias, q->mult = c->mult, q->shift = c->shift;
    q->zy = zy, q->lo = lo, q->hi = hi, q->mode = mode;
}

/* kdc_requant (docs/QUANTIZATION.md 4) saturated to [-256, 255]: the output clamp within int8
 * gives the same bytes as from the int32 saturation (it is monotone). Out of line at -Os: the
 * leaf of the output stage's call chain, its frame all pushed registers, so the firmware's
 * painted stack equals the predicted one. */
KDC__SMALL static int32_t kdc__rq(int32_t acc, int32_t M, int32_t e)
{
    int64_t p = (int64_t)acc * M; /* |p| < 2^62 */
    int r = 31 - e;               /* 1..62 */
    int64_t t = (p + ((int64_t)1 << (r - 1)) - (p < 0)) >> r;
    return t > 255 ? 255 : t < -256 ? -256 : (int32_t)t;
}

/* TFLite's MultiplyByQuantizedMultiplier of bias[i] + s[i] (the sum modulo 2^32), + zy, clamped
 * to [lo, hi], for i < n (n >= 1), four lanes at a time; the last n % 4 lanes predicated (their
 * loads read nothing, their bytes are not stored). */
KDC__SMALL static void kdc__outq(int8_t *y, const int32_t *s, const int32_t *bias,
                                 const int32_t *mult, const int32_t *shift, size_t n,
                                 const kdc__oq *q)
{
    int32x4_t zero = vdupq_n_s32(0), lo = vdupq_n_s32(q->lo), hi = vdupq_n_s32(q->hi);
    int32_t zy = q->zy;
    size_t i;
    for (i = 0; i < n; i += 4) {
        mve_pred16_t p = vctp32q((uint32_t)(n - i));
        int32x4_t e = vldrwq_z_s32(shift + i, p), right = vminq_s32(e, zero); /* -max(-e, 0) */
        int32x4_t a = vaddq_s32(vldrwq_z_s32(bias + i, p), vldrwq_z_s32(s + i, p));
        a = vshlq_s32(a, vmaxq_s32(e, zero)); /* x * 2^max(e, 0) modulo 2^32 */
        a = vqrdmulhq_s32(a, vldrwq_z_s32(mult + i, p));
        /* -1 for a < 0 when right != 0 (a & right has a's sign bit then, else is 0) */
        a = vqaddq_s32(a, vshrq_n_s32(vandq_s32(a, right), 31));
        a = vrshlq_s32(a, right);
        a = vqaddq_n_s32(a, zy);
        vstrbq_p_s32(y + i, vminq_s32(vmaxq_s32(a, lo), hi), p);
    }
}

/* y[i] = clamp(requant(bias[ch + i] + s[i]) + zy, lo, hi) for i < n (channels ch..ch+n-1,
 * n >= 1), in kdc's arithmetic (kdc__rq) or TFLite's MultiplyByQuantizedMultiplier (kdc__outq):
 * conv and depthwise. The bias add wraps modulo 2^32 as the reference's. */
KDC__SMALL static void kdc__outn(int8_t *y, const int32_t *s, size_t ch, size_t n, const kdc__oq *q)
{
    const int32_t *bias = q->bias + ch, *mult = q->mult + ch, *shift = q->shift + ch;
    int32_t r;
    size_t i;
    if (KDC__TFL(q->mode)) {
        kdc__outq(y, s, bias, mult, shift, n, q);
        return;
    }
    for (i = 0; i < n; i++) {
        r = kdc__rq((int32_t)((uint32_t)bias[i] + (uint32_t)s[i]), mult[i], shift[i]) + q->zy;
        r = r < q->lo ? q->lo : r;
        y[i] = (int8_t)(r > q->hi ? q->hi : r);
    }
}

/* kdc__outn for FC: kdc's arithmetic or TFLite's double scale (kdc_tfl_scale; mult and shift
 * are its low and high words). A function of its own so that the call of kdc_tfl_scale is on no
 * conv or depthwise call chain (the firmware's stack prediction, as in kdc_kernels_dsp.c). */
KDC__SMALL static void kdc__outf(int8_t *y, const int32_t *s, size_t ch, size_t n, const kdc__oq *q)
{
    const int32_t *bias = q->bias + ch, *mult = q->mult + ch, *shift = q->shift + ch;
    int32_t zy = q->zy, lo = q->lo, hi = q->hi, mode = q->mode, r;
    size_t i;
    (void)mode; /* unused with KDC_TFLITE 0 */
    for (i = 0; i < n; i++) {
        int32_t acc = (int32_t)((uint32_t)bias[i] + (uint32_t)s[i]);
        if (KDC__TFL(mode)) {
            r = kdc_tfl_scale(acc, (uint32_t)mult[i], (uint32_t)shift[i]);
            r = r > 255 ? 255 : r < -256 ? -256 : r;
        } else {
            r = kdc__rq(acc, mult[i], shift[i]);
        }
        r += zy;
        r = r < lo ? lo : r;
        y[i] = (int8_t)(r > hi ? hi : r);
    }
}

/* The dot-product and depthwise loops are inline asm under gcc (its -Os code for the intrinsic
 * forms kept the pointers on the stack, about 35 instructions per 64 multiply-accumulates, and
 * VMLADAVA's accumulator must be an even register: the "Te" constraint); clang, which has no
 * "Te", gets the intrinsic forms, which compute the same sums (-DKDC__MVE_ASM=0 builds them with
 * gcc too). Each asm statement takes at most 12 core registers (13 are free at -O0, where r7 is
 * the frame pointer). */
#ifndef KDC__MVE_ASM
#if defined(__clang__)
#define KDC__MVE_ASM 0
#else
#define KDC__MVE_ASM 1
#endif
#endif

/* a - zx * t modulo 2^32: a dot product from its sum x * w and sum w */
static inline int32_t kdc__fix(int32_t a, int32_t t, int32_t zx)
{
    return (int32_t)((uint32_t)a - (uint32_t)zx * (uint32_t)t);
}

/* sum (x[i] - zx) * w[i], i < k */
static int32_t kdc__dot(const int8_t *x, const int8_t *w, size_t k, int32_t zx)
{
    int32_t a = 0, t = 0;
#if KDC__MVE_ASM
    int32_t n = (int32_t)k;
    __asm__("subs %[n], %[n], #16\n\t"
            "blt 2f\n"
            "1:\n\t"
            "vldrb.u8 q0, [%[w]], #16\n\t"
            "vldrb.u8 q1, [%[x]], #16\n\t"
            "vaddva.s8 %[t], q0\n\t"
            "vmlava.s8 %[a], q1, q0\n\t"
            "subs %[n], %[n], #16\n\t"
            "bge 1b\n"
            "2:\n\t"
            "adds %[n], %[n], #16\n\t"
            "beq 3f\n\t"
            "vctp.8 %[n]\n\t"
            "vpstt\n\t"
            "vldrbt.u8 q0, [%[w]]\n\t"
            "vldrbt.u8 q1, [%[x]]\n\t"
            "vaddva.s8 %[t], q0\n\t"
            "vmlava.s8 %[a], q1, q0\n"
            "3:"
            : [a] "+Te"(a), [t] "+Te"(t), [x] "+r"(x), [w] "+r"(w), [n] "+r"(n)
            :
            : "cc", "memory", "p0", "d0", "d1", "d2", "d3");
#else
    for (; k >= 16; k -= 16, x += 16, w += 16) {
        int8x16_t wv = vldrbq_s8(w);
        t = vaddvaq_s8(t, wv);
        a = vmladavaq_s8(a, vldrbq_s8(x), wv);
    }
    if (k) {
        mve_pred16_t p = vctp8q((uint32_t)k);
        int8x16_t wv = vldrbq_z_s8(w, p);
        t = vaddvaq_s8(t, wv);
        a = vmladavaq_s8(a, vldrbq_z_s8(x, p), wv);
    }
#endif
    return kdc__fix(a, t, zx);
}

/* One column x against rows w, w + k, w + 2k (k values each): s[0..3). Per 16 values 12
 * instructions for 48 multiply-accumulates. */
static void kdc__mm13(int32_t *s, const int8_t *x, const int8_t *w, size_t k, int32_t zx)
{
    const int8_t *w1 = w + k, *w2 = w1 + k;
    int32_t a0 = 0, a1 = 0, a2 = 0, t0 = 0, t1 = 0, t2 = 0;
#if KDC__MVE_ASM
    int32_t n = (int32_t)k;
    __asm__("subs %[n], %[n], #16\n\t"
            "blt 2f\n"
            "1:\n\t"
            "vldrb.u8 q0, [%[x]], #16\n\t"
            "vldrb.u8 q1, [%[w0]], #16\n\t"
            "vaddva.s8 %[t0], q1\n\t"
            "vmlava.s8 %[a0], q0, q1\n\t"
            "vldrb.u8 q2, [%[w1]], #16\n\t"
            "vaddva.s8 %[t1], q2\n\t"
            "vmlava.s8 %[a1], q0, q2\n\t"
            "vldrb.u8 q3, [%[w2]], #16\n\t"
            "vaddva.s8 %[t2], q3\n\t"
            "vmlava.s8 %[a2], q0, q3\n\t"
            "subs %[n], %[n], #16\n\t"
            "bge 1b\n"
            "2:\n\t"
            "adds %[n], %[n], #16\n\t"
            "beq 3f\n\t"
            "vctp.8 %[n]\n\t"
            "vpstt\n\t"
            "vldrbt.u8 q0, [%[x]]\n\t"
            "vldrbt.u8 q1, [%[w0]]\n\t"
            "vpstt\n\t"
            "vldrbt.u8 q2, [%[w1]]\n\t"
            "vldrbt.u8 q3, [%[w2]]\n\t"
            "vaddva.s8 %[t0], q1\n\t"
            "vmlava.s8 %[a0], q0, q1\n\t"
            "vaddva.s8 %[t1], q2\n\t"
            "vmlava.s8 %[a1], q0, q2\n\t"
            "vaddva.s8 %[t2], q3\n\t"
            "vmlava.s8 %[a2], q0, q3\n"
            "3:"
            : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [t0] "+Te"(t0), [t1] "+Te"(t1),
              [t2] "+Te"(t2), [x] "+r"(x), [w0] "+r"(w), [w1] "+r"(w1), [w2] "+r"(w2), [n] "+r"(n)
            :
            : "cc", "memory", "p0", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7");
#else
    int8x16_t xv, wv;
    for (; k >= 16; k -= 16, x += 16, w += 16, w1 += 16, w2 += 16) {
        xv = vldrbq_s8(x);
        wv = vldrbq_s8(w), t0 = vaddvaq_s8(t0, wv), a0 = vmladavaq_s8(a0, xv, wv);
        wv = vldrbq_s8(w1), t1 = vaddvaq_s8(t1, wv), a1 = vmladavaq_s8(a1, xv, wv);
        wv = vldrbq_s8(w2), t2 = vaddvaq_s8(t2, wv), a2 = vmladavaq_s8(a2, xv, wv);
    }
    if (k) {
        mve_pred16_t p = vctp8q((uint32_t)k);
        xv = vldrbq_z_s8(x, p);
        wv = vldrbq_z_s8(w, p), t0 = vaddvaq_s8(t0, wv), a0 = vmladavaq_s8(a0, xv, wv);
        wv = vldrbq_z_s8(w1, p), t1 = vaddvaq_s8(t1, wv), a1 = vmladavaq_s8(a1, xv, wv);
        wv = vldrbq_z_s8(w2, p), t2 = vaddvaq_s8(t2, wv), a2 = vmladavaq_s8(a2, xv, wv);
    }
#endif
    s[0] = kdc__fix(a0, t0, zx), s[1] = kdc__fix(a1, t1, zx), s[2] = kdc__fix(a2, t2, zx);
}

/* Columns c[0..4) against one row w (k values): s[0], s[d], s[2d], s[3d]. Per 16 values 12
 * instructions for 64 multiply-accumulates. */
static void kdc__mm41(int32_t *s, size_t d, const int8_t *const c[4], const int8_t *w, size_t k,
                      int32_t zx)
{
    const int8_t *c0 = c[0], *c1 = c[1], *c2 = c[2], *c3 = c[3];
    int32_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, t = 0;
#if KDC__MVE_ASM
    int32_t n = (int32_t)k;
    __asm__("subs %[n], %[n], #16\n\t"
            "blt 2f\n"
            "1:\n\t"
            "vldrb.u8 q0, [%[w]], #16\n\t"
            "vldrb.u8 q1, [%[c0]], #16\n\t"
            "vaddva.s8 %[t], q0\n\t"
            "vmlava.s8 %[a0], q1, q0\n\t"
            "vldrb.u8 q2, [%[c1]], #16\n\t"
            "vmlava.s8 %[a1], q2, q0\n\t"
            "vldrb.u8 q3, [%[c2]], #16\n\t"
            "vmlava.s8 %[a2], q3, q0\n\t"
            "vldrb.u8 q1, [%[c3]], #16\n\t"
            "vmlava.s8 %[a3], q1, q0\n\t"
            "subs %[n], %[n], #16\n\t"
            "bge 1b\n"
            "2:\n\t"
            "adds %[n], %[n], #16\n\t"
            "beq 3f\n\t"
            "vctp.8 %[n]\n\t"
            "vpstt\n\t"
            "vldrbt.u8 q0, [%[w]]\n\t"
            "vldrbt.u8 q1, [%[c0]]\n\t"
            "vpstt\n\t"
            "vldrbt.u8 q2, [%[c1]]\n\t"
            "vldrbt.u8 q3, [%[c2]]\n\t"
            "vaddva.s8 %[t], q0\n\t"
            "vmlava.s8 %[a0], q1, q0\n\t"
            "vmlava.s8 %[a1], q2, q0\n\t"
            "vmlava.s8 %[a2], q3, q0\n\t"
            "vpst\n\t"
            "vldrbt.u8 q1, [%[c3]]\n\t"
            "vmlava.s8 %[a3], q1, q0\n"
            "3:"
            : [a0] "+Te"(a0), [a1] "+Te"(a1), [a2] "+Te"(a2), [a3] "+Te"(a3), [t] "+Te"(t),
              [c0] "+r"(c0), [c1] "+r"(c1), [c2] "+r"(c2), [c3] "+r"(c3), [w] "+r"(w), [n] "+r"(n)
            :
            : "cc", "memory", "p0", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7");
#else
    int8x16_t wv;
    for (; k >= 16; k -= 16, w += 16, c0 += 16, c1 += 16, c2 += 16, c3 += 16) {
        wv = vldrbq_s8(w), t = vaddvaq_s8(t, wv);
        a0 = vmladavaq_s8(a0, vldrbq_s8(c0), wv);
        a1 = vmladavaq_s8(a1, vldrbq_s8(c1), wv);
        a2 = vmladavaq_s8(a2, vldrbq_s8(c2), wv);
        a3 = vmladavaq_s8(a3, vldrbq_s8(c3), wv);
    }
    if (k) {
        mve_pred16_t p = vctp8q((uint32_t)k);
        wv = vldrbq_z_s8(w, p), t = vaddvaq_s8(t, wv);
        a0 = vmladavaq_s8(a0, vldrbq_z_s8(c0, p), wv);
        a1 = vmladavaq_s8(a1, vldrbq_z_s8(c1, p), wv);
        a2 = vmladavaq_s8(a2, vldrbq_z_s8(c2, p), wv);
        a3 = vmladavaq_s8(a3, vldrbq_z_s8(c3, p), wv);
    }
#endif
    s[0] = kdc__fix(a0, t, zx), s[d] = kdc__fix(a1, t, zx);
    s[2 * d] = kdc__fix(a2, t, zx), s[3 * d] = kdc__fix(a3, t, zx);
}

/* Channels per output-stage call: the accumulators of a block wait on the stack. A multiple of
 * 16 (the depthwise lanes). */
#define KDC__BLOCK 16u

void kdc_fc_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_fc_params *p,
               void *scratch)
{
    size_t o, j, k = p->k, n = p->n, nb;
    int32_t s[KDC__BLOCK], zx = p->zx;
    kdc__oq q;
    (void)scratch;
    kdc__oq_init(&q, c, p->zy, p->act_min, p->act_max, KDC__TFL(p->tflite) ? 2 : 0);
    for (o = 0; o < n; o += nb) {
        const int8_t *w = c->weights + o * k;
        nb = n - o < KDC__BLOCK ? n - o : KDC__BLOCK;
        for (j = 0; j + 3 <= nb; j += 3) kdc__mm13(s + j, x, w + j * k, k, zx);
        for (; j < nb; j++) s[j] = kdc__dot(x, w + j * k, k, zx);
        kdc__outf(y + o, s, o, nb, &q);
    }
}

/* Window of output o along one axis: in-bounds taps [lo, hi) and s, the input index of tap lo
 * (the window starts at o*stride - pad, which may be < 0). */
static void kdc__range(size_t o, size_t stride, size_t pad, size_t k, size_t n, size_t *s,
                       size_t *lo, size_t *hi)
{
    size_t start = o * stride; /* window start + pad, never negative */
    *lo = start < pad ? pad - start : 0;
    *hi = start + k - pad > n ? n + pad - start : k;
    *s = start - pad + *lo;
}

/* d[0..n) = s[0..n) (s NULL: the byte z), 16 bytes per predicated store */
static void kdc__copy(int8_t *d, const int8_t *s, size_t n, int32_t z)
{
    int8x16_t zv = vdupq_n_s8((int8_t)z);
    size_t i;
    for (i = 0; i < n; i += 16) {
        mve_pred16_t p = vctp8q((uint32_t)(n - i));
        vstrbq_p_s8(d + i, s ? vldrbq_z_s8(s + i, p) : zv, p);
    }
}

/* Scratch for conv: four int8 columns of K, else one, else none; 1x1 windows need none. Any
 * parameter values give a bounded answer (K computed modulo 2^N is compared before scaling). */
size_t kdc_conv2d_s8_scratch_bytes(const kdc_conv_params *p)
{
    size_t k = p->k_h * p->k_w * p->in_c;
    if (p->k_h == 1 && p->k_w == 1) return 0;
    return k <= KDC__SCRATCH_BOUND / 4 ? 4 * k : k <= KDC__SCRATCH_BOUND ? k : 0;
}

/* The column of output pixel pix (row-major over out_h x out_w): K int8 values, taps in the
 * padding zx. */
static void kdc__im2col(int8_t *col, const int8_t *x, const kdc_conv_params *p, size_t pix)
{
    size_t iy, ky0, ky1, ix, kx0, kx1, ky, ci = p->in_c, row = p->k_w * ci, len;
    int32_t zx = p->zx;
    kdc__range(pix / p->out_w, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
    kdc__range(pix % p->out_w, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
    len = (kx1 - kx0) * ci;
    if (ky0 > 0 || ky1 < p->k_h || len < row) /* taps in the padding */
        kdc__copy(col, NULL, p->k_h * row, zx);
    for (ky = ky0; ky < ky1; ky++)
        kdc__copy(col + ky * row + kx0 * ci, x + ((iy + ky - ky0) * p->in_w + ix) * ci, len, 0);
}

/* A 1x1 window (no padding: pad < k): the input pixel of output pixel pix. */
static const int8_t *kdc__pixel(const int8_t *x, const kdc_conv_params *p, size_t pix)
{
    return x + ((pix / p->out_w * p->stride_h) * p->in_w + pix % p->out_w * p->stride_w) * p->in_c;
}

/* Output pixels four at a time in row-major order (a group may span rows), their columns (in
 * the scratch, or the input pixels of a 1x1 window) against one weight row at a time; the last
 * npix % 4 pixels, and every pixel when the scratch holds one column, one column against four
 * rows; without scratch, dot products row by row from x. */
void kdc_conv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *pp,
                   void *scratch)
{
    const kdc_conv_params P = *pp, *p = &P; /* a local copy: stores to y cannot alias it */
    const int8_t *w = c->weights;
    size_t k = p->k_h * p->k_w * p->in_c, cout = p->out_c, npix = p->out_h * p->out_w;
    size_t need = kdc_conv2d_s8_scratch_bytes(p), pix, co, g, i, j, nb;
    int pointwise = p->k_h == 1 && p->k_w == 1;
    int32_t acc[4][KDC__BLOCK], zx = p->zx;
    int8_t *cols = (int8_t *)scratch;
    kdc__oq q;
    kdc__oq_init(&q, c, p->zy, p->act_min, p->act_max, KDC__TFL(p->tflite) ? 1 : 0);
    for (pix = 0; pix < npix; pix += g, y += g * cout) {
        const int8_t *col[4];
        g = npix - pix < 4 ? npix - pix : 4;
        if (!pointwise && need < 4 * k) g = 1;
        if (!pointwise && need == 0) { /* no room for a column: row by row from x */
            size_t iy, ky0, ky1, ix, kx0, kx1, ky, ci = p->in_c, row = p->k_w * ci, len;
            kdc__range(pix / p->out_w, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
            kdc__range(pix % p->out_w, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
            len = (kx1 - kx0) * ci;
            for (co = 0; co < cout; co += nb) {
                nb = cout - co < KDC__BLOCK ? cout - co : KDC__BLOCK;
                for (j = 0; j < nb; j++) {
                    const int8_t *wc = w + (co + j) * k + kx0 * ci;
                    int32_t s = 0;
                    for (ky = ky0; ky < ky1; ky++)
                        s += kdc__dot(x + ((iy + ky - ky0) * p->in_w + ix) * ci, wc + ky * row, len,
                                      zx);
                    acc[0][j] = s;
                }
                kdc__outn(y + co, acc[0], co, nb, &q);
            }
            continue;
        }
        for (i = 0; i < g; i++) {
            if (pointwise) {
                col[i] = kdc__pixel(x, p, pix + i);
            } else {
                kdc__im2col(cols + i * k, x, p, pix + i);
                col[i] = cols + i * k;
            }
        }
        for (co = 0; co < cout; co += nb) {
            const int8_t *wb = w + co * k;
            nb = cout - co < KDC__BLOCK ? cout - co : KDC__BLOCK;
            if (g == 4) {
                for (j = 0; j < nb; j++) kdc__mm41(&acc[0][j], KDC__BLOCK, col, wb + j * k, k, zx);
            } else {
                for (i = 0; i < g; i++) {
                    for (j = 0; j + 3 <= nb; j += 3)
                        kdc__mm13(&acc[i][j], col[i], wb + j * k, k, zx);
                    for (; j < nb; j++) acc[i][j] = kdc__dot(col[i], wb + j * k, k, zx);
                }
            }
            for (i = 0; i < g; i++) kdc__outn(y + i * cout + co, acc[i], co, nb, &q);
        }
    }
}

/* Depthwise, multiplier 1, channels 0..n-1 (n <= 16) in the lanes: s[i] = sum over the window's
 * taps of (x[i] - zx) * w[i], x and w at the window's first in-bounds tap, c channels apart tap
 * to tap, nky rows of nkx taps (both >= 1), the next row xskip and wskip bytes after a row's
 * end; s[n..16) get 0. Per tap and 8 channels: x and w widened to int16 by the loads, x - zx,
 * VMULLB (even channels) and VMULLT (odd channels) to int32 and two VADDs; the accumulators
 * are stored back in channel order (VST20/VST21 interleave the even and odd ones). With n < 16
 * the loads are predicated (VCTP): lanes of channels >= n read nothing and load 0. 18
 * instructions per tap for 16 channels (22 predicated). */
static void kdc__dw16(int32_t *s, const int8_t *x, const int8_t *w, size_t c, size_t nky,
                      size_t nkx, size_t xskip, size_t wskip, int32_t zx, size_t n)
{
#if KDC__MVE_ASM
    int32_t kx, n0 = (int32_t)n, n1 = n > 8 ? (int32_t)n - 8 : 0;
    if (n == 16)
        __asm__ __volatile__("vmov.i32 q0, #0\n\t"
                             "vmov.i32 q1, #0\n\t"
                             "vmov.i32 q2, #0\n\t"
                             "vmov.i32 q3, #0\n"
                             "2:\n\t"
                             "ldr %[kx], %[nkx]\n"
                             "1:\n\t"
                             "vldrb.s16 q4, [%[x]]\n\t"
                             "vldrb.s16 q5, [%[w]]\n\t"
                             "vsub.i16 q4, q4, %[z]\n\t"
                             "vmullb.s16 q6, q4, q5\n\t"
                             "vadd.i32 q0, q0, q6\n\t"
                             "vmullt.s16 q6, q4, q5\n\t"
                             "vadd.i32 q1, q1, q6\n\t"
                             "vldrb.s16 q4, [%[x], #8]\n\t"
                             "vldrb.s16 q5, [%[w], #8]\n\t"
                             "vsub.i16 q4, q4, %[z]\n\t"
                             "vmullb.s16 q6, q4, q5\n\t"
                             "vadd.i32 q2, q2, q6\n\t"
                             "vmullt.s16 q6, q4, q5\n\t"
                             "vadd.i32 q3, q3, q6\n\t"
                             "add %[x], %[x], %[c]\n\t"
                             "add %[w], %[w], %[c]\n\t"
                             "subs %[kx], %[kx], #1\n\t"
                             "bne 1b\n\t"
                             "ldr %[kx], %[xskip]\n\t"
                             "add %[x], %[x], %[kx]\n\t"
                             "ldr %[kx], %[wskip]\n\t"
                             "add %[w], %[w], %[kx]\n\t"
                             "ldr %[kx], %[ky]\n\t"
                             "subs %[kx], %[kx], #1\n\t"
                             "str %[kx], %[ky]\n\t"
                             "bne 2b\n\t"
                             "ldr %[kx], %[s]\n\t"
                             "vst20.32 {q0, q1}, [%[kx]]\n\t"
                             "vst21.32 {q0, q1}, [%[kx]]!\n\t"
                             "vst20.32 {q2, q3}, [%[kx]]\n\t"
                             "vst21.32 {q2, q3}, [%[kx]]"
                             : [x] "+l"(x), [w] "+l"(w), [ky] "+m"(nky), [kx] "=&r"(kx)
                             : [c] "r"(c), [z] "r"(zx), [xskip] "m"(xskip), [wskip] "m"(wskip),
                               [nkx] "m"(nkx), [s] "m"(s)
                             : "cc", "memory", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8",
                               "d9", "d10", "d11", "d12", "d13");
    else
        __asm__ __volatile__("vmov.i32 q0, #0\n\t"
                             "vmov.i32 q1, #0\n\t"
                             "vmov.i32 q2, #0\n\t"
                             "vmov.i32 q3, #0\n"
                             "2:\n\t"
                             "ldr %[kx], %[nkx]\n"
                             "1:\n\t"
                             "vctp.16 %[n0]\n\t"
                             "vpstt\n\t"
                             "vldrbt.s16 q4, [%[x]]\n\t"
                             "vldrbt.s16 q5, [%[w]]\n\t"
                             "vsub.i16 q4, q4, %[z]\n\t"
                             "vmullb.s16 q6, q4, q5\n\t"
                             "vadd.i32 q0, q0, q6\n\t"
                             "vmullt.s16 q6, q4, q5\n\t"
                             "vadd.i32 q1, q1, q6\n\t"
                             "vctp.16 %[n1]\n\t"
                             "vpstt\n\t"
                             "vldrbt.s16 q4, [%[x], #8]\n\t"
                             "vldrbt.s16 q5, [%[w], #8]\n\t"
                             "vsub.i16 q4, q4, %[z]\n\t"
                             "vmullb.s16 q6, q4, q5\n\t"
                             "vadd.i32 q2, q2, q6\n\t"
                             "vmullt.s16 q6, q4, q5\n\t"
                             "vadd.i32 q3, q3, q6\n\t"
                             "add %[x], %[x], %[c]\n\t"
                             "add %[w], %[w], %[c]\n\t"
                             "subs %[kx], %[kx], #1\n\t"
                             "bne 1b\n\t"
                             "ldr %[kx], %[xskip]\n\t"
                             "add %[x], %[x], %[kx]\n\t"
                             "ldr %[kx], %[wskip]\n\t"
                             "add %[w], %[w], %[kx]\n\t"
                             "ldr %[kx], %[ky]\n\t"
                             "subs %[kx], %[kx], #1\n\t"
                             "str %[kx], %[ky]\n\t"
                             "bne 2b\n\t"
                             "ldr %[kx], %[s]\n\t"
                             "vst20.32 {q0, q1}, [%[kx]]\n\t"
                             "vst21.32 {q0, q1}, [%[kx]]!\n\t"
                             "vst20.32 {q2, q3}, [%[kx]]\n\t"
                             "vst21.32 {q2, q3}, [%[kx]]"
                             : [x] "+l"(x), [w] "+l"(w), [ky] "+m"(nky), [kx] "=&r"(kx)
                             : [c] "r"(c), [z] "r"(zx), [xskip] "m"(xskip), [wskip] "m"(wskip),
                               [nkx] "m"(nkx), [s] "m"(s), [n0] "r"(n0), [n1] "r"(n1)
                             : "cc", "memory", "p0", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7",
                               "d8", "d9", "d10", "d11", "d12", "d13");
#else
    static const uint32_t even[4] = {0, 2, 4, 6};
    mve_pred16_t p0 = vctp16q((uint32_t)n), p1 = vctp16q((uint32_t)(n > 8 ? n - 8 : 0));
    int32x4_t e0 = vdupq_n_s32(0), o0 = e0, e1 = e0, o1 = e0;
    uint32x4_t off = vldrwq_u32(even);
    int16_t z = (int16_t)zx;
    size_t kx;
    for (; nky; nky--, x += xskip, w += wskip)
        for (kx = nkx; kx; kx--, x += c, w += c) {
            int16x8_t a = vsubq_n_s16(vldrbq_z_s16(x, p0), z), b = vldrbq_z_s16(w, p0);
            int16x8_t a1 = vsubq_n_s16(vldrbq_z_s16(x + 8, p1), z), b1 = vldrbq_z_s16(w + 8, p1);
            e0 = vaddq_s32(e0, vmullbq_int_s16(a, b)), o0 = vaddq_s32(o0, vmulltq_int_s16(a, b));
            e1 = vaddq_s32(e1, vmullbq_int_s16(a1, b1));
            o1 = vaddq_s32(o1, vmulltq_int_s16(a1, b1));
        }
    vstrwq_scatter_shifted_offset_s32(s, off, e0);
    vstrwq_scatter_shifted_offset_s32(s + 1, off, o0);
    vstrwq_scatter_shifted_offset_s32(s + 8, off, e1);
    vstrwq_scatter_shifted_offset_s32(s + 9, off, o1);
#endif
}

void kdc_dwconv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *pp,
                     void *scratch)
{
    const kdc_conv_params P = *pp, *p = &P; /* a local copy: stores to y cannot alias it */
    const int8_t *w = c->weights;
    size_t oy, ox, cin = p->in_c, cout = p->out_c, xrow = p->in_w * cin, wrow = p->k_w * cout;
    int32_t zx = p->zx;
    kdc__oq q;
    (void)scratch;
    kdc__oq_init(&q, c, p->zy, p->act_min, p->act_max, KDC__TFL(p->tflite) ? 1 : 0);
    for (oy = 0; oy < p->out_h; oy++) {
        size_t iy, ky0, ky1;
        kdc__range(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
        for (ox = 0; ox < p->out_w; ox++, y += cout) {
            size_t ix, kx0, kx1, oc, nky = ky1 - ky0, nkx, ky, kx, nb;
            int32_t acc[KDC__BLOCK];
            const int8_t *x0, *w0;
            kdc__range(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
            nkx = kx1 - kx0;
            x0 = x + (iy * p->in_w + ix) * cin, w0 = w + (ky0 * p->k_w + kx0) * cout;
            for (oc = 0; oc < cout; oc += nb) {
                size_t j;
                nb = cout - oc < KDC__BLOCK ? cout - oc : KDC__BLOCK;
                if (p->depth_mult == 1) {
                    kdc__dw16(acc, x0 + oc, w0 + oc, cin, nky, nkx, xrow - nkx * cin,
                              wrow - nkx * cout, zx, nb);
                } else {
                    for (j = 0; j < nb; j++) { /* oc + j = ic * depth_mult + m */
                        const int8_t *xr = x0 + (oc + j) / p->depth_mult, *wr = w0 + oc + j;
                        int32_t sum = 0;
                        for (ky = 0; ky < nky; ky++, xr += xrow, wr += wrow)
                            for (kx = 0; kx < nkx; kx++) sum += (xr[kx * cin] - zx) * wr[kx * cout];
                        acc[j] = sum;
                    }
                }
                kdc__outn(y + oc, acc, oc, nb, &q);
            }
        }
    }
}

#else
typedef int kdc__mve_not_selected; /* ISO C forbids an empty translation unit */
#endif /* KDC__VARIANT_MVE */
