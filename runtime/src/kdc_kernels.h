/* kdc_kernels.h - the kernel seam: parameter structs, the int8 kernels kdc_invoke calls, their
 * scratch-size queries, the portable reference kernels, and the build-time choice of variant.
 * Internal to the runtime and its tests (not installed with kdc.h).
 *
 * Conventions (as CMSIS-NN's arm_<op>_s8): output first, then inputs, constants, parameters and
 * the scratch buffer. Shapes are NHWC with batch 1. Arithmetic: docs/QUANTIZATION.md, bit for
 * bit. Each kernel `kdc_<op>_s8` has a query `kdc_<op>_s8_scratch_bytes(params)` giving the
 * scratch bytes it needs for those parameters (kdc_init reserves the maximum over the model's
 * ops at the end of the arena); the kernel gets a buffer of at least that many bytes, any
 * alignment, contents undefined on entry (NULL when the query gave 0). A query must accept any
 * parameter values (kdc_query calls it on records it has not validated) and stay within
 * KDC__SCRATCH_BOUND.
 *
 * Variants. kdc_ref_<op>_s8 in kdc_kernels_ref.c is the portable reference: plain loops written
 * for clarity, the specification every variant must equal byte for byte (tests/test_variants.c
 * checks them on the golden vectors and on random shapes). A variant is one file
 * src/kdc_kernels_<name>.c whose body is wrapped in `#if KDC__VARIANT_<NAME>`, plus one #elif
 * block below that selects it (by a macro of the user or of the architecture) and sets
 * KDC__HAS_<OP> 1 for each kernel it provides and KDC__QUERY_<OP> 1 for each of those that can
 * need scratch (it then provides the scratch query too). A kernel the selected variant does not
 * provide is the reference one: its kdc_ref_ name is #defined to the seam name, so the reference
 * definition itself is the seam function (same symbol, no wrapper). The scratch query of a
 * kernel without KDC__QUERY_<OP> is the reference one: inline, 0. The reference of a kernel a
 * variant does provide is compiled under its kdc_ref_ name only with -DKDC_WITH_REFERENCE (the
 * test and benchmark builds), so the device image does not carry both.
 *   default                  "portable": the tuned portable C (kdc_kernels_portable.c)
 *   __AVX2__                 "avx2" (x86-64 host built with -mavx2; or -DKDC_KERNELS_AVX2): FC,
 *                            conv, depthwise and pools from kdc_kernels_avx2.c (with AVX-512
 *                            VNNI paths chosen at run time), the rest reference;
 *                            -DKDC_KERNELS_PORTABLE keeps the portable variant
 *   __ARM_FEATURE_MVE        "mve" (Armv8.1-M with Helium: Cortex-M55; or -DKDC_KERNELS_MVE): FC,
 *                            conv and depthwise from kdc_kernels_mve.c (VMLADAVA and widening
 *                            multiplies over 128-bit vectors), the rest portable;
 *                            -DKDC_KERNELS_DSP keeps the dsp variant, -DKDC_KERNELS_PORTABLE the
 *                            portable one on such a target
 *   __ARM_FEATURE_DSP        "dsp" (Cortex-M4, M7, M33; or -DKDC_KERNELS_DSP): FC, conv and
 *                            depthwise from kdc_kernels_dsp.c (SXTB16/SMLAD), the rest portable;
 *                            -DKDC_KERNELS_PORTABLE keeps the portable variant on such a target
 *   -DKDC_KERNELS_REFERENCE  "reference": every kernel is the reference
 */
#ifndef KDC_KERNELS_H
#define KDC_KERNELS_H

#include "kdc.h"

/* ---- build option: TensorFlow Lite arithmetic ------------------------ */

