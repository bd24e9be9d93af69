/*
 * kdc.h - the kdc device runtime: loader, validation, execution and helpers (C99).
 *
 * One header, no malloc, no globals holding state, no libm. The artifact
 * format is specified in docs/FORMAT.md; the int8 arithmetic in
 * docs/QUANTIZATION.md. The int8 kernels are internal (src/kdc_kernels.h).
 * Typical use:
 *
 *     kdc_info info;
 *     kdc_model m;
 *     kdc_query(buf, len, &info);                 // sizes, MACs, scratch
 *     kdc_init(&m, buf, len, arena, info.arena_needed, 0);
 *     kdc_input_from_float(&m, features, n, mean, std, channels);
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
/* Header flags bit 1: the int8 arithmetic is TensorFlow Lite's (LiteRT's reference kernels,
 * docs/QUANTIZATION.md 8), not kdc's; a runtime built with -DKDC_TFLITE=0 (kdc's arithmetic
 * only, a smaller image) refuses it in kdc_init (KDC_ERR_UNSUPPORTED). Bits 2 and 3: the model's
 * input / output was float32 in the model it was imported from (a QUANTIZE / DEQUANTIZE at that
 * edge): the caller quantizes the input with the input tensor's scale and zero point (kdc_quantize)
 * and dequantizes the output (kdc_dequantize); the graph itself is int8 either way. */
#define KDC_FLAG_TFLITE 2u
#define KDC_FLAG_FLOAT_INPUT 4u
#define KDC_FLAG_FLOAT_OUTPUT 8u
/* Header flags bit 4: an input-stage block (docs/FORMAT.md 3.7) follows the constant section: the
 * model takes raw samples (16-bit PCM through the audio front end, or float32 sensor samples) that
 * kdc_frontend_* / kdc_sensor_quantize / the kdc_stream_* API turn into its int8 input. */
#define KDC_FLAG_INPUT_STAGE 16u
#define KDC_INIT_SKIP_CRC 1u /* kdc_init flag: do not verify the body CRC */

/* Status codes. kdc_status_str() gives a one-line text for each. */
typedef enum {
    KDC_OK = 0,
    KDC_ERR_NULL,           /* a required pointer argument is NULL, or the model is not loaded */
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
    KDC_ERR_SHAPE,          /* tensor shapes inconsistent with the op (or the helper's length) */
    KDC_ERR_CONST_RANGE, /* constant array past the constant section, misaligned or out of order */
    KDC_ERR_QPARAM,      /* requant multiplier or shift out of range */
    KDC_ERR_ARENA_RANGE, /* tensor lies outside the declared arena */
    KDC_ERR_ALIAS,       /* op output overlaps one of its inputs */
    KDC_ERR_GRAPH,       /* graph not in canonical order (docs/FORMAT.md 3.3) */
    KDC_ERR_ARENA_TOO_SMALL, /* arena_len < needed; see kdc_model.arena_needed */
    KDC_ERR_UNSUPPORTED,     /* valid, but needs what this build left out (KDC_TFLITE/STAGE=0) */
    KDC_ERR_STAGE,           /* input-stage block invalid (docs/FORMAT.md 3.7) */
    KDC_STATUS_COUNT
} kdc_status;

/* Op codes (docs/FORMAT.md, "Op records"; the op table in src/kdc_ops.h is checked
 * against these at compile time). */
enum {
    KDC_OP_FULLY_CONNECTED = 1,
    KDC_OP_CONV_2D = 2,
    KDC_OP_DEPTHWISE_CONV_2D = 3,
    KDC_OP_MAX_POOL_2D = 4,
    KDC_OP_AVERAGE_POOL_2D = 5,
    KDC_OP_GLOBAL_AVERAGE_POOL = 6,
    KDC_OP_ADD = 7,
    KDC_OP_RESHAPE = 8,
    KDC_OP_CLAMP = 9,
    KDC_OP_LEAKY_RELU = 10,
    KDC_OP_SOFTMAX = 11
};

/* Arena bytes kdc_init needs: the activations (header arena_bytes) and, if the
 * kernels need scratch, the scratch at the next multiple of 4 after them. A
 * constant expression when both arguments are, so it can size a static array. */
