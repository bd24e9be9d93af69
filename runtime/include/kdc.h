/*
 * kdc.h - the kdc device runtime: loader, inflate and int8 kernels (C99).
 *
 * One header, no malloc, no globals holding state, no libm. The artifact
 * format is specified in docs/FORMAT.md; the int8 arithmetic in
 * docs/QUANTIZATION.md. Typical use:
 *
 *     kdc_info info;
 *     kdc_model m;
 *     kdc_query(buf, len, &info);                 // arena bytes, unpack bytes
 *     kdc_init(&m, buf, len, arena, info.arena_bytes, 0);
 *     kdc_quantize_array(kdc_input(&m).data, pixels, n, ...);
 *     kdc_invoke(&m);
 *     class = kdc_argmax(kdc_output(&m).data, kdc_output(&m).size);
 *
 * Every function that takes a buffer and a length reads at most that many
 * bytes from it, whatever the bytes are.
 */
#ifndef KDC_H
#define KDC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define KDC_FORMAT_VERSION 1u
#define KDC_HEADER_BYTES 32u
#define KDC_FLAG_COMPRESSED 1u /* header flags bit 0: body is a zlib stream */
#define KDC_INIT_SKIP_CRC 1u   /* kdc_init flag: do not verify the body CRC */

/* Status codes. kdc_status_str() gives a one-line text for each. */
typedef enum {
    KDC_OK = 0,
    KDC_ERR_NULL,           /* a required pointer argument is NULL */
    KDC_ERR_ALIGN,          /* artifact buffer is not 4-byte aligned */
    KDC_ERR_BIG_ENDIAN,     /* in-place execution needs a little-endian CPU */
    KDC_ERR_TRUNCATED,      /* buffer shorter than header + stored body */
    KDC_ERR_MAGIC,          /* bytes 0..3 are not "KDCM" */
    KDC_ERR_VERSION,        /* format version is not KDC_FORMAT_VERSION */
    KDC_ERR_HEADER_CRC,     /* header CRC-32 mismatch */
    KDC_ERR_HEADER,         /* header field invalid (size, flags, reserved, lengths) */
    KDC_ERR_COMPRESSED,     /* kdc_init on a compressed artifact: kdc_unpack first */
    KDC_ERR_NOT_COMPRESSED, /* kdc_unpack on an artifact that is already stored */
    KDC_ERR_DST_TOO_SMALL,  /* destination buffer smaller than needed */
    KDC_ERR_INFLATE,        /* malformed or truncated zlib/deflate stream */
    KDC_ERR_ADLER32,        /* zlib Adler-32 trailer mismatch */
    KDC_ERR_RAW_SIZE,       /* inflated size differs from the declared raw size */
    KDC_ERR_BODY_CRC,       /* CRC-32 of the raw body mismatch */
    KDC_ERR_BODY_LAYOUT,    /* body header: table offset/length past the end or misaligned */
    KDC_ERR_TENSOR,         /* tensor record invalid (rank, dims, dtype, scale, zero point, size) */
    KDC_ERR_SHAPE_OVERFLOW, /* product of tensor dims overflows 32 bits */
    KDC_ERR_TENSOR_ID,      /* tensor id out of range */
    KDC_ERR_OPCODE,         /* unknown op code */
    KDC_ERR_OP_PARAM,       /* op parameter out of range (kernel, stride, pad, clamp, reserved) */
    KDC_ERR_SHAPE,          /* tensor shapes inconsistent with the op */
    KDC_ERR_CONST_RANGE,    /* constant array past the constant section or misaligned */
    KDC_ERR_QPARAM,         /* requant multiplier or shift out of range */
    KDC_ERR_ARENA_RANGE,    /* tensor lies outside the declared arena */
    KDC_ERR_ALIAS,          /* op output overlaps one of its inputs */
    KDC_ERR_GRAPH,          /* tensor used before produced, written twice, or output unset */
    KDC_ERR_ARENA_TOO_SMALL, /* arena_len < needed; see kdc_model.arena_needed */
    KDC_STATUS_COUNT
} kdc_status;

/* Op codes (docs/FORMAT.md, "Op records"). */
enum {
    KDC_OP_FULLY_CONNECTED = 1,
    KDC_OP_CONV_2D = 2,
    KDC_OP_DEPTHWISE_CONV_2D = 3,
    KDC_OP_MAX_POOL_2D = 4,
    KDC_OP_AVERAGE_POOL_2D = 5,
    KDC_OP_GLOBAL_AVERAGE_POOL = 6,
    KDC_OP_ADD = 7,
    KDC_OP_RESHAPE = 8,
    KDC_OP_CLAMP = 9
};