/* KDC_TFLITE (default 1): 1 runs artifacts in either arithmetic; 0 in kdc's only, for a smaller
 * image. With 0, kdc_init refuses an artifact with KDC_FLAG_TFLITE (KDC_ERR_UNSUPPORTED), the
 * kernels and the validator test the mode through KDC__TFL, constant 0, so the compiler drops
 * every TFLite branch, and nothing of kdc_tflite.c is built. SOFTMAX, an op of TFLite-mode
 * artifacts only (docs/FORMAT.md 3.3), goes too: its kernel (kdc_softmax_s8, with its
 * reference) is not built, and kdc_model.c neither decodes nor calls it (its line stays in the
 * op table, kdc_ops.h; kdc_init refuses the op in a kdc-mode artifact in either build). Even at
 * -O0 the dead calls must go (they would not link): use KDC__TFL as an if condition or a
 * ternary's value, not as the first operand of a ternary that is itself an if condition (clang
 * -O0 keeps both arms). */
#ifndef KDC_TFLITE
#define KDC_TFLITE 1
#endif
#if KDC_TFLITE != 0 && KDC_TFLITE != 1
#error "KDC_TFLITE must be 0 or 1"
#endif
#if KDC_TFLITE
#define KDC__TFL(mode) (mode)
#else
#define KDC__TFL(mode) 0
#endif

/* ---- variant selection ---------------------------------------------- */

#if defined(KDC_KERNELS_AVX2) && !defined(__AVX2__)
#error "KDC_KERNELS_AVX2 needs an x86-64 AVX2 build (__AVX2__): -mavx2"
#endif
#if defined(KDC_KERNELS_DSP) && !defined(__ARM_FEATURE_DSP)
#error "KDC_KERNELS_DSP needs an Armv7E-M DSP target (__ARM_FEATURE_DSP): -mcpu=cortex-m4/m7/m33"
#endif
#if defined(KDC_KERNELS_MVE) && !defined(__ARM_FEATURE_MVE)
#error "KDC_KERNELS_MVE needs MVE (__ARM_FEATURE_MVE): -mcpu=cortex-m55 -mfloat-abi=softfp"
#endif
#if defined(KDC_KERNELS_REFERENCE)
#define KDC_KERNELS_VARIANT "reference"
#elif defined(KDC_KERNELS_AVX2) || (defined(__AVX2__) && !defined(KDC_KERNELS_PORTABLE))
/* "avx2": FC, conv, depthwise and the pools from kdc_kernels_avx2.c, the rest the reference */
#define KDC_KERNELS_VARIANT "avx2"
#define KDC__VARIANT_AVX2 1
#define KDC__HAS_FC 1
#define KDC__HAS_CONV2D 1
#define KDC__HAS_DWCONV2D 1
#define KDC__HAS_MAXPOOL 1
#define KDC__HAS_AVGPOOL 1
#define KDC__QUERY_CONV2D 1
#elif defined(KDC_KERNELS_MVE) ||                                                                  \
    (defined(__ARM_FEATURE_MVE) && !defined(KDC_KERNELS_PORTABLE) && !defined(KDC_KERNELS_DSP))
/* "mve": the portable variant with FC, conv and depthwise replaced by kdc_kernels_mve.c */
#define KDC_KERNELS_VARIANT "mve"
#define KDC__VARIANT_PORTABLE 1
#define KDC__VARIANT_MVE 1
#define KDC__HAS_REQUANT 1
#define KDC__HAS_FC 1
#define KDC__HAS_CONV2D 1
#define KDC__HAS_DWCONV2D 1
#define KDC__HAS_MAXPOOL 1
#define KDC__HAS_AVGPOOL 1
#define KDC__QUERY_CONV2D 1
#elif defined(KDC_KERNELS_DSP) || (defined(__ARM_FEATURE_DSP) && !defined(KDC_KERNELS_PORTABLE))
/* "dsp": the portable variant with FC, conv and depthwise replaced by kdc_kernels_dsp.c */
#define KDC_KERNELS_VARIANT "dsp"
#define KDC__VARIANT_PORTABLE 1
#define KDC__VARIANT_DSP 1
#define KDC__HAS_REQUANT 1
#define KDC__HAS_FC 1
#define KDC__HAS_CONV2D 1
#define KDC__HAS_DWCONV2D 1
#define KDC__HAS_MAXPOOL 1
#define KDC__HAS_AVGPOOL 1
#define KDC__QUERY_FC 1
#define KDC__QUERY_CONV2D 1
#else
#define KDC_KERNELS_VARIANT "portable"
#define KDC__VARIANT_PORTABLE 1
#define KDC__HAS_REQUANT 1
#define KDC__HAS_FC 1
#define KDC__HAS_CONV2D 1
#define KDC__HAS_DWCONV2D 1
#define KDC__HAS_MAXPOOL 1
#define KDC__HAS_AVGPOOL 1
#define KDC__QUERY_CONV2D 1
#endif

