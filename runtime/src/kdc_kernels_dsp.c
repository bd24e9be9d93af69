/* kdc_kernels_dsp.c - the Armv7E-M DSP variant ("dsp"; kdc_kernels.h selects it
 * where
 * __ARM_FEATURE_DSP is defined: Cortex-M4, M7, M33, M55): FC, conv and
 * depthwise on the packed 16-bit multiply-accumulates SMLAD, SMLABB and SMLATT,
 * int8 operands widened by SXTB16 (ACLE intrinsics of <arm_acle.h>, one rotate
 * in inline asm). Every other kernel is the portable variant's
 * (kdc_kernels_portable.c, built too). Byte for byte equal to the reference
 * (kdc_kernels_ref.c) in both arithmetics: tests/test_variants.c and the golden
 * kernels, run under QEMU on Cortex-M4, M7 and M33 (runtime/Makefile,
 * `qemu-test`).
 *
 * Conv is a GEMM over im2col columns: the window of one output pixel as int16
 * values x - zx (0 for taps in the padding), K = k_h*k_w*in_c of them, in the
 * scratch; two pixels' columns against two weight rows at a time (2x2 output
 * blocking), one column against four rows for a last odd pixel. In a column
 * each group of 4 values is stored (v0, v2, v1, v3): SXTB16 of a weight word
 * gives (w0, w2) and SXTB16 of it rotated by 8 gives (w1, w3), so each half
 * meets its weights with one SMLAD and the weights are read as stored. The K %
 * 4 last values take a scalar tail. A 1x1 conv is the same GEMM, its column the
 * input pixel. FC: the input is one column, four weight rows at a time.
 * Depthwise with depth multiplier 1: four channels per 32-bit load, one
 * SMLABB/SMLATT per channel and tap; other multipliers and the last in_c % 4
 * channels: scalar.
 *
 * Scratch (docs/FORMAT.md 3.6), K4 = round_up(K, 4), 3 bytes to align the
 * columns to 4: conv 4*K4 + 3 (two columns) if at most 4096, else 2*K4 + 3 (one
 * column) if at most 4096, else 0 (dot products row by row from x); FC 2*K4 + 3
 * if at most 4096, else 0 (from x).
 *
 * This file is compiled by gcc or clang for Arm only: right shifts of negative
 * values are arithmetic and int32 conversions wrap there (both compilers
 * document it). */
#include "kdc_kernels.h"

#if KDC__VARIANT_DSP

#include <arm_acle.h>
#include <string.h>