/* What the 32-byte header says (filled by kdc_query). */
typedef struct {
    uint32_t version;      /* format version (1) */
    uint32_t flags;        /* KDC_FLAG_COMPRESSED or 0 */
    size_t total_bytes;    /* header + stored body: bytes the artifact occupies */
    size_t raw_body_bytes; /* body size once uncompressed */
    size_t arena_bytes;    /* exact activation arena kdc_init needs */
    size_t unpack_bytes;   /* header + raw body if compressed (dst size for kdc_unpack), else 0 */
} kdc_info;

/* An activation tensor of a loaded model (int8, NHWC, batch 1). */
typedef struct {
    int8_t *data;       /* points into the arena */
    size_t size;        /* bytes == product of dims */
    size_t rank;        /* 1..4 */
    size_t dims[4];     /* dims[0..rank-1]; unused dims are 1 */
    float scale;        /* real = scale * (q - zero_point) */
    int32_t zero_point; /* -128..127 */
} kdc_tensor;

/* Optional per-op debugging hook, called by kdc_invoke after each op. */
typedef void (*kdc_op_callback)(void *user, size_t op_index, unsigned opcode, const int8_t *out,
                                size_t out_bytes);

/* A loaded model. Caller-allocated, fixed size; filled by kdc_init. Treat the
 * fields as read-only, except arena_needed which is informative. */
typedef struct {
    const uint8_t *body;   /* raw body inside the caller's artifact buffer */
    const uint8_t *consts; /* constant section inside body */
    uint8_t *arena;
    size_t arena_needed; /* arena bytes this model needs (set once the header is valid) */
    uint32_t n_ops, n_tensors, ops_off, tensors_off, input_id, output_id;
    kdc_op_callback callback;
    void *callback_user;
} kdc_model;

/* Parameters shared by the spatial kernels (conv, depthwise, pools).
 * Shapes are NHWC with batch 1: input [in_h][in_w][in_c], output
 * [out_h][out_w][out_c]. Every window must hold at least one in-bounds tap
 * (kdc_init guarantees pad_top < k_h, (out_h-1)*stride_h - pad_top < in_h,
 * and the same for w). zx/zy: input/output zero points in [-128,127];
 * act_min <= act_max in [-128,127]. depth_mult is only used by depthwise
 * (out_c == in_c * depth_mult). */
typedef struct {
    size_t in_h, in_w, in_c, out_h, out_w, out_c;
    size_t k_h, k_w, stride_h, stride_w, pad_top, pad_left, depth_mult;
    int32_t zx, zy, act_min, act_max;
} kdc_conv_params;

/* ---- artifact -------------------------------------------------------- */

/* Reads the header only (at most KDC_HEADER_BYTES of buf; len may be just
 * the header) and checks magic, version, header CRC and header fields.
 * Fills *out. Returns KDC_OK or the first failing check. */
kdc_status kdc_query(const uint8_t *buf, size_t len, kdc_info *out);

/* Inflates a compressed artifact src (reads at most src_len bytes) into a
 * stored artifact in dst (writes at most dst_len bytes; needs
 * kdc_info.unpack_bytes). The new header has the compressed flag cleared,
 * stored body bytes = raw body bytes and a recomputed header CRC. Verifies
 * the zlib header, the Adler-32 trailer, the raw size and the body CRC-32.
 * src and dst must not overlap. On success *written (if not NULL) is the
 * stored artifact's size. dst need not be aligned, but kdc_init needs it
 * 4-byte aligned. */
kdc_status kdc_unpack(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                      size_t *written);

/* Validates a stored artifact completely (header, body CRC unless
 * KDC_INIT_SKIP_CRC is in flags, body layout, every tensor, op record,
 * constant range, quantization parameter, the graph order and the arena
 * plan) and binds it to arena. Reads at most len bytes of artifact, which
 * must be 4-byte aligned and stays in use (execute in place). arena needs
 * kdc_info.arena_bytes bytes (any alignment); if arena_len is smaller the
 * result is KDC_ERR_ARENA_TOO_SMALL and m->arena_needed says how many bytes
 * are needed. With the CRC skipped, structural validation alone still
 * guarantees kdc_invoke never reads or writes out of bounds. */
kdc_status kdc_init(kdc_model *m, const uint8_t *artifact, size_t len, uint8_t *arena,
                    size_t arena_len, unsigned flags);

/* Runs the graph once on the input tensor already in the arena (the input
 * bytes may be overwritten: the arena plan reuses dead tensors, so write the
 * input again before each call). No checks:
 * m must have been returned KDC_OK by kdc_init. Returns KDC_OK (KDC_ERR_NULL
 * if m or its arena is NULL). */
kdc_status kdc_invoke(kdc_model *m);

/* Input / output tensor of an initialized model. */
kdc_tensor kdc_input(const kdc_model *m);
kdc_tensor kdc_output(const kdc_model *m);