#ifndef KDC__VARIANT_DSP
#define KDC__VARIANT_DSP 0
#endif
#ifndef KDC__VARIANT_MVE
#define KDC__VARIANT_MVE 0
#endif

#ifndef KDC__VARIANT_PORTABLE
#define KDC__VARIANT_PORTABLE 0
#endif
#ifndef KDC__VARIANT_AVX2
#define KDC__VARIANT_AVX2 0
#endif
#ifndef KDC__HAS_REQUANT
#define KDC__HAS_REQUANT 0
#endif
#ifndef KDC__HAS_FC
#define KDC__HAS_FC 0
#endif
#ifndef KDC__QUERY_FC
#define KDC__QUERY_FC 0
#endif
#ifndef KDC__HAS_CONV2D
#define KDC__HAS_CONV2D 0
#endif
#ifndef KDC__QUERY_CONV2D
#define KDC__QUERY_CONV2D 0
#endif
#ifndef KDC__HAS_DWCONV2D
#define KDC__HAS_DWCONV2D 0
#endif
#ifndef KDC__QUERY_DWCONV2D
#define KDC__QUERY_DWCONV2D 0
#endif
#ifndef KDC__HAS_MAXPOOL
#define KDC__HAS_MAXPOOL 0
#endif
#ifndef KDC__QUERY_MAXPOOL
#define KDC__QUERY_MAXPOOL 0
#endif
#ifndef KDC__HAS_AVGPOOL
#define KDC__HAS_AVGPOOL 0
#endif
#ifndef KDC__QUERY_AVGPOOL
#define KDC__QUERY_AVGPOOL 0
#endif
#ifndef KDC__HAS_GAP
#define KDC__HAS_GAP 0
#endif
#ifndef KDC__QUERY_GAP
#define KDC__QUERY_GAP 0
#endif
#ifndef KDC__HAS_ADD
#define KDC__HAS_ADD 0
#endif
#ifndef KDC__QUERY_ADD
#define KDC__QUERY_ADD 0
#endif
#ifndef KDC__HAS_CLAMP
#define KDC__HAS_CLAMP 0
#endif
#ifndef KDC__QUERY_CLAMP
#define KDC__QUERY_CLAMP 0
#endif
#ifndef KDC__HAS_LEAKY_RELU
#define KDC__HAS_LEAKY_RELU 0
#endif
#ifndef KDC__QUERY_LEAKY_RELU
#define KDC__QUERY_LEAKY_RELU 0
#endif
#ifndef KDC__HAS_SOFTMAX
#define KDC__HAS_SOFTMAX 0
#endif
#ifndef KDC__QUERY_SOFTMAX
#define KDC__QUERY_SOFTMAX 0
#endif
#if defined(KDC_WITH_REFERENCE)
#define KDC__WITH_REF 1
#else
#define KDC__WITH_REF 0
#endif

/* At -Os, helpers several kernels share stay out of line (the 64-bit rounding, the dot product,
 * the int8 output): the Cortex-M4 .text budget matters more there than a call per output. */
#if defined(__GNUC__) && defined(__OPTIMIZE_SIZE__)
#define KDC__SMALL __attribute__((noinline))
#else
#define KDC__SMALL
#endif