/* A 32-bit load from any address (one LDR: Armv7E-M allows unaligned LDR). */
static inline int32_t kdc__ld(const int8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* SXTB16 of v rotated right by 8: bytes 1 and 3 as two int16 (ACLE has no
 * rotate operand). */
static inline int32_t kdc__sx13(int32_t v)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* (z, z) as two int16 */
static int32_t kdc__pair(int32_t z) { return (int32_t)(((uint32_t)z & 0xffffu) * 0x10001u); }

/* The asm loops stay functions of their own at every level: inlined into a kernel, gcc -O3 (or
 * -O2 with a hard-float ABI) could not find the registers they take ("impossible constraints"). */
#define KDC__NOINLINE __attribute__((noinline))

/* The scratch, 4-byte aligned (the queries add 3 bytes for this). */
static int16_t *kdc__cols(void *scratch)
{
    return (int16_t *)(void *)(((uintptr_t)scratch + 3u) & ~(uintptr_t)3u);
}

/* Output zero point, clamp, per-channel constants and arithmetic of kdc__outn
 * (0 kdc_requant, 1 TFLite's MultiplyByQuantizedMultiplier; FC in TFLite's
 * arithmetic, its double scale, takes kdc__outf). */
typedef struct {
    const int32_t *bias, *mult, *shift;
    int32_t zy, lo, hi, mode;
} kdc__oq;

/* kdc_tfl_mbqm (kdc_tflite.c), inline: srdhm(a, M) is floor((a*M + 2^30) /
 * 2^31) for M >= 0 (gemmlowp's nudge 1 - 2^30 for a negative product p with the
 * division truncated toward zero gives the same: trunc((p + 1 - 2^30) / 2^31) =
 * floor((p + 2^30) / 2^31) for p < 0), then RoundingDivideByPOT as gemmlowp
 * writes it. */
#if !defined(__OPTIMIZE__) /* kdc__outn's C form; its asm computes the same */
static inline int32_t kdc__mbqm(int32_t x, int32_t M, int32_t e)
{
    int32_t left = e > 0 ? e : 0, right = e > 0 ? 0 : -e;
    int32_t xs = (int32_t)((uint32_t)x << left); /* modulo 2^32, as LiteRT's int32 product */
    int32_t h = (int32_t)(((int64_t)xs * M + ((int64_t)1 << 30)) >> 31);
    int32_t mask = (int32_t)((1u << right) - 1u), rem = h & mask;
    return (h >> right) + (rem > (mask >> 1) + (h < 0));
}

/* kdc_requant (docs/QUANTIZATION.md 4) saturated to [-256, 255]: the output
 * clamp within int8 gives the same bytes as from the int32 saturation (it is
 * monotone). */
static inline int32_t kdc__rqi(int32_t acc, int32_t M, int32_t e)
{
    int64_t p = (int64_t)acc * M; /* |p| < 2^62 */
    int r = 31 - e;               /* 1..62 */
    int64_t t = (p + ((int64_t)1 << (r - 1)) - (p < 0)) >> r;
    return t > 255 ? 255 : t < -256 ? -256 : (int32_t)t;
}
#endif

/* The output stage's loop, in asm. For shifts e <= -2 (multipliers below 1/4,
 * what trained layers have; 15 instructions for the requantization, 13 for the
 * clamp, store and loop) both arithmetics end in one 64-bit product (hi, lo) =
 * a*M + N and one rounding shift of its high word:
 *   y = floor((hi + 2^(-2-e)) / 2^(-1-e)),
 * kdc's requant with N = -[a < 0] (r = 31 - e >= 33: the low word cannot carry
 * into the rounding), TFLite's srdhm then RoundingDivideByPOT (r = -e) with N =
 * 2^30 - [a < 0]*2^31 (the floors of the two steps nest into one; [a < 0] stands
 * for [srdhm < 0], as they differ only where srdhm is 0, which rounds to 0
 * either way). Both |hi| < 2^30 + 2: the nudge cannot overflow. Other shifts
 * take SLOW (label 5), which leaves the value saturated to [-256, 255] in hi.
 * Then + zy, saturate to int8 (the same bytes as saturating to [-256, 255]
 * first: the clamp is monotone) and the clamp. INIT: lo from hi = -[a < 0]. */
#define KDC__OUTLOOP(INIT, SLOW)                                                                   \
    "1:\n\t"                                                                                       \
    "ldr %[a], [%[ps]], #4\n\t"                                                                    \
    "ldr %[u], [%[pb]], #4\n\t"                                                                    \
    "add %[a], %[a], %[u]\n\t"                                                                     \
    "ldr %[e], [%[pm], %[d]]\n\t"                                                                  \
    "ldr %[m], [%[pm]], #4\n\t"                                                                    \
    "cmn %[e], #1\n\t"                                                                             \
    "bpl 5f\n\t"                                                                                   \
    "asr %[hi], %[a], #31\n\t" INIT "smlal %[lo], %[hi], %[a], %[m]\n\t"                           \
    "mvn %[e], %[e]\n\t"                                                                           \
    "mov %[u], #1\n\t"                                                                             \
    "lsl %[u], %[u], %[e]\n\t"                                                                     \
    "add %[hi], %[hi], %[u], lsr #1\n\t"                                                           \
    "asr %[hi], %[hi], %[e]\n\t"                                                                   \
    "3:\n\t"                                                                                       \
    "sxtah %[hi], %[hi], %[k]\n\t" /* + zy */                                                      \
    "ssat %[hi], #8, %[hi]\n\t"                                                                    \
    "sxtb %[u], %[k], ror #16\n\t" /* lo */                                                        \
    "cmp %[hi], %[u]\n\t"                                                                          \
    "it lt\n\t"                                                                                    \
    "movlt %[hi], %[u]\n\t"                                                                        \
    "asr %[u], %[k], #24\n\t" /* hi */                                                             \
    "cmp %[hi], %[u]\n\t"                                                                          \
    "it gt\n\t"                                                                                    \
    "movgt %[hi], %[u]\n\t"                                                                        \
    "strb %[hi], [%[y]], #1\n\t"                                                                   \
    "subs %[n], %[n], #1\n\t"                                                                      \
    "bne 1b\n\t"                                                                                   \
    "b 9f\n\t"                                                                                     \
    "5:\n\t" SLOW "b 3b\n\t"                                                                       \
    "9:"
/* TFLite, e >= -1 (kdc__mbqm): left = max(e, 0), right = left - e (0 or 1); h
 * = srdhm(a << left, M) = floor((a*M + 2^30) / 2^31); RoundingDivideByPOT by
 * right: (h + right - (right & [h < 0])) >> right. */
#define KDC__SLOW_TFL                                                                              \
    "bic %[u], %[e], %[e], asr #31\n\t"                                                            \
    "lsl %[a], %[a], %[u]\n\t"                                                                     \
    "sub %[e], %[u], %[e]\n\t"                                                                     \
    "mov %[lo], #0x40000000\n\t"                                                                   \
    "mov %[hi], #0\n\t"                                                                            \
    "smlal %[lo], %[hi], %[a], %[m]\n\t"                                                           \
    "lsr %[lo], %[lo], #31\n\t"                                                                    \
    "orr %[hi], %[lo], %[hi], lsl #1\n\t"                                                          \
    "and %[u], %[e], %[hi], lsr #31\n\t"                                                           \
    "add %[hi], %[hi], %[e]\n\t"                                                                   \
    "sub %[hi], %[hi], %[u]\n\t"                                                                   \
    "asr %[hi], %[hi], %[e]\n\t"                                                                   \
    "ssat %[hi], #9, %[hi]\n\t"
/* kdc, e >= -1 (kdc__rqi): r = 31 - e in 1..32; (a*M - [a < 0] + 2^(r-1)) >> r
 * over 64 bits, then saturated to [-256, 255] (a result beyond int32, hi not
 * the sign of lo, by hi's sign). */
#define KDC__SLOW_KDC                                                                              \
    "rsb %[e], %[e], #31\n\t"                                                                      \
    "asr %[hi], %[a], #31\n\t"                                                                     \
    "mov %[lo], %[hi]\n\t"                                                                         \
    "smlal %[lo], %[hi], %[a], %[m]\n\t"                                                           \
    "sub %[a], %[e], #1\n\t"                                                                       \
    "mov %[u], #1\n\t"                                                                             \
    "lsl %[u], %[u], %[a]\n\t"                                                                     \
    "adds %[lo], %[lo], %[u]\n\t"                                                                  \
    "adc %[hi], %[hi], #0\n\t"                                                                     \
    "lsr %[lo], %[lo], %[e]\n\t"                                                                   \
    "rsb %[a], %[e], #32\n\t"                                                                      \
    "lsl %[u], %[hi], %[a]\n\t"                                                                    \
    "orr %[lo], %[lo], %[u]\n\t"                                                                   \
    "asr %[hi], %[hi], %[e]\n\t"                                                                   \
    "cmp %[hi], %[lo], asr #31\n\t"                                                                \
    "itt ne\n\t"                                                                                   \
    "asrne %[lo], %[hi], #31\n\t"                                                                  \
    "eorne %[lo], %[lo], #255\n\t"                                                                 \
    "ssat %[hi], #9, %[lo]\n\t"
#define KDC__OUTOPS                                                                                \
    : [y] "+r"(y), [ps] "+r"(s), [pb] "+r"(bias), [pm] "+r"(mult), [n] "+r"(n), [a] "=&r"(a),     \
      [e] "=&r"(e), [m] "=&r"(m), [lo] "=&r"(lo), [hi] "=&r"(hi), [u] "=&r"(u)                     \
    : [d] "r"(d), [k] "r"(k)                                                                       \
    : "cc", "memory", "r11"

/* y[i] = clamp(requant(bias[ch + i] + s[i]) + zy, lo, hi) for i < n (channels
 * ch..ch+n-1, n >= 1), in kdc's arithmetic (kdc__rqi) or TFLite's
 * MultiplyByQuantizedMultiplier (kdc__mbqm): conv, depthwise, and FC in kdc's
 * arithmetic. r11 is clobbered so that the frame holds nine registers, as
 * kdc__mm14's: the FC's deepest call chain is then this one, which always
 * runs. The bias add
 * wraps modulo 2^32 as the reference's. One asm loop (13 registers) and no
 * calls: a leaf whose frame is the registers it pushes, every word written,
 * so the firmware's painted stack equals the predicted one. */
KDC__SMALL static void kdc__outn(int8_t *y, const int32_t *s, size_t ch, size_t n, const kdc__oq *q)
{
    const int32_t *bias = q->bias + ch, *mult = q->mult + ch;
    size_t d = (size_t)((uintptr_t)(q->shift + ch) - (uintptr_t)mult); /* shift = mult + d */
    int32_t k = (int32_t)(((uint32_t)q->hi << 24) | (((uint32_t)q->lo & 0xffu) << 16) |
                          ((uint32_t)q->zy & 0xffffu)); /* zy (16 bits), lo, hi: one register */
    int32_t a, e, m, lo, hi, u;
#if defined(__OPTIMIZE__)
    if (KDC__TFL(q->mode))
        __asm__ __volatile__(
            KDC__OUTLOOP("lsl %[lo], %[hi], #31\n\torr %[lo], %[lo], #0x40000000\n\t",
                         KDC__SLOW_TFL) KDC__OUTOPS);
    else
        __asm__ __volatile__(KDC__OUTLOOP("mov %[lo], %[hi]\n\t", KDC__SLOW_KDC) KDC__OUTOPS);
#else /* at -O0 gcc may not give the asm its 13 registers ("impossible constraints"): C */
    for (; n; n--) {
        a = (int32_t)((uint32_t)*bias++ + (uint32_t)*s++);
        e = *(const int32_t *)(const void *)((const char *)mult + d), m = *mult++;
        u = (KDC__TFL(q->mode) ? __ssat(kdc__mbqm(a, m, e), 9) : kdc__rqi(a, m, e)) + q->zy;
        u = u < q->lo ? q->lo : u;
        *y++ = (int8_t)(u > q->hi ? q->hi : u);
    }
    (void)k, (void)lo, (void)hi;
#endif
}

/* kdc__outn for FC in TFLite's arithmetic: its double scale (kdc_tfl_scale;
 * mult and shift are its low and high words; kdc's arithmetic takes kdc__outn).
 * A function of its own so that the call of kdc_tfl_scale is on no conv or
 * depthwise call chain: the firmware's stack prediction (the deepest chain of
 * gcc's call graph, Sources/KDCTarget/StackAnalysis.swift) then equals the
 * measured stack. */
#if KDC_TFLITE
KDC__SMALL static void kdc__outf(int8_t *y, const int32_t *s, size_t ch, size_t n, const kdc__oq *q)
{
    const int32_t *bias = q->bias + ch, *mult = q->mult + ch, *shift = q->shift + ch;
    int32_t zy = q->zy, lo = q->lo, hi = q->hi, r;
    size_t i;
    for (i = 0; i < n; i++) {
        int32_t acc = (int32_t)((uint32_t)bias[i] + (uint32_t)s[i]);
        r = __ssat(kdc_tfl_scale(acc, (uint32_t)mult[i], (uint32_t)shift[i]), 9) + zy;
        r = r < lo ? lo : r;
        y[i] = (int8_t)(r > hi ? hi : r);
    }
}
#endif

static void kdc__oq_init(kdc__oq *q, const kdc_consts *c, int32_t zy, int32_t lo, int32_t hi,
                         int32_t mode)
{
    q->bias = c->bias, q->mult = c->mult, q->shift = c->shift;
    q->zy = zy, q->lo = lo, q->hi = hi, q->mode = mode;
}

/* Channels per kdc__outn call: the accumulators of a block wait on the stack.
 */
#define KDC__BLOCK 32u

/* Position of value j in a column: groups of 4 stored (v0, v2, v1, v3). */
#define KDC__POS(j) (((j) & ~(size_t)3) | (((j)&1u) << 1) | (((j) >> 1) & 1u))

/* Writes x[0..n) - zx as the column's values j..j+n-1: a word pair per 4 values
 * while j is a multiple of 4, then one at a time. */
static void kdc__put(int16_t *col, size_t j, const int8_t *x, size_t n, int32_t zx)
{
    int32_t z2 = kdc__pair(zx), *c;
    if ((j & 3u) == 0)
        for (c = (int32_t *)(void *)(col + j); n >= 4; n -= 4, j += 4, x += 4, c += 2) {
            int32_t v = kdc__ld(x);
            c[0] = __ssub16(__sxtb16(v), z2);
            c[1] = __ssub16(kdc__sx13(v), z2);
        }
    for (; n; n--, j++) col[KDC__POS(j)] = (int16_t)(*x++ - zx);
}

/* The last K % 4 values of column . row. Called by the kernels, not by the
 * GEMM functions (leaves, so that each kernel's deepest call chain is one that
 * always runs: the firmware's painted stack equals the predicted one). */
static int32_t kdc__tail(const int16_t *col, const int8_t *w, size_t k)
{
    size_t j = k & ~(size_t)3;
    int32_t s = 0;
    for (; j < k; j++) s += col[KDC__POS(j)] * w[j];
    return s;
}

/* column . row over k values */
static int32_t kdc__dot1(const int16_t *col, const int8_t *w, size_t k)
{
    const int32_t *c = (const int32_t *)(const void *)col;
    int32_t s = k & 3u ? kdc__tail(col, w, k) : 0;
    size_t g;
    for (g = k >> 2; g; g--, c += 2, w += 4) {
        int32_t v = kdc__ld(w);
        s = __smlad(c[0], __sxtb16(v), s);
        s = __smlad(c[1], kdc__sx13(v), s);
    }
    return s;
}

/* Columns a, b against rows w and w + stride over their first k & ~3 values:
 * s[0], s[1] = a.w0, a.w1 and s[KDC__BLOCK], s[KDC__BLOCK + 1] = b.w0, b.w1 (the
 * k % 4 last values: kdc__tail, by the caller). k may run past the row's
 * stride into the next row (k = round_up(stride, 4), the columns 0 there: no
 * tail). The loop over
 * groups of 4 values is asm (gcc -Os spilled the C form): per group 22 instructions for 16
 * multiply-accumulates, each weight word loaded twice (once per SXTB16 half) so that the loop takes
 * 12 registers: an asm statement may take 13 at most (at -O0 r7 is the frame pointer). */
KDC__NOINLINE static void kdc__mm22(int32_t *s, const int16_t *a, const int16_t *b, const int8_t *w,
                                    size_t stride, size_t k)
{
    const int32_t *ca = (const int32_t *)(const void *)a, *cb = (const int32_t *)(const void *)b;
    const int8_t *w1 = w + stride;
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, ue, ve, t;
    size_t g = k >> 2;
#if defined(__OPTIMIZE__)
    if (g)
        __asm__("1:\n\t"
                "ldr %[t], [%[w0]]\n\t"
                "sxtb16 %[ue], %[t]\n\t"
                "ldr %[t], [%[w1]]\n\t"
                "sxtb16 %[ve], %[t]\n\t"
                "ldr %[t], [%[ca]], #4\n\t"
                "smlad %[s00], %[t], %[ue], %[s00]\n\t"
                "smlad %[s01], %[t], %[ve], %[s01]\n\t"
                "ldr %[t], [%[cb]], #4\n\t"
                "smlad %[s10], %[t], %[ue], %[s10]\n\t"
                "smlad %[s11], %[t], %[ve], %[s11]\n\t"
                "ldr %[t], [%[w0]], #4\n\t"
                "sxtb16 %[ue], %[t], ror #8\n\t"
                "ldr %[t], [%[w1]], #4\n\t"
                "sxtb16 %[ve], %[t], ror #8\n\t"
                "ldr %[t], [%[ca]], #4\n\t"
                "smlad %[s00], %[t], %[ue], %[s00]\n\t"
                "smlad %[s01], %[t], %[ve], %[s01]\n\t"
                "ldr %[t], [%[cb]], #4\n\t"
                "smlad %[s10], %[t], %[ue], %[s10]\n\t"
                "smlad %[s11], %[t], %[ve], %[s11]\n\t"
                "subs %[g], %[g], #1\n\t"
                "bne 1b"
                : [s00] "+r"(s00), [s01] "+r"(s01), [s10] "+r"(s10), [s11] "+r"(s11), [ca] "+r"(ca),
                  [cb] "+r"(cb), [w0] "+r"(w), [w1] "+r"(w1), [g] "+r"(g), [ue] "=&r"(ue),
                  [ve] "=&r"(ve), [t] "=&r"(t)
                :
                : "cc", "memory");
#else /* at -O0 gcc may not give the asm its registers ("impossible constraints"): C */
    for (; g; g--, ca += 2, cb += 2, w += 4, w1 += 4) {
        int32_t u = kdc__ld(w), v = kdc__ld(w1);
        ue = __sxtb16(u), ve = __sxtb16(v);
        s00 = __smlad(ca[0], ue, s00), s01 = __smlad(ca[0], ve, s01);
        s10 = __smlad(cb[0], ue, s10), s11 = __smlad(cb[0], ve, s11);
        ue = kdc__sx13(u), ve = kdc__sx13(v);
        s00 = __smlad(ca[1], ue, s00), s01 = __smlad(ca[1], ve, s01);
        s10 = __smlad(cb[1], ue, s10), s11 = __smlad(cb[1], ve, s11);
    }
    (void)t;
#endif
    s[0] = s00, s[1] = s01, s[KDC__BLOCK] = s10, s[KDC__BLOCK + 1] = s11;
}

/* Column a against rows w, w + k, w + 2k, w + 3k over their first k & ~3
 * values (the k % 4 last: kdc__tail, by the caller); the loop in asm as
 * kdc__mm22's, 13 registers: rows 1 and 3 read at a register offset k - 4 from
 * the post-incremented pointers of rows 0 and 2. Per group 23 instructions for
 * 16 multiply-accumulates. */
KDC__NOINLINE static void kdc__mm14(int32_t s[4], const int16_t *a, const int8_t *w, size_t k)
{
    const int32_t *ca = (const int32_t *)(const void *)a;
    const int8_t *w2 = w + 2 * k;
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, a0, a1, u, t;
    size_t g = k >> 2, km4 = k - 4;
#if defined(__OPTIMIZE__)
    if (g)
        __asm__("1:\n\t"
                "ldr %[a0], [%[ca]], #4\n\t"
                "ldr %[a1], [%[ca]], #4\n\t"
                "ldr %[u], [%[w0]], #4\n\t"
                "sxtb16 %[t], %[u]\n\t"
                "smlad %[s0], %[a0], %[t], %[s0]\n\t"
                "sxtb16 %[t], %[u], ror #8\n\t"
                "smlad %[s0], %[a1], %[t], %[s0]\n\t"
                "ldr %[u], [%[w0], %[km4]]\n\t"
                "sxtb16 %[t], %[u]\n\t"
                "smlad %[s1], %[a0], %[t], %[s1]\n\t"
                "sxtb16 %[t], %[u], ror #8\n\t"
                "smlad %[s1], %[a1], %[t], %[s1]\n\t"
                "ldr %[u], [%[w2]], #4\n\t"
                "sxtb16 %[t], %[u]\n\t"
                "smlad %[s2], %[a0], %[t], %[s2]\n\t"
                "sxtb16 %[t], %[u], ror #8\n\t"
                "smlad %[s2], %[a1], %[t], %[s2]\n\t"
                "ldr %[u], [%[w2], %[km4]]\n\t"
                "sxtb16 %[t], %[u]\n\t"
                "smlad %[s3], %[a0], %[t], %[s3]\n\t"
                "sxtb16 %[t], %[u], ror #8\n\t"
                "smlad %[s3], %[a1], %[t], %[s3]\n\t"
                "subs %[g], %[g], #1\n\t"
                "bne 1b"
                : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [ca] "+r"(ca),
                  [w0] "+r"(w), [w2] "+r"(w2), [g] "+r"(g), [a0] "=&r"(a0), [a1] "=&r"(a1),
                  [u] "=&r"(u), [t] "=&r"(t)
                : [km4] "r"(km4)
                : "cc", "memory");
#else /* at -O0 gcc may not give the asm its registers ("impossible constraints"): C */
    for (; g; g--, w += 4, w2 += 4) {
        a0 = ca[0], a1 = ca[1], ca += 2;
        u = kdc__ld(w), s0 = __smlad(a0, __sxtb16(u), s0), s0 = __smlad(a1, kdc__sx13(u), s0);
        u = kdc__ld(w + k), t = __smlad(a0, __sxtb16(u), s1), s1 = __smlad(a1, kdc__sx13(u), t);
        u = kdc__ld(w2), s2 = __smlad(a0, __sxtb16(u), s2), s2 = __smlad(a1, kdc__sx13(u), s2);
        u = kdc__ld(w2 + k), s3 = __smlad(a0, __sxtb16(u), s3);
        s3 = __smlad(a1, kdc__sx13(u), s3);
    }
    (void)km4;
#endif
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
}

/* One column against rows 0..n-1 of w (k values each, n <= KDC__BLOCK):
 * s[0..n). Inlined into its callers: no call chain of its own (kdc__outf). */
static inline __attribute__((always_inline)) void kdc__gemv(int32_t *s, const int16_t *col,
                                                            const int8_t *w, size_t k, size_t n)
{
    size_t j;
    for (j = 0; j + 4 <= n && !(k & 3u); j += 4) kdc__mm14(s + j, col, w + j * k, k);
    /* the other rows, and every row when k % 4 != 0 (rare in FC layers): no tails here */
    for (; j < n; j++) s[j] = kdc__dot1(col, w + j * k, k);
}

/* sum (x[i] - zx) * w[i] straight from the int8 data (no scratch) */
static int32_t kdc__dotx(const int8_t *x, const int8_t *w, size_t n, int32_t zx)
{
    int32_t s = 0, z2 = kdc__pair(zx);
    for (; n >= 4; n -= 4, x += 4, w += 4) {
        int32_t a = kdc__ld(x), b = kdc__ld(w);
        s = __smlad(__ssub16(__sxtb16(a), z2), __sxtb16(b), s);
        s = __smlad(__ssub16(kdc__sx13(a), z2), kdc__sx13(b), s);
    }
    for (; n; n--) s += (*x++ - zx) * *w++;
    return s;
}

/* The scratch plan's limit and the column size k4 = round_up(k, 4) (k <= 65536
 * once valid; any value gives a bounded answer). */
#define KDC__COLS_MAX KDC__SCRATCH_BOUND
static size_t kdc__k4(size_t k) { return k > 65536u ? 65536u : (k + 3u) & ~(size_t)3u; }

size_t kdc_fc_s8_scratch_bytes(const kdc_fc_params *p)
{
    size_t k4 = kdc__k4(p->k);
    return 2 * k4 + 3 <= KDC__COLS_MAX ? 2 * k4 + 3 : 0;
}

void kdc_fc_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_fc_params *p,
               void *scratch)
{
    size_t o, j, k = p->k, n = p->n, nb, cols = kdc_fc_s8_scratch_bytes(p);
    int16_t *col = kdc__cols(scratch);
    int32_t s[KDC__BLOCK];
    kdc__oq q;
    kdc__oq_init(&q, c, p->zy, p->act_min, p->act_max,
                 0); /* kdc's: kdc__outn; TFLite's: kdc__outf */
    if (cols) kdc__put(col, 0, x, k, p->zx);
    for (o = 0; o < n; o += nb) {
        nb = n - o < KDC__BLOCK ? n - o : KDC__BLOCK;
        if (cols)
            kdc__gemv(s, col, c->weights + o * k, k, nb);
        else /* no room for the column: from x */
            for (j = 0; j < nb; j++) s[j] = kdc__dotx(x, c->weights + (o + j) * k, k, p->zx);
#if KDC_TFLITE
        if (KDC__TFL(p->tflite))
            kdc__outf(y + o, s, o, nb, &q);
        else
#endif
            kdc__outn(y + o, s, o, nb, &q);
    }
}