#define KDC_ARENA_TOTAL(arena_bytes, scratch_bytes)                                                \
    ((scratch_bytes) > 0 ? (((arena_bytes) + 3u) & ~(size_t)3u) + (scratch_bytes) : (arena_bytes))

/* C99 has no _Alignas: a union with a wider member aligns the bytes. Declares
 * `name` with member `bytes` (n bytes, n >= 1), e.g.
 *     static KDC_ALIGNED4(arena, MODEL_ARENA_BYTES);   ... arena.bytes, sizeof arena.bytes
 * (kdc's generated MODEL_ARENA_BYTES is the whole arena: activations + kernel scratch)
 * KDC_ALIGNED4 gives 4-byte alignment (what kdc_init needs for the artifact);
 * KDC_ALIGNED8 gives the alignment of uint64_t and double, which is 8 on Arm
 * EABI and x86-64 (but 4 inside structs on 32-bit x86). */
#define KDC_ALIGNED4(name, n)                                                                      \
    union {                                                                                        \
        uint8_t bytes[(n)];                                                                        \
        uint32_t align4_;                                                                          \
    } name
#define KDC_ALIGNED8(name, n)                                                                      \
    union {                                                                                        \
        uint8_t bytes[(n)];                                                                        \
        uint64_t align8_;                                                                          \
        double alignd_;                                                                            \
    } name

/* What an artifact says about itself (filled by kdc_query). */
typedef struct {
    uint32_t version; /* format version (1) */
    uint32_t flags;   /* header flags: KDC_FLAG_COMPRESSED, _TFLITE, _FLOAT_INPUT, _FLOAT_OUTPUT */
    size_t total_bytes;    /* header + stored body: bytes the artifact occupies */
    size_t raw_body_bytes; /* body size once uncompressed */
    size_t arena_bytes;    /* activation bytes of the memory plan (header field) */
    size_t unpack_bytes;   /* header + raw body if compressed (dst size for kdc_unpack), else 0 */
    /* Known (ops_known == 1) only when the buffer holds a whole stored body whose
     * op and tensor tables lie inside it and whose op records pass their own
     * checks (docs/FORMAT.md 3.5); else all 0. For a compressed artifact,
     * kdc_query the buffer kdc_unpack wrote. Not a validation: kdc_init may still
     * reject the artifact. */
    unsigned ops_known;
    size_t n_ops;         /* ops in the graph */
    uint64_t macs;        /* multiply-accumulates per inference (docs/FORMAT.md 3.5) */
    size_t scratch_bytes; /* kernel scratch of the compiled kernels: max over ops */
    size_t arena_needed;  /* KDC_ARENA_TOTAL(arena_bytes, scratch_bytes): arena for kdc_init */
} kdc_info;

/* An activation tensor of a loaded model (int8, NHWC, batch 1). */
typedef struct {
    int8_t *data;       /* points into the arena; NULL if the model is not loaded */
    size_t size;        /* bytes == product of dims; 0 if the model is not loaded */
    size_t rank;        /* 1..4 */
    size_t dims[4];     /* dims[0..rank-1]; unused dims are 1 */
    float scale;        /* real = scale * (q - zero_point) */
    int32_t zero_point; /* -128..127 */
} kdc_tensor;

/* Optional per-op debugging hook, called by kdc_invoke after each op. */
typedef void (*kdc_op_callback)(void *user, size_t op_index, unsigned opcode, const int8_t *out,
                                size_t out_bytes);

/* A loaded model. Caller-allocated, fixed size; filled by kdc_init. Treat the
 * fields as read-only. */