/* Upper bound of every scratch query of the variant built (bytes): the dsp variant's int16 im2col
 * columns (kdc_kernels_dsp.c) and the mve variant's int8 ones (kdc_kernels_mve.c) take up to 4096,
 * the bound of every device variant; the host-only avx2 variant's conv (kdc_kernels_avx2.c: packed
 * weights and byte windows for AVX-512 VNNI) up to 16384 (the host harness sizes its arena from
 * kdc_query, so no device pays for it). */
#if KDC__VARIANT_AVX2
#define KDC__SCRATCH_BOUND 16384u
/* 1 makes the avx2 variant keep to its AVX2 code on a CPU with AVX-512 VNNI (the tests run both
 * paths); 0 (the default) uses AVX-512 VNNI where the CPU has it. Host only. */
extern int kdc__avx2_no_avx512;
#else
#define KDC__SCRATCH_BOUND 4096u
#endif

/* ---- parameters ------------------------------------------------------- */

/* Constant arrays of FC, conv and depthwise (in the artifact's constant section).
 * weights: FC [n][k], conv [out_c][k_h][k_w][in_c], depthwise [k_h][k_w][out_c];
 * bias, mult, shift: one per output channel (valid (M, e): M 0 or in [2^30, 2^31-1],
 * e in [-31, 30]). FC in TFLite arithmetic: mult[o] and shift[o] are the low and high 32 bits
 * of the IEEE-754 double scale S[o] (kdc_tfl_scale), not an (M, e) pair. */
typedef struct {
    const int8_t *weights;
    const int32_t *bias, *mult, *shift;
} kdc_consts;

/* Fully connected: x [k] -> y [n]. 1 <= k <= 65536, n >= 1. zx, zy in [-128, 127];
 * -128 <= act_min <= act_max <= 127. */
typedef struct {
    size_t k, n;
    int32_t zx, zy, act_min, act_max;
    int32_t tflite; /* 1: TFLite arithmetic (y from kdc_tfl_scale), 0: kdc's (kdc_requant) */
} kdc_fc_params;

/* Conv, depthwise, max and average pool: x [in_h][in_w][in_c] -> y [out_h][out_w][out_c].
 * Every window holds at least one in-bounds tap: pad_top < k_h, pad_left < k_w,
 * (out_h-1)*stride_h < in_h + pad_top, (out_w-1)*stride_w < in_w + pad_left; all sizes >= 1,
 * k_h*k_w <= 65536 and conv k_h*k_w*in_c <= 65536. depth_mult: depthwise only (out_c ==
 * in_c*depth_mult); pools have out_c == in_c. zx, zy, act_min, act_max as for FC. */
typedef struct {
    size_t in_h, in_w, in_c, out_h, out_w, out_c;
    size_t k_h, k_w, stride_h, stride_w, pad_top, pad_left, depth_mult;
    int32_t zx, zy, act_min, act_max;
    int32_t tflite; /* conv, depthwise: 1 requantizes with kdc_tfl_mbqm, 0 with kdc_requant */
} kdc_conv_params;

/* Global average pool: x [hw][c] -> y [c]; 1 <= hw <= 2^24. */
typedef struct {
    size_t hw, c;
    int32_t act_min, act_max;
} kdc_gap_params;

/* Elementwise add (TFLite scheme, left shift 20): y = clamp(requant(requant((a-za)<<20, ma,
 * ea) + requant((b-zb)<<20, mb, eb), mo, eo) + zy). Valid (M, e) each, ea <= 0 and eb <= 0.
 * tflite 1: every requant is kdc_tfl_mbqm instead. */
typedef struct {
    size_t n;
    int32_t za, zb, zy;
    int32_t ma, ea, mb, eb, mo, eo;
    int32_t act_min, act_max;
    int32_t tflite;
} kdc_add_params;

/* Clamp: y = min(max(x, act_min), act_max); y may equal x. */
typedef struct {
    size_t n;
    int32_t act_min, act_max;
} kdc_clamp_params;