/* Sets the per-op debugging hook (NULL to clear). Call it after kdc_init,
 * which clears the model (hook included). */
void kdc_set_callback(kdc_model *m, kdc_op_callback cb, void *user);

/* Text for a status ("ok", "bad magic ...") ; never NULL. */
const char *kdc_status_str(kdc_status s);

/* ---- helpers --------------------------------------------------------- */

/* Index of the largest of x[0..n-1]; the first one on ties; 0 if n == 0. */
size_t kdc_argmax(const int8_t *x, size_t n);

/* scale * (q - zero_point). */
float kdc_dequantize(int8_t q, float scale, int32_t zero_point);

/* clamp(round_half_away(x / scale) + zero_point, -128, 127); NaN gives
 * clamp(zero_point). scale must be > 0. No libm. */
int8_t kdc_quantize(float x, float scale, int32_t zero_point);

/* y[i] = kdc_quantize(x[i], scale, zero_point) for i < n. */
void kdc_quantize_array(int8_t *y, const float *x, size_t n, float scale, int32_t zero_point);

/* CRC-32 (IEEE, reflected, as zlib's crc32): start with crc = 0. Reads n bytes. */
uint32_t kdc_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* Decompresses a zlib stream (RFC 1950 wrapper, RFC 1951 stored, fixed and
 * dynamic blocks, Adler-32 checked). Reads at most src_len bytes, writes at
 * most *dst_len bytes; on KDC_OK *dst_len is the decompressed size. A stream
 * that would write more than *dst_len returns KDC_ERR_DST_TOO_SMALL. */
kdc_status kdc_zlib_uncompress(uint8_t *dst, size_t *dst_len, const uint8_t *src, size_t src_len);

/* ---- int8 kernels (reference; bit-exact with docs/QUANTIZATION.md) ---- */

/* Fixed-point requantization: M is 0 or in [2^30, 2^31-1], e in [-31, 30].
 * Returns sat_int32(round_half_away(acc * M / 2^(31-e))). */
int32_t kdc_requant(int32_t acc, int32_t M, int32_t e);

/* Fully connected. x: [k], w: [n][k] row-major, bias/mult/shift: [n],
 * y: [n]. y[o] = clamp(requant(bias[o] + sum (x-zx)*w[o], mult[o],
 * shift[o]) + zy, act_min, act_max). k <= 65536. */
void kdc_fc_s8(int8_t *y, const int8_t *x, const int8_t *w, const int32_t *bias,
               const int32_t *mult, const int32_t *shift, int32_t zx, int32_t zy, int32_t act_min,
               int32_t act_max, size_t k, size_t n);

/* 2-D convolution. x: [in_h][in_w][in_c]; w: [out_c][k_h][k_w][in_c];
 * bias/mult/shift: [out_c]; y: [out_h][out_w][out_c]. Out-of-bounds taps
 * contribute nothing. k_h*k_w*in_c <= 65536. Uses 512 bytes of stack for
 * one gathered window (windows up to 512 taps; larger ones run row by row). */
void kdc_conv2d_s8(int8_t *y, const int8_t *x, const int8_t *w, const int32_t *bias,
                   const int32_t *mult, const int32_t *shift, const kdc_conv_params *p);

/* Depthwise convolution. w: [k_h][k_w][out_c], out_c = in_c * depth_mult,
 * output channel oc reads input channel oc / depth_mult. */
void kdc_dwconv2d_s8(int8_t *y, const int8_t *x, const int8_t *w, const int32_t *bias,
                     const int32_t *mult, const int32_t *shift, const kdc_conv_params *p);

/* Max pool over in-bounds taps, then clamp. out_c == in_c. */
void kdc_maxpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *p);

/* Average pool: round_half_away(sum / count) over in-bounds taps, clamp. */
void kdc_avgpool_s8(int8_t *y, const int8_t *x, const kdc_conv_params *p);

/* Global average pool: x [hw][c] -> y [c], same rounding, clamp. hw <= 2^24. */
void kdc_global_avgpool_s8(int8_t *y, const int8_t *x, size_t hw, size_t c, int32_t act_min,
                           int32_t act_max);

/* Elementwise add, TFLite scheme with left shift 20 (ma/ea and mb/eb need
 * e <= 0). q[6] = {Ma, ea, Mb, eb, Mo, eo}; z[3] = {za, zb, zy}. */
void kdc_add_s8(int8_t *y, const int8_t *a, const int8_t *b, const int32_t q[6], const int32_t z[3],
                int32_t act_min, int32_t act_max, size_t n);

/* y = min(max(x, act_min), act_max). y may equal x. */
void kdc_clamp_s8(int8_t *y, const int8_t *x, int32_t act_min, int32_t act_max, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* KDC_H */