/* Window of output o along one axis: in-bounds taps [lo, hi) and s, the input
 * index of tap lo (the window starts at o*stride - pad, which may be < 0). */
static inline __attribute__((always_inline)) void
kdc__rng(size_t o, size_t stride, size_t pad, size_t k, size_t n, size_t *s, size_t *lo, size_t *hi)
{
    size_t start = o * stride; /* window start + pad, never negative */
    *lo = start < pad ? pad - start : 0;
    *hi = start + k - pad > n ? n + pad - start : k;
    *s = start - pad + *lo;
}

/* kdc__rng out of line (depthwise and the conv without columns); the im2col,
 * once per output pixel, inlines it. */
static void kdc__range(size_t o, size_t stride, size_t pad, size_t k, size_t n, size_t *s,
                       size_t *lo, size_t *hi)
{
    kdc__rng(o, stride, pad, k, n, s, lo, hi);
}

size_t kdc_conv2d_s8_scratch_bytes(const kdc_conv_params *p)
{
    size_t k4 = kdc__k4(p->k_h * p->k_w * p->in_c);
    return 4 * k4 + 3 <= KDC__COLS_MAX ? 4 * k4 + 3 : 2 * k4 + 3 <= KDC__COLS_MAX ? 2 * k4 + 3 : 0;
}