/* Leaky ReLU: with v = x - zx, y = clamp(requant(v, m_id, e_id) + zy) for v >= 0 and
 * clamp(requant(v, m_alpha, e_alpha) + zy) for v < 0, clamped to [act_min, act_max]; (m_id,
 * e_id) encodes s_x/s_y and (m_alpha, e_alpha) alpha*s_x/s_y (docs/QUANTIZATION.md). Valid
 * (M, e) each; zx, zy in [-128, 127]. */
typedef struct {
    size_t n;
    int32_t zx, zy;
    int32_t m_id, e_id, m_alpha, e_alpha;
    int32_t act_min, act_max;
} kdc_leaky_relu_params;

/* TFLite's int8 softmax (docs/QUANTIZATION.md 8.4; its kernel is built with KDC_TFLITE 1 only,
 * the op exists in TFLite-mode artifacts only) over rows of depth elements: x, y [rows][depth],
 * 1 <= depth <= 4095. m in [2^30, 2^31-1], 0 <= left <= 31, diff_min == -((31 << 26) >> left)
 * (the input multiplier beta*s_x*2^26 as (m, left) and CalculateInputRadius). Output scale 1/256,
 * zero point -128. */
typedef struct {
    size_t rows, depth;
    int32_t m, left, diff_min;
} kdc_softmax_params;

/* ---- TensorFlow Lite's arithmetic (kdc_tflite.c; docs/QUANTIZATION.md 8) -- */

/* Defined with KDC_TFLITE 1 only; with 0 the kernels ignore the tflite fields of their
 * parameters: kdc_init loads no TFLite-arithmetic model then. */

/* gemmlowp SaturatingRoundingDoublingHighMul: (a*b + (a*b >= 0 ? 2^30 : 1 - 2^30)) / 2^31,
 * truncated; a == b == INT32_MIN gives INT32_MAX. */
int32_t kdc_tfl_srdhm(int32_t a, int32_t b);
/* gemmlowp RoundingDivideByPOT: x / 2^e rounded half away from zero, 0 <= e <= 31. */
int32_t kdc_tfl_rdbpot(int32_t x, int32_t e);
/* TFLite's MultiplyByQuantizedMultiplier (double rounding): rdbpot(srdhm(x * 2^max(e, 0), M),
 * max(-e, 0)), the left shift wrapping modulo 2^32. M 0 or in [2^30, 2^31-1], e in [-31, 30]. */
int32_t kdc_tfl_mbqm(int32_t x, int32_t M, int32_t e);
/* LiteRT's reference FULLY_CONNECTED output stage: round_half_away(double(acc) * S) with the
 * binary64 product rounded to nearest even, saturated to int32; S given by the low and high
 * 32 bits of its IEEE-754 encoding, +0 or a positive finite double (kdc_tfl_scale_ok).
 * Computed in integers, exactly. */
int32_t kdc_tfl_scale(int32_t acc, uint32_t lo, uint32_t hi);
/* 1 if (lo, hi) encode +0 or a positive finite double. */
int kdc_tfl_scale_ok(uint32_t lo, uint32_t hi);

/* ---- the seam: what kdc_invoke calls (the selected variant) ---------- */

/* Fixed-point requantization (docs/QUANTIZATION.md 4): M is 0 or in [2^30, 2^31-1], e in
 * [-31, 30]. Returns sat_int32(round_half_away(acc * M / 2^(31-e))). An arithmetic primitive of
 * the seam: the reference kernels call it too, so a variant may provide it (KDC__HAS_REQUANT)
 * and make every kernel that requantizes through it smaller or faster; the test builds check it
 * against kdc_ref_requant. */
int32_t kdc_requant(int32_t acc, int32_t M, int32_t e);

/* e^x for x <= 0 without libm (kdc_helpers.c, used by kdc_softmax): 0 below -87.34 and for NaN;
 * max relative error measured against glibc's expf in runtime/README.md. */
float kdc__expf(float x);

void kdc_fc_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_fc_params *p,
               void *scratch);
void kdc_conv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *p,
                   void *scratch);
void kdc_dwconv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *p,
                     void *scratch);