typedef struct {
    const uint8_t *body;   /* raw body inside the caller's artifact buffer */
    const uint8_t *consts; /* constant section inside body */
    uint8_t *arena;        /* NULL unless kdc_init returned KDC_OK */
    uint8_t *scratch;      /* kernel scratch inside the arena, NULL if none is needed */
    size_t arena_needed;   /* on KDC_OK and KDC_ERR_ARENA_TOO_SMALL: arena bytes needed, else 0 */
    size_t scratch_bytes;  /* kernel scratch (included in arena_needed) */
    uint64_t macs;         /* multiply-accumulates per inference */
    uint32_t n_ops, n_tensors, ops_off, tensors_off, input_id, output_id;
    uint32_t flags; /* header flags (KDC_FLAG_TFLITE, _FLOAT_INPUT, _FLOAT_OUTPUT, _INPUT_STAGE) */
    const uint8_t *stage; /* the validated input-stage block, NULL if none */
    kdc_op_callback callback;
    void *callback_user;
} kdc_model;

/* ---- artifact -------------------------------------------------------- */

/* Checks magic, version, header CRC and header fields (reading at most
 * KDC_HEADER_BYTES of buf when len is just the header) and fills *out. When
 * buf holds the whole stored (uncompressed) body, also walks the op table,
 * bounds-checked, in O(n_ops), with the checks of each record that need no
 * tensor or constant (docs/FORMAT.md 3.5), and fills n_ops, macs,
 * scratch_bytes and arena_needed (ops_known = 1). Returns KDC_OK or the first failing header
 * check; the op walk never changes the status. */
kdc_status kdc_query(const uint8_t *buf, size_t len, kdc_info *out);

/* Inflates a compressed artifact src (reads at most src_len bytes) into a
 * stored artifact in dst (writes at most dst_len bytes; needs
 * kdc_info.unpack_bytes). The new header has the compressed flag cleared,
 * stored body bytes = raw body bytes and a recomputed header CRC. Verifies
 * the zlib header, the Adler-32 trailer, the raw size and the body CRC-32.
 * src and dst must not overlap. On success *written (if not NULL) is the
 * stored artifact's size. dst need not be aligned, but kdc_init needs it
 * 4-byte aligned (KDC_ALIGNED4). */
kdc_status kdc_unpack(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                      size_t *written);

/* Validates a stored artifact completely (header, body CRC unless
 * KDC_INIT_SKIP_CRC is in flags, body layout, every tensor, op record,
 * constant range, quantization parameter, the canonical graph order and the
 * arena plan) in time linear in its size, and binds it to arena. Reads at
 * most len bytes of artifact, which must be 4-byte aligned and stays in use
 * (execute in place). arena (any alignment) needs
 * KDC_ARENA_TOTAL(arena_bytes, scratch_bytes) bytes = kdc_info.arena_needed:
 * the activations, then the kernels' scratch at the next multiple of 4. If
 * arena_len is smaller the result is KDC_ERR_ARENA_TOO_SMALL and
 * m->arena_needed says how many bytes are needed. With the CRC skipped,
 * structural validation alone still guarantees kdc_invoke never reads or
 * writes out of bounds. On failure the model stays unloaded: kdc_input and
 * kdc_output give empty tensors, kdc_invoke returns KDC_ERR_NULL. */
kdc_status kdc_init(kdc_model *m, const uint8_t *artifact, size_t len, uint8_t *arena,
                    size_t arena_len, unsigned flags);

/* Runs the graph once on the input tensor already in the arena (the input
 * bytes may be overwritten: the arena plan reuses dead tensors, so write the
 * input again before each call). No checks beyond the model being loaded:
 * returns KDC_OK, or KDC_ERR_NULL if m is NULL or kdc_init did not return
 * KDC_OK for it. */
kdc_status kdc_invoke(kdc_model *m);

/* Input / output tensor of a loaded model; an empty tensor (data NULL, size
 * 0, rank 0) if m is NULL or not loaded. */
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

/* The input normalization stored with a model, then quantization: for i < n,
 * with c = i % channels (the last NHWC axis; channels == 1: one mean/std for
 * every value), y[i] = kdc_quantize((x[i] - mean[c]) * (1 / std[c]), scale,
 * zero_point), in float, 1 / std[c] rounded to float first (as kdc's Swift
 * normalization computes it). std[c] must be non-zero; channels >= 1. */
void kdc_normalize_quantize(int8_t *y, const float *x, size_t n, const float *mean,
                            const float *std, size_t channels, float scale, int32_t zero_point);