/* The column of output pixel pix (row-major over out_h x out_w). */
static void kdc__im2col(int16_t *col, const int8_t *x, const kdc_conv_params *p, size_t pix)
{
    size_t iy, ky0, ky1, ix, kx0, kx1, ky, ci = p->in_c, row = p->k_w * ci, len;
    kdc__rng(pix / p->out_w, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
    kdc__rng(pix % p->out_w, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
    len = (kx1 - kx0) * ci;
    if (ky0 > 0 || ky1 < p->k_h || len < row) /* taps in the padding: 0 */
        memset(col, 0, kdc__k4(p->k_h * row) * sizeof *col);
    else if (row < 4) { /* short rows (one input channel), no padding: value by value */
        const int8_t *xr = x + (iy * p->in_w + ix) * ci;
        int32_t zx = p->zx;
        uint32_t d = 0x0102ff02u; /* KDC__POS(j + 1) - KDC__POS(j) for j % 4 = 0..3, a byte each */
        size_t kx;
        int16_t *c = col; /* at KDC__POS(j) */
        for (ky = 0; ky < p->k_h; ky++, xr += p->in_w * ci)
            for (kx = 0; kx < row; kx++) {
                *c = (int16_t)(xr[kx] - zx);
                c += (int8_t)(d & 0xffu), d = d >> 8 | d << 24;
            }
        if (pix == 0) /* an empty call: im2col -> put, the deepest call chain of the conv, */
            kdc__put(col, 0, x, 0, 0); /* runs in every inference (the firmware's painted stack */
                                       /* then equals the predicted one) */
        return;
    }
    for (ky = ky0; ky < ky1; ky++)
        kdc__put(col, ky * row + kx0 * ci, x + ((iy + ky - ky0) * p->in_w + ix) * ci, len, p->zx);
}

/* Output pixels two at a time in row-major order (a pair may span two rows),
 * each pair's columns against two weight rows at a time; a last odd pixel, or
 * every pixel when the scratch holds one column, takes the same loop with its
 * column twice. */
void kdc_conv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *pp,
                   void *scratch)
{
    const kdc_conv_params P = *pp, *p = &P; /* a local copy: stores to y cannot alias it */
    const int8_t *w = c->weights;
    size_t k = p->k_h * p->k_w * p->in_c, k4 = kdc__k4(k), cout = p->out_c;
    size_t need = kdc_conv2d_s8_scratch_bytes(p), npix = p->out_h * p->out_w, pix, co, step, nb;
    int32_t sa[2 * KDC__BLOCK], *sb = sa + KDC__BLOCK; /* one array: kdc__mm22 stores to both */
    int16_t *ca = kdc__cols(scratch), *cb;
    kdc__oq q;
    kdc__oq_init(&q, c, p->zy, p->act_min, p->act_max, KDC__TFL(p->tflite) ? 1 : 0);
    for (pix = 0; pix < npix; pix += step, y += step * cout) {
        step = need > 2 * k4 + 3 && pix + 1 < npix ? 2 : 1;
        if (need == 0) { /* no room for a column: row by row from x */
            size_t iy, ky0, ky1, ix, kx0, kx1, ky, ci = p->in_c, row = p->k_w * ci;
            kdc__range(pix / p->out_w, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
            kdc__range(pix % p->out_w, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
            for (co = 0; co < cout; co += nb) {
                size_t j;
                nb = cout - co < KDC__BLOCK ? cout - co : KDC__BLOCK;
                for (j = 0; j < nb; j++) {
                    const int8_t *wc = w + (co + j) * k + kx0 * ci;
                    sa[j] = 0;
                    for (ky = ky0; ky < ky1; ky++)
                        sa[j] += kdc__dotx(x + ((iy + ky - ky0) * p->in_w + ix) * ci, wc + ky * row,
                                           (kx1 - kx0) * ci, p->zx);
                }
                kdc__outn(y + co, sa, co, nb, &q);
            }
            continue;
        }
        if (pix == 0) /* the columns' values k..k4-1, never written below: 0 */
            memset(ca, 0, (need > 2 * k4 + 3 ? 2 : 1) * k4 * sizeof *ca);
        kdc__im2col(ca, x, p, pix);
        cb = ca;
        if (step == 2) kdc__im2col(cb = ca + k4, x, p, pix + 1);
        for (co = 0; co < cout; co += nb) {
            size_t j, i;
            nb = cout - co < KDC__BLOCK ? cout - co : KDC__BLOCK;
            for (j = 0; j + 2 <= nb; j += 2) /* k4 values (no tail) unless the second row is */
                kdc__mm22(sa + j, ca, cb, w + (co + j) * k, k,
                          co + j + 2 < cout ? k4 : k); /* w's last */
            if ((k & 3u) && j >= 2 &&
                co + j == cout) /* that last pair's tails (wrapping as SMLAD) */
                for (i = j - 2; i < j; i++) {
                    const int8_t *wr = w + (co + i) * k;
                    sa[i] = (int32_t)((uint32_t)sa[i] + (uint32_t)kdc__tail(ca, wr, k));
                    sb[i] = (int32_t)((uint32_t)sb[i] + (uint32_t)kdc__tail(cb, wr, k));
                }
            if (j < nb) {
                sa[j] = kdc__dot1(ca, w + (co + j) * k, k);
                sb[j] = kdc__dot1(cb, w + (co + j) * k, k);
            }
            kdc__outn(y + co, sa, co, nb, &q);
            if (step == 2) kdc__outn(y + cout + co, sb, co, nb, &q);
        }
    }
}

/* Depthwise, multiplier 1, four channels: s[i] = sum over the window's taps of
 * (x[c + i] - zx) * w[c + i], x and w at the window's first in-bounds tap, c
 * channels apart tap to tap, nky rows of nkx taps (both >= 1), the next row
 * xskip and wskip bytes after a row's end. z2 = (zx, zx). In asm (gcc -Os
 * spilled the C form): 16 instructions per tap (4 multiply-accumulates), 12
 * registers: w is addressed as x + d (d = w - x as integers, d + wskip - xskip
 * from row to row), the input word is loaded twice, the row count stays in
 * memory. */
KDC__NOINLINE static void kdc__dw4(int32_t s[4], const int8_t *x, const int8_t *w, size_t c,
                                   size_t nky, size_t nkx, size_t xskip, size_t wskip, int32_t z2)
{
    int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0, a, b, t;
#if defined(__OPTIMIZE__) && !defined(__clang__)
    size_t kx, d = (size_t)((uintptr_t)w - (uintptr_t)x), dskip = wskip - xskip;
    __asm__("2:\n\t"
            "ldr %[kx], %[nkx]\n\t"
            "1:\n\t"
            "ldr %[a], [%[x]]\n\t"
            "ldr %[b], [%[x], %[d]]\n\t"
            "sxtb16 %[t], %[a]\n\t"
            "ssub16 %[t], %[t], %[z2]\n\t"
            "sxtb16 %[a], %[b]\n\t"
            "smlabb %[s0], %[t], %[a], %[s0]\n\t"
            "smlatt %[s2], %[t], %[a], %[s2]\n\t"
            "ldr %[a], [%[x]]\n\t"
            "sxtb16 %[t], %[a], ror #8\n\t"
            "ssub16 %[t], %[t], %[z2]\n\t"
            "sxtb16 %[a], %[b], ror #8\n\t"
            "smlabb %[s1], %[t], %[a], %[s1]\n\t"
            "smlatt %[s3], %[t], %[a], %[s3]\n\t"
            "add %[x], %[x], %[c]\n\t"
            "subs %[kx], %[kx], #1\n\t"
            "bne 1b\n\t"
            "ldr %[t], %[xskip]\n\t"
            "add %[x], %[x], %[t]\n\t"
            "ldr %[t], %[dskip]\n\t"
            "add %[d], %[d], %[t]\n\t"
            "ldr %[t], %[ky]\n\t"
            "subs %[t], %[t], #1\n\t"
            "str %[t], %[ky]\n\t"
            "bne 2b"
            : [s0] "+r"(s0), [s1] "+r"(s1), [s2] "+r"(s2), [s3] "+r"(s3), [x] "+r"(x), [d] "+r"(d),
              [ky] "+m"(nky), [kx] "=&r"(kx), [a] "=&r"(a), [b] "=&r"(b), [t] "=&r"(t)
            : [c] "r"(c), [z2] "r"(z2), [nkx] "m"(nkx), [xskip] "m"(xskip), [dskip] "m"(dskip)
            : "cc", "memory");
#else /* gcc -O0 and clang cannot give this asm its registers (its memory operands): C */
    size_t kx;
    for (; nky; nky--, x += xskip, w += wskip)
        for (kx = nkx; kx; kx--, x += c, w += c) {
            a = kdc__ld(x), b = kdc__ld(w);
            t = __ssub16(__sxtb16(a), z2), b = __sxtb16(b);
            s0 = __smlabb(t, b, s0), s2 = __smlatt(t, b, s2);
            t = __ssub16(kdc__sx13(a), z2), b = kdc__sx13(kdc__ld(w));
            s1 = __smlabb(t, b, s1), s3 = __smlatt(t, b, s3);
        }
#endif
    s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3;
}

void kdc_dwconv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *pp,
                     void *scratch)
{
    const kdc_conv_params P = *pp, *p = &P; /* a local copy: stores to y cannot alias it */
    const int8_t *w = c->weights;
    size_t oy, ox, cin = p->in_c, cout = p->out_c, xrow = p->in_w * cin, wrow = p->k_w * cout;
    int32_t zx = p->zx, z2 = kdc__pair(zx);
    kdc__oq q;
    (void)scratch;
    kdc__oq_init(&q, c, p->zy, p->act_min, p->act_max, KDC__TFL(p->tflite) ? 1 : 0);
    for (oy = 0; oy < p->out_h; oy++) {
        size_t iy, ky0, ky1;
        kdc__range(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &iy, &ky0, &ky1);
        for (ox = 0; ox < p->out_w; ox++, y += cout) {
            size_t ix, kx0, kx1, oc = 0, nky = ky1 - ky0, nkx, ky, kx, nb;
            int32_t acc[KDC__BLOCK];
            const int8_t *x0, *w0;
            kdc__range(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &ix, &kx0, &kx1);
            nkx = kx1 - kx0;
            x0 = x + (iy * p->in_w + ix) * cin, w0 = w + (ky0 * p->k_w + kx0) * cout;
            for (; oc < cout; oc += nb) {
                size_t j = 0;
                nb = cout - oc < KDC__BLOCK ? cout - oc : KDC__BLOCK;
                if (p->depth_mult == 1) /* four channels per word */
                    for (; j + 4 <= nb; j += 4)
                        kdc__dw4(acc + j, x0 + oc + j, w0 + oc + j, cin, nky, nkx, xrow - nkx * cin,
                                 wrow - nkx * cin, z2);
                for (; j < nb; j++) { /* oc + j = ic * depth_mult + m */
                    const int8_t *xr = x0 + (oc + j) / p->depth_mult, *wr = w0 + oc + j;
                    int32_t sum = 0;
                    for (ky = 0; ky < nky; ky++, xr += xrow, wr += wrow)
                        for (kx = 0; kx < nkx; kx++) sum += (xr[kx * cin] - zx) * wr[kx * cout];
                    acc[j] = sum;
                }
                kdc__outn(y + oc, acc, oc, nb, &q);
            }
        }
    }
}

#else
typedef int kdc__dsp_not_selected; /* ISO C forbids an empty translation unit */
#endif /* KDC__VARIANT_DSP */