void kdc_maxpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *p, void *scratch);
void kdc_avgpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *p, void *scratch);
void kdc_global_avgpool_s8(int8_t *y, const int8_t *x, const kdc_gap_params *p, void *scratch);
void kdc_add_s8(int8_t *y, const int8_t *a, const int8_t *b, const kdc_add_params *p,
                void *scratch);
void kdc_clamp_s8(int8_t *y, const int8_t *x, const kdc_clamp_params *p, void *scratch);
void kdc_leaky_relu_s8(int8_t *y, const int8_t *x, const kdc_leaky_relu_params *p, void *scratch);
void kdc_softmax_s8(int8_t *y, const int8_t *x, const kdc_softmax_params *p, void *scratch);

size_t kdc_fc_s8_scratch_bytes(const kdc_fc_params *p);
size_t kdc_conv2d_s8_scratch_bytes(const kdc_conv_params *p);
size_t kdc_dwconv2d_s8_scratch_bytes(const kdc_conv_params *p);
size_t kdc_maxpool_s8_scratch_bytes(const kdc_conv_params *p);
size_t kdc_avgpool_s8_scratch_bytes(const kdc_conv_params *p);
size_t kdc_global_avgpool_s8_scratch_bytes(const kdc_gap_params *p);
size_t kdc_add_s8_scratch_bytes(const kdc_add_params *p);
size_t kdc_clamp_s8_scratch_bytes(const kdc_clamp_params *p);
size_t kdc_leaky_relu_s8_scratch_bytes(const kdc_leaky_relu_params *p);
size_t kdc_softmax_s8_scratch_bytes(const kdc_softmax_params *p);

/* ---- the reference (kdc_kernels_ref.c) -------------------------------- */

/* A kernel the variant does not provide: the reference is the seam function. A kernel whose
 * scratch query the variant does not provide (its kernel needs none, or it is the reference):
 * the query is the reference one, inline and 0, so kdc_init and kdc_query need no call. */
#if !KDC__HAS_REQUANT
#define kdc_ref_requant kdc_requant
#endif
#if !KDC__HAS_FC
#define kdc_ref_fc_s8 kdc_fc_s8
#endif
#if !KDC__QUERY_FC
#define kdc_fc_s8_scratch_bytes kdc_ref_fc_s8_scratch_bytes
#endif
#if !KDC__HAS_CONV2D
#define kdc_ref_conv2d_s8 kdc_conv2d_s8
#endif
#if !KDC__QUERY_CONV2D
#define kdc_conv2d_s8_scratch_bytes kdc_ref_conv2d_s8_scratch_bytes
#endif
#if !KDC__HAS_DWCONV2D
#define kdc_ref_dwconv2d_s8 kdc_dwconv2d_s8
#endif
#if !KDC__QUERY_DWCONV2D
#define kdc_dwconv2d_s8_scratch_bytes kdc_ref_dwconv2d_s8_scratch_bytes
#endif
#if !KDC__HAS_MAXPOOL
#define kdc_ref_maxpool_s8 kdc_maxpool_s8
#endif
#if !KDC__QUERY_MAXPOOL
#define kdc_maxpool_s8_scratch_bytes kdc_ref_maxpool_s8_scratch_bytes
#endif
#if !KDC__HAS_AVGPOOL
#define kdc_ref_avgpool_s8 kdc_avgpool_s8
#endif
#if !KDC__QUERY_AVGPOOL
#define kdc_avgpool_s8_scratch_bytes kdc_ref_avgpool_s8_scratch_bytes
#endif
#if !KDC__HAS_GAP
#define kdc_ref_global_avgpool_s8 kdc_global_avgpool_s8
#endif
#if !KDC__QUERY_GAP
#define kdc_global_avgpool_s8_scratch_bytes kdc_ref_global_avgpool_s8_scratch_bytes
#endif
#if !KDC__HAS_ADD
#define kdc_ref_add_s8 kdc_add_s8
#endif
#if !KDC__QUERY_ADD
#define kdc_add_s8_scratch_bytes kdc_ref_add_s8_scratch_bytes
#endif
#if !KDC__HAS_CLAMP
#define kdc_ref_clamp_s8 kdc_clamp_s8
#endif
#if !KDC__QUERY_CLAMP
#define kdc_clamp_s8_scratch_bytes kdc_ref_clamp_s8_scratch_bytes
#endif
#if !KDC__HAS_LEAKY_RELU
#define kdc_ref_leaky_relu_s8 kdc_leaky_relu_s8
#endif
#if !KDC__QUERY_LEAKY_RELU
#define kdc_leaky_relu_s8_scratch_bytes kdc_ref_leaky_relu_s8_scratch_bytes
#endif
#if !KDC__HAS_SOFTMAX
#define kdc_ref_softmax_s8 kdc_softmax_s8
#endif
#if !KDC__QUERY_SOFTMAX
#define kdc_softmax_s8_scratch_bytes kdc_ref_softmax_s8_scratch_bytes
#endif