/* kdc_normalize_quantize of n raw features into the input tensor of a loaded
 * model, with its scale and zero point: the exported NAME_norm_mean,
 * NAME_norm_std and NAME_NORM_CHANNELS are the last three arguments. Returns
 * KDC_ERR_NULL (a NULL pointer or the model not loaded), KDC_ERR_SHAPE (n
 * differs from the input size, channels is 0 or does not divide n), or KDC_OK. */
kdc_status kdc_input_from_float(kdc_model *m, const float *x, size_t n, const float *mean,
                                const float *std, size_t channels);

/* y[i] = dequantized output i of a loaded model (the logits), for i < n.
 * Returns KDC_ERR_NULL (a NULL pointer or the model not loaded), KDC_ERR_SHAPE
 * (n differs from the output size) or KDC_OK. */
kdc_status kdc_output_to_float(const kdc_model *m, float *y, size_t n);

/* p[i] = exp(x[i] - max x) / sum_j exp(x[j] - max x) for i < n (nothing for
 * n == 0; p may equal x). No libm: exp is a range reduction to [-ln2/2, ln2/2] and a degree-7
 * polynomial; measured max relative error against glibc's expf-based softmax
 * in float is given in runtime/README.md. Inputs must be finite. */
void kdc_softmax(float *p, const float *x, size_t n);

/* CRC-32 (IEEE, reflected, as zlib's crc32): start with crc = 0. Reads n bytes. */
uint32_t kdc_crc32(uint32_t crc, const uint8_t *p, size_t n);

/* Decompresses a zlib stream (RFC 1950 wrapper, RFC 1951 stored, fixed and
 * dynamic blocks, Adler-32 checked). Reads at most src_len bytes, writes at
 * most *dst_len bytes; on KDC_OK *dst_len is the decompressed size. A stream
 * that would write more than *dst_len returns KDC_ERR_DST_TOO_SMALL. */
kdc_status kdc_zlib_uncompress(uint8_t *dst, size_t *dst_len, const uint8_t *src, size_t src_len);

/* ---- input stage: audio front end, sensor normalization, streaming ---- */

/* Input-stage kinds (docs/FORMAT.md 3.7). */
enum { KDC_STAGE_NONE = 0, KDC_STAGE_AUDIO = 1, KDC_STAGE_SENSOR = 2 };

/* What a loaded model's input stage is (kdc_stage). The model input is frames x features int8. */
typedef struct {
    unsigned kind;         /* KDC_STAGE_NONE, _AUDIO or _SENSOR */
    size_t frames;         /* feature frames (audio) or samples (sensor) per model input */
    size_t features;       /* values per frame: coefficients or mel bins; sensor: channels */
    size_t sample_rate;    /* audio only (the rest are 0 for a sensor stage): Hz */
    size_t window_samples; /* samples per analysis window */
    size_t hop_samples;    /* samples between windows: one frame per hop */
    size_t fft_size, mel_bins, coefficients; /* coefficients 0: log-mel features */
    size_t scratch_bytes;                    /* kdc_frontend_scratch_bytes */
} kdc_stage_info;

/* Fills *out for a loaded model (kind KDC_STAGE_NONE if it has no input stage). Returns
 * KDC_ERR_NULL (out NULL, or the model not loaded) or KDC_OK. */
kdc_status kdc_stage(const kdc_model *m, kdc_stage_info *out);

/* Scratch bytes the audio front end needs: 8 * fft_size + 4 * mel_bins (int32 FFT buffers and the
 * log-mel energies); 0 if the model has no audio stage. */
size_t kdc_frontend_scratch_bytes(const kdc_model *m);

/* One feature frame: pcm[n] (n == window_samples) -> out[out_len] (out_len == features), with the
 * model's front end (docs/AUDIO.md), bit-exact with kdc's Swift reference. scratch: 4-byte
 * aligned, scratch_len >= kdc_frontend_scratch_bytes. Returns KDC_ERR_NULL (NULL pointer, model
 * not loaded or without input stage), KDC_ERR_SHAPE (not an audio stage, n or out_len wrong),
 * KDC_ERR_ALIGN, KDC_ERR_DST_TOO_SMALL (scratch) or KDC_OK. Any int16 input is valid. */
kdc_status kdc_frontend_frame(const kdc_model *m, const int16_t *pcm, size_t n, int8_t *out,
                              size_t out_len, void *scratch, size_t scratch_len);

/* Every frame of a clip: the windows that fit (*frames = n < window ? 0 : (n - window) / hop + 1),
 * one per hop, frame after frame into out (features bytes each). out_len must hold them
 * (else KDC_ERR_DST_TOO_SMALL, with *frames set); other errors as kdc_frontend_frame. */
kdc_status kdc_frontend_features(const kdc_model *m, const int16_t *pcm, size_t n, int8_t *out,
                                 size_t out_len, size_t *frames, void *scratch, size_t scratch_len);

/* Sensor normalization and quantization, as the stored stage defines it: for i < n, c = i %
 * channels, in float32 as two statements t = x[i] - mean[c]; t = t * k[c]; then out[i] =
 * clamp(round_half_away(t) + zero_point, -128, 127) with the input's zero point (NaN gives the
 * zero point). n must be a multiple of the channels and out_len >= n (KDC_ERR_SHAPE); KDC_ERR_NULL
 * as above. */
kdc_status kdc_sensor_quantize(const kdc_model *m, const float *x, size_t n, int8_t *out,
                               size_t out_len);

/* Called after each model run of a stream, with the output ready (kdc_output(m)). */
typedef void (*kdc_stream_callback)(void *user, kdc_model *m);

/* A stream: raw samples in, one feature frame per hop (audio) or per sample (sensor) into a ring
 * of as many frames as the model input has; once the ring is full, the model runs every `every`
 * frames (oldest frame first in the input tensor). Caller-allocated; fields are read-only. */
typedef struct {
    kdc_model *model;
    unsigned kind;
    int16_t *pcm;                            /* the window being filled (audio) */
    void *scratch;                           /* front-end scratch (audio) */
    int8_t *ring;                            /* frames x frame_bytes */
    size_t fill;                             /* samples in pcm */
    size_t frame_bytes, frames, next, count; /* ring: slot of the next frame, frames held */
    size_t every, wait, runs;                /* runs: model runs so far */
    kdc_stream_callback cb;
    void *user;
} kdc_stream;

/* Bytes of the buffer kdc_stream_init needs for a loaded model: audio: the window (2 *
 * window_samples, rounded up to 4), the front-end scratch and the ring (frames * features);
 * sensor: the ring. 0 if the model has no input stage or is not loaded. */
size_t kdc_stream_bytes(const kdc_model *m);

/* Binds a stream to a loaded model with an input stage. buf: 4-byte aligned (KDC_ERR_ALIGN), len
 * >= kdc_stream_bytes (KDC_ERR_DST_TOO_SMALL). every: run the model every that many frames once
 * the ring is full (the first run when it fills); 0: never automatically (kdc_stream_run). cb may
 * be NULL. KDC_ERR_NULL: a NULL pointer, the model not loaded or without input stage. */
kdc_status kdc_stream_init(kdc_stream *s, kdc_model *m, void *buf, size_t len, size_t every,
                           kdc_stream_callback cb, void *user);

/* Pushes n int16 PCM samples (any n, any split of a recording gives the same frames). Runs the
 * model (and the callback) as due. KDC_ERR_SHAPE if the stream is not an audio stream. */
kdc_status kdc_stream_push_pcm(kdc_stream *s, const int16_t *pcm, size_t n);

/* Pushes n float32 values, channels interleaved (n a multiple of the channels, else
 * KDC_ERR_SHAPE, nothing pushed): one frame per sample. KDC_ERR_SHAPE on an audio stream. */
kdc_status kdc_stream_push_sensor(kdc_stream *s, const float *x, size_t n);

/* Runs the model now on the ring (oldest frame first) and calls the callback. KDC_ERR_TRUNCATED
 * if the ring is not full yet, KDC_ERR_NULL if s is NULL or not initialized. */
kdc_status kdc_stream_run(kdc_stream *s);

#ifdef __cplusplus
}
#endif
#endif /* KDC_H */