/* Reference kernels: same contracts as the seam. Declared always; defined when they are the seam
 * or with -DKDC_WITH_REFERENCE. They requantize through the seam's kdc_requant. They need no
 * scratch (scratch may be NULL): their queries, below, are inline and return 0. */
int32_t kdc_ref_requant(int32_t acc, int32_t M, int32_t e);
void kdc_ref_fc_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_fc_params *p,
                   void *scratch);
void kdc_ref_conv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *p,
                       void *scratch);
void kdc_ref_dwconv2d_s8(int8_t *y, const int8_t *x, const kdc_consts *c, const kdc_conv_params *p,
                         void *scratch);
void kdc_ref_maxpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *p, void *scratch);
void kdc_ref_avgpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *p, void *scratch);
void kdc_ref_global_avgpool_s8(int8_t *y, const int8_t *x, const kdc_gap_params *p, void *scratch);
void kdc_ref_add_s8(int8_t *y, const int8_t *a, const int8_t *b, const kdc_add_params *p,
                    void *scratch);
void kdc_ref_clamp_s8(int8_t *y, const int8_t *x, const kdc_clamp_params *p, void *scratch);
void kdc_ref_leaky_relu_s8(int8_t *y, const int8_t *x, const kdc_leaky_relu_params *p,
                           void *scratch);
void kdc_ref_softmax_s8(int8_t *y, const int8_t *x, const kdc_softmax_params *p, void *scratch);

static inline size_t kdc_ref_fc_s8_scratch_bytes(const kdc_fc_params *p)
{
    (void)p;
    return 0;
}
static inline size_t kdc_ref_conv2d_s8_scratch_bytes(const kdc_conv_params *p)
{
    (void)p;
    return 0;
}
static inline size_t kdc_ref_dwconv2d_s8_scratch_bytes(const kdc_conv_params *p)
{
    (void)p;
    return 0;
}
static inline size_t kdc_ref_maxpool_s8_scratch_bytes(const kdc_conv_params *p)
{
    (void)p;
    return 0;
}
static inline size_t kdc_ref_avgpool_s8_scratch_bytes(const kdc_conv_params *p)
{
    (void)p;
    return 0;
}
static inline size_t kdc_ref_global_avgpool_s8_scratch_bytes(const kdc_gap_params *p)
{
    (void)p;
    return 0;
}
static inline size_t kdc_ref_add_s8_scratch_bytes(const kdc_add_params *p)
{
    (void)p;
    return 0;
}
static inline size_t kdc_ref_clamp_s8_scratch_bytes(const kdc_clamp_params *p)
{
    (void)p;
    return 0;
}
static inline size_t kdc_ref_leaky_relu_s8_scratch_bytes(const kdc_leaky_relu_params *p)
{
    (void)p;
    return 0;
}
static inline size_t kdc_ref_softmax_s8_scratch_bytes(const kdc_softmax_params *p)
{
    (void)p;
    return 0;
}

#endif /* KDC_KERNELS_H */
