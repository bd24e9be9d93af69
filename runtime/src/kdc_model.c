/* kdc_model.c - artifact header (kdc_query), kdc_unpack, validation (kdc_init), execution
 * (kdc_invoke).
 *
 * Field offsets are the names of kdc_format.h (docs/FORMAT.md); op properties come from the op
 * table (kdc_ops.h). All multi-byte fields are read byte by byte (little-endian); every offset is
 * checked against its length before use so kdc_invoke can run without checks. Validation is
 * linear in the artifact's size: the canonical graph order makes the graph checks O(1) per op,
 * and the constant arrays, in op order without overlap, are each checked once. */
#include "kdc.h"
#include "kdc_format.h"
#include "kdc_kernels.h"
#include "kdc_ops.h"
#include "kdc_stage.h"

#include <string.h>

/* The byte readers are always inlined: gcc -Os otherwise keeps rd32 out of line, and a call per
 * field costs more Cortex-M4 code than the one load it compiles to. */
#if defined(__GNUC__)
#define KDC__NOINLINE __attribute__((noinline))
#define KDC__INLINE static inline __attribute__((always_inline))
#else
#define KDC__NOINLINE
#define KDC__INLINE static
#endif

KDC__INLINE uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
KDC__INLINE uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
KDC__INLINE int32_t rds32(const uint8_t *p)
{
    uint32_t u = rd32(p);
    return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 0x80000000u) - INT32_MAX - 1;
}
static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}
static int32_t s8(uint8_t b) { return b < 128 ? b : (int32_t)b - 256; }

/* ---- header -------------------------------------------------------- */

/* The header checks of kdc_query (reads at most KDC__HDR_BYTES). */
static kdc_status kdc__header(const uint8_t *buf, size_t len, kdc_info *out)
{
    uint32_t flags, stored, raw, arena;
    if (!buf || !out) return KDC_ERR_NULL;
    memset(out, 0, sizeof *out);
    if (len < KDC__HDR_BYTES) return KDC_ERR_TRUNCATED;                      /* header there */
    if (rd32(buf + KDC__HDR_MAGIC) != KDC__MAGIC_LE32) return KDC_ERR_MAGIC; /* "KDCM" */
    if (rd16(buf + KDC__HDR_VERSION) != KDC__FORMAT_VERSION) return KDC_ERR_VERSION;
    if (kdc_crc32(0, buf, KDC__HDR_HEADER_CRC) != rd32(buf + KDC__HDR_HEADER_CRC))
        return KDC_ERR_HEADER_CRC;
    flags = rd16(buf + KDC__HDR_FLAGS);
    stored = rd32(buf + KDC__HDR_STORED_BYTES);
    raw = rd32(buf + KDC__HDR_RAW_BYTES);
    arena = rd32(buf + KDC__HDR_ARENA_BYTES);
    if (rd16(buf + KDC__HDR_HEADER_SIZE) != KDC__HDR_BYTES || rd16(buf + KDC__HDR_RESERVED) != 0)
        return KDC_ERR_HEADER;                                      /* size, reserved */
    if (flags & ~(uint32_t)KDC__FLAGS_KNOWN) return KDC_ERR_HEADER; /* unknown flags */
    if (!(flags & KDC_FLAG_COMPRESSED) && stored != raw) return KDC_ERR_HEADER;
    if ((flags & KDC_FLAG_COMPRESSED) && stored < 6) return KDC_ERR_HEADER; /* zlib minimum */
    if (raw < KDC__BODY_HEADER_BYTES || arena == 0) return KDC_ERR_HEADER;
    if (stored > 0x7fffffffu - KDC__HDR_BYTES || raw > 0x7fffffffu - KDC__HDR_BYTES)
        return KDC_ERR_HEADER; /* the artifact is < 2 GiB */
    out->version = KDC_FORMAT_VERSION;
    out->flags = flags;
    out->total_bytes = (size_t)KDC__HDR_BYTES + stored;
    out->raw_body_bytes = raw;
    out->arena_bytes = arena;
    out->unpack_bytes = (flags & KDC_FLAG_COMPRESSED) ? (size_t)KDC__HDR_BYTES + raw : 0;
    return KDC_OK;
}

kdc_status kdc_unpack(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                      size_t *written)
{
    kdc_info info;
    size_t n;
    kdc_status st;
    if (!dst) return KDC_ERR_NULL;
    st = kdc__header(src, src_len, &info);
    if (st != KDC_OK) return st;
    if (!(info.flags & KDC_FLAG_COMPRESSED)) return KDC_ERR_NOT_COMPRESSED;
    if (src_len < info.total_bytes) return KDC_ERR_TRUNCATED;
    if (dst_len < info.unpack_bytes) return KDC_ERR_DST_TOO_SMALL;
    n = info.raw_body_bytes;
    st = kdc_zlib_uncompress(dst + KDC__HDR_BYTES, &n, src + KDC__HDR_BYTES,
                             info.total_bytes - KDC__HDR_BYTES);
    if (st == KDC_ERR_DST_TOO_SMALL) return KDC_ERR_RAW_SIZE; /* inflates to more than declared */
    if (st != KDC_OK) return st;
    if (n != info.raw_body_bytes) return KDC_ERR_RAW_SIZE; /* inflates to less */
    if (kdc_crc32(0, dst + KDC__HDR_BYTES, n) != rd32(src + KDC__HDR_BODY_CRC))
        return KDC_ERR_BODY_CRC;
    memcpy(dst, src, KDC__HDR_BYTES);
    dst[KDC__HDR_FLAGS] = (uint8_t)(info.flags & ~KDC_FLAG_COMPRESSED);
    dst[KDC__HDR_FLAGS + 1] = 0;
    wr32(dst + KDC__HDR_STORED_BYTES, (uint32_t)n);
    wr32(dst + KDC__HDR_HEADER_CRC, kdc_crc32(0, dst, KDC__HDR_HEADER_CRC));
    if (written) *written = KDC__HDR_BYTES + n;
    return KDC_OK;
}

/* ---- tensors ------------------------------------------------------- */

typedef struct {
    uint32_t rank, d[4], off, size, scale_bits;
    int32_t zp;
} kdc__t;

static const uint8_t *kdc__trec(const kdc_model *m, uint32_t id)
{
    return m->body + m->tensors_off + (size_t)id * KDC__TENSOR_RECORD_BYTES;
}

static void kdc__tensor(const kdc_model *m, uint32_t id, kdc__t *t)
{
    const uint8_t *p = kdc__trec(m, id);
    uint32_t i;
    t->rank = p[KDC__TENSOR_RANK];
    for (i = 0; i < 4; i++) t->d[i] = rd16(p + KDC__TENSOR_DIMS + 2 * i);
    t->scale_bits = rd32(p + KDC__TENSOR_SCALE);
    t->zp = rds32(p + KDC__TENSOR_ZERO_POINT);
    t->off = rd32(p + KDC__TENSOR_ARENA_OFFSET);
    t->size = rd32(p + KDC__TENSOR_BYTE_SIZE);
}

/* Validate one tensor record. */
static kdc_status kdc__check_tensor(const kdc_model *m, uint32_t id, uint32_t arena)
{
    const uint8_t *p = kdc__trec(m, id);
    kdc__t t;
    uint32_t i, prod = 1;
    kdc__tensor(m, id, &t);
    if (t.rank < 1 || t.rank > 4) return KDC_ERR_TENSOR; /* rank 1..4 */
    if (p[KDC__TENSOR_DTYPE] != KDC__DTYPE_INT8 || rd16(p + KDC__TENSOR_RESERVED) != 0 ||
        rd32(p + KDC__TENSOR_RESERVED2) != 0)
        return KDC_ERR_TENSOR; /* int8, reserved */
    for (i = 0; i < 4; i++) {
        if (i < t.rank ? t.d[i] == 0 : t.d[i] != 1) return KDC_ERR_TENSOR; /* dims >= 1, unused 1 */
        if (prod > 0xffffffffu / t.d[i]) return KDC_ERR_SHAPE_OVERFLOW;    /* product < 2^32 */
        prod *= t.d[i];
    }
    if (prod != t.size) return KDC_ERR_TENSOR; /* size = product */
    if (t.scale_bits == 0 || t.scale_bits >= 0x7f800000u)
        return KDC_ERR_TENSOR; /* 0 < scale < inf */
    if (t.zp < -128 || t.zp > 127) return KDC_ERR_TENSOR;
    if (t.off > arena || t.size > arena - t.off) return KDC_ERR_ARENA_RANGE;
    return KDC_OK;
}

static int kdc__same_q(const kdc__t *a, const kdc__t *b)
{
    return a->scale_bits == b->scale_bits && a->zp == b->zp;
}

static int kdc__overlap(const kdc__t *a, const kdc__t *b)
{
    return a->off < b->off + b->size && b->off < a->off + a->size;
}

/* ---- body ---------------------------------------------------------- */

/* The body header of the stored body b (raw bytes) into m, and where its tables lie: after the
 * body header, 4-byte aligned, inside the body. */
static kdc_status kdc__body(kdc_model *m, const uint8_t *b, uint32_t raw)
{
    m->body = b;
    m->n_tensors = rd16(b + KDC__BODY_N_TENSORS);
    m->n_ops = rd16(b + KDC__BODY_N_OPS);
    m->input_id = rd16(b + KDC__BODY_INPUT_ID);
    m->output_id = rd16(b + KDC__BODY_OUTPUT_ID);
    m->tensors_off = rd32(b + KDC__BODY_TENSORS_OFFSET);
    m->ops_off = rd32(b + KDC__BODY_OPS_OFFSET);
    if (m->tensors_off % 4 || m->ops_off % 4) return KDC_ERR_BODY_LAYOUT;
    /* n * record bytes < 2^22: no overflow */
    if (m->tensors_off < KDC__BODY_HEADER_BYTES || m->tensors_off > raw ||
        m->n_tensors * KDC__TENSOR_RECORD_BYTES > raw - m->tensors_off)
        return KDC_ERR_BODY_LAYOUT;
    if (m->ops_off < KDC__BODY_HEADER_BYTES || m->ops_off > raw ||
        m->n_ops * KDC__OP_RECORD_BYTES > raw - m->ops_off)
        return KDC_ERR_BODY_LAYOUT;
    return KDC_OK;
}

/* ---- op records: the table, decoding, the walk ---------------------- */

/* The op table's properties by op code; inputs == 0: no such op. */
static const kdc__op_props kdc__props[] = {
#define KDC__PROPS(code, name, inputs, params, consts, same_q, kind, macs, kernel)                 \
    [code] = {inputs, consts, same_q, KDC__MACS_##macs, KDC__KIND_##kind, params},
    KDC_OP_TABLE(KDC__PROPS)
#undef KDC__PROPS
};

static const kdc__op_props *kdc__op(unsigned code)
{
    if (code >= sizeof kdc__props / sizeof kdc__props[0] || kdc__props[code].inputs == 0)
        return NULL;
    return &kdc__props[code];
}

static const uint8_t *kdc__orec(const kdc_model *m, uint32_t i)
{
    return m->body + m->ops_off + (size_t)i * KDC__OP_RECORD_BYTES;
}

/* An op record decoded: input 0 (a), input 1 (b, two-input ops), the output (o) and the
 * parameters of its kernel (kdc_kernels.h), by the table's kind. */
typedef struct {
    kdc__t a, b, o;
    union {
        kdc_fc_params fc;
        kdc_conv_params conv;
        kdc_gap_params gap;
        kdc_add_params add;
        kdc_clamp_params clamp;
        kdc_leaky_relu_params leaky;
        kdc_softmax_params softmax;
    } u;
} kdc__dec;

/* Decodes record r, whose op code is in the table and whose tensor ids are in range (every other
 * field may hold any value). One function for every kind, called for every op by kdc_invoke and
 * by the walk: the firmware's static stack analysis, which leaves out only the kernels of ops a
 * model lacks, then sees the depth every model reaches, so its prediction is exact. */
static KDC__NOINLINE void kdc__decode(const kdc_model *m, const uint8_t *r, kdc__dec *d)
{
    const kdc__t *a = &d->a, *o = &d->o;
    int32_t lo = s8(r[KDC__OP_ACT_MIN]), hi = s8(r[KDC__OP_ACT_MAX]);
    kdc__tensor(m, rd16(r + KDC__OP_INPUT0), &d->a);
    kdc__tensor(m, rd16(r + KDC__OP_OUTPUT), &d->o);
    switch (kdc__props[r[KDC__OP_CODE]].kind) {
    case KDC__KIND_FC: {
        kdc_fc_params *p = &d->u.fc;
        p->k = a->size;
        p->n = o->size;
        p->zx = a->zp;
        p->zy = o->zp;
        p->act_min = lo;
        p->act_max = hi;
        p->tflite = KDC__TFL((m->flags & KDC_FLAG_TFLITE) != 0);
        break;
    }
    case KDC__KIND_CONV:
    case KDC__KIND_POOL: {
        kdc_conv_params *p = &d->u.conv;
        p->in_h = a->d[1], p->in_w = a->d[2], p->in_c = a->d[3];
        p->out_h = o->d[1], p->out_w = o->d[2], p->out_c = o->d[3];
        p->k_h = rd16(r + KDC__OP_K_H);
        p->k_w = rd16(r + KDC__OP_K_W);
        p->stride_h = rd16(r + KDC__OP_STRIDE_H);
        p->stride_w = rd16(r + KDC__OP_STRIDE_W);
        p->pad_top = rd16(r + KDC__OP_PAD_TOP);
        p->pad_left = rd16(r + KDC__OP_PAD_LEFT);
        p->depth_mult = rd16(r + KDC__OP_DEPTH_MULT);
        p->zx = a->zp;
        p->zy = o->zp;
        p->act_min = lo;
        p->act_max = hi;
        p->tflite = KDC__TFL((m->flags & KDC_FLAG_TFLITE) != 0);
        break;
    }
    case KDC__KIND_GAP: {
        kdc_gap_params *p = &d->u.gap;
        p->hw = (size_t)a->d[1] * a->d[2];
        p->c = a->d[3];
        p->act_min = lo;
        p->act_max = hi;
        break;
    }
    case KDC__KIND_ADD: {
        kdc_add_params *p = &d->u.add;
        kdc__tensor(m, rd16(r + KDC__OP_INPUT1), &d->b);
        p->n = o->size;
        p->za = a->zp;
        p->zb = d->b.zp;
        p->zy = o->zp;
        p->ma = rds32(r + KDC__OP_ADD_MA);
        p->ea = rds32(r + KDC__OP_ADD_EA);
        p->mb = rds32(r + KDC__OP_ADD_MB);
        p->eb = rds32(r + KDC__OP_ADD_EB);
        p->mo = rds32(r + KDC__OP_ADD_MO);
        p->eo = rds32(r + KDC__OP_ADD_EO);
        p->act_min = lo;
        p->act_max = hi;
        p->tflite = KDC__TFL((m->flags & KDC_FLAG_TFLITE) != 0);
        break;
    }
    case KDC__KIND_CLAMP:
        d->u.clamp.n = o->size;
        d->u.clamp.act_min = lo;
        d->u.clamp.act_max = hi;
        break;
    case KDC__KIND_LEAKY: {
        kdc_leaky_relu_params *p = &d->u.leaky;
        p->n = o->size;
        p->zx = a->zp;
        p->zy = o->zp;
        p->m_id = rds32(r + KDC__OP_LEAKY_M_ID);
        p->e_id = rds32(r + KDC__OP_LEAKY_E_ID);
        p->m_alpha = rds32(r + KDC__OP_LEAKY_M_ALPHA);
        p->e_alpha = rds32(r + KDC__OP_LEAKY_E_ALPHA);
        p->act_min = lo;
        p->act_max = hi;
        break;
    }
#if KDC_TFLITE /* SOFTMAX: a TFLite-mode op (kdc_kernels.h, KDC_TFLITE) */
    case KDC__KIND_SOFTMAX: {
        kdc_softmax_params *p = &d->u.softmax;
        p->depth = o->rank >= 1 && o->rank <= 4 ? o->d[o->rank - 1] : 1; /* the last axis */
        p->rows = p->depth ? o->size / p->depth : 0;
        p->m = rds32(r + KDC__OP_SOFTMAX_M);
        p->left = rds32(r + KDC__OP_SOFTMAX_LEFT);
        p->diff_min = rds32(r + KDC__OP_SOFTMAX_DIFF_MIN);
        break;
    }
#endif
    default: break; /* COPY: the tensors are all */
    }
}

/* Per kind: the kernel's scratch query (kdc__walk) and its call (kdc_invoke), on the decoded
 * op d. A new kind adds its union member and decoder case above and one line to each list. */
#define KDC__SCRATCH_FC(fn) fn##_scratch_bytes(&d.u.fc)
#define KDC__SCRATCH_CONV(fn) fn##_scratch_bytes(&d.u.conv)
#define KDC__SCRATCH_POOL(fn) fn##_scratch_bytes(&d.u.conv)
#define KDC__SCRATCH_GAP(fn) fn##_scratch_bytes(&d.u.gap)
#define KDC__SCRATCH_ADD(fn) fn##_scratch_bytes(&d.u.add)
#define KDC__SCRATCH_COPY(fn) 0
#define KDC__SCRATCH_CLAMP(fn) fn##_scratch_bytes(&d.u.clamp)
#define KDC__SCRATCH_LEAKY(fn) fn##_scratch_bytes(&d.u.leaky)
#if KDC_TFLITE
#define KDC__SCRATCH_SOFTMAX(fn) fn##_scratch_bytes(&d.u.softmax)
#else /* SOFTMAX: kdc_init refuses it (TFLite mode only), its kernel is not built */
#define KDC__SCRATCH_SOFTMAX(fn) 0
#endif
#define KDC__RUN_FC(fn) fn(y, x, &c, &d.u.fc, m->scratch)
#define KDC__RUN_CONV(fn) fn(y, x, &c, &d.u.conv, m->scratch)
#define KDC__RUN_POOL(fn) fn(y, x, &d.u.conv, m->scratch)
#define KDC__RUN_GAP(fn) fn(y, x, &d.u.gap, m->scratch)
#define KDC__RUN_ADD(fn) fn(y, x, (const int8_t *)(m->arena + d.b.off), &d.u.add, m->scratch)
#define KDC__RUN_COPY(fn)                                                                          \
    if (y != x) fn(y, x, d.o.size)
#define KDC__RUN_CLAMP(fn) fn(y, x, &d.u.clamp, m->scratch)
#define KDC__RUN_LEAKY(fn) fn(y, x, &d.u.leaky, m->scratch)
#if KDC_TFLITE
#define KDC__RUN_SOFTMAX(fn) fn(y, x, &d.u.softmax, m->scratch)
#else
#define KDC__RUN_SOFTMAX(fn) /* not reached: kdc_init refused the op */
#endif

/* Validation state across the ops. */
typedef struct {
    uint32_t const_bytes; /* size of the constant section */
    uint64_t const_end;   /* end of the last constant array checked (arrays come in order) */
} kdc__check;

static int kdc__qok(int32_t M, int32_t e)
{
    return (M == 0 || M >= 0x40000000) && e >= -31 && e <= 30;
}

/* The first n parameter words of record r are valid (M, e) pairs, the first nonpos of them
 * with e <= 0 (ADD: 3 pairs, 2 of them so; LEAKY_RELU: 2 pairs). */
static int kdc__pairs_ok(const uint8_t *r, int n, int nonpos)
{
    int w;
    for (w = 0; w < n; w++) {
        int32_t e = rds32(r + KDC__OP_PARAMS + 8 * w + 4);
        if (!kdc__qok(rds32(r + KDC__OP_PARAMS + 8 * w), e) || (w < nonpos && e > 0)) return 0;
    }
    return 1;
}

/* The weights (wbytes), bias, multiplier and shift arrays (n entries each) of FC, conv and
 * depthwise: inside the constant section, aligned, each starting at or after the end of the
 * previous array (of this op or an earlier one), so each byte is checked once; then every
 * (M, e) pair, read in place (4-byte aligned, little-endian: checked), or for FC in TFLite
 * arithmetic every double scale (its low and high words). */
static kdc_status kdc__check_consts(const kdc_model *m, const uint8_t *r, uint64_t wbytes,
                                    uint32_t n, kdc__check *v)
{
    uint32_t k, i, cb = v->const_bytes;
    const int32_t *M, *e;
    for (k = 0; k < 4; k++) { /* weights, bias, multipliers, shifts */
        uint32_t off = rd32(r + KDC__OP_WEIGHTS_OFFSET + 4 * k), elem = k == 0 ? 1 : 4;
        uint64_t bytes = k == 0 ? wbytes : (uint64_t)n * 4;
        if (off % elem != 0 || off < v->const_end || off > cb || bytes > cb - off)
            return KDC_ERR_CONST_RANGE;
        v->const_end = off + bytes;
    }
    M = (const int32_t *)(const void *)(m->consts + rd32(r + KDC__OP_MULT_OFFSET));
    e = (const int32_t *)(const void *)(m->consts + rd32(r + KDC__OP_SHIFT_OFFSET));
    for (i = 0; i < n; i++) {
        /* a ternary, not an if: clang -O0 drops the dead arm of a constant one */
        int ok = KDC__TFL((m->flags & KDC_FLAG_TFLITE) && r[KDC__OP_CODE] == KDC_OP_FULLY_CONNECTED)
                     ? kdc_tfl_scale_ok((uint32_t)M[i], (uint32_t)e[i])
                     : kdc__qok(M[i], e[i]);
        if (!ok) return KDC_ERR_QPARAM;
    }
    return KDC_OK;
}

/* t is [1][H][W][C]. */
static int kdc__is_hwc(const kdc__t *t) { return t->rank == 4 && t->d[0] == 1; }

/* The rules of docs/FORMAT.md 3.3 that need the decoded op d (record r, op code op). */
static kdc_status kdc__check_op(const kdc_model *m, const uint8_t *r, unsigned op,
                                const kdc__op_props *pr, const kdc__dec *d, kdc__check *v)
{
    const kdc__t *a = &d->a, *b = &d->b, *o = &d->o;
    const kdc_conv_params *p = &d->u.conv;
    uint32_t n_out = 0;
    uint64_t wbytes = 0;
    /* output must not overlap an input (reshape may alias its input exactly) */
    if (kdc__overlap(o, a) && !(op == KDC_OP_RESHAPE && o->off == a->off)) return KDC_ERR_ALIAS;
    if (pr->inputs == 2 && kdc__overlap(o, b)) return KDC_ERR_ALIAS;

    switch (op) {
    case KDC_OP_FULLY_CONNECTED:
        if (a->size > KDC__MAX_REDUCE) return KDC_ERR_SHAPE;
        wbytes = (uint64_t)a->size * o->size;
        n_out = o->size;
        break;
    case KDC_OP_CONV_2D:
    case KDC_OP_DEPTHWISE_CONV_2D:
    case KDC_OP_MAX_POOL_2D:
    case KDC_OP_AVERAGE_POOL_2D: {
        size_t taps; /* every size and product here is < 2^32 */
        if (!kdc__is_hwc(a) || !kdc__is_hwc(o)) return KDC_ERR_SHAPE; /* [1][H][W][C] */
        if (p->stride_h == 0 || p->stride_w == 0) return KDC_ERR_OP_PARAM;
        if (p->pad_top >= p->k_h || p->pad_left >= p->k_w) return KDC_ERR_OP_PARAM; /* k >= 1 */
        taps = p->k_h * p->k_w;
        if (taps > KDC__MAX_REDUCE) return KDC_ERR_OP_PARAM;
        /* the last window must start inside the input (so no window is empty) */
        if ((p->out_h - 1) * p->stride_h >= p->in_h + p->pad_top ||
            (p->out_w - 1) * p->stride_w >= p->in_w + p->pad_left)
            return KDC_ERR_SHAPE;
        if (op == KDC_OP_CONV_2D) {
            if (taps * p->in_c > KDC__MAX_REDUCE) return KDC_ERR_SHAPE;
            wbytes = (uint64_t)(taps * p->in_c) * p->out_c;
        } else if (op == KDC_OP_DEPTHWISE_CONV_2D) {
            if (rd16(r + KDC__OP_WINDOW_RESERVED) != 0 || p->depth_mult == 0)
                return KDC_ERR_OP_PARAM;
            if (p->out_c != p->in_c * p->depth_mult) return KDC_ERR_SHAPE;
            wbytes = (uint64_t)taps * p->out_c;
        } else if (p->out_c != p->in_c) {
            return KDC_ERR_SHAPE;
        }
        n_out = (uint32_t)p->out_c;
        break;
    }
    case KDC_OP_GLOBAL_AVERAGE_POOL:
        if (!kdc__is_hwc(a) || o->size != a->d[3]) return KDC_ERR_SHAPE;
        if (a->d[1] * a->d[2] > KDC__MAX_GAP_TAPS) return KDC_ERR_SHAPE; /* < 2^32 */
        break;
    case KDC_OP_ADD:
        /* same rank and dims (so the same size: the tensors are valid) */
        if (a->rank != o->rank || b->rank != o->rank || memcmp(a->d, o->d, sizeof a->d) != 0 ||
            memcmp(b->d, o->d, sizeof b->d) != 0)
            return KDC_ERR_SHAPE;
        if (!kdc__pairs_ok(r, 3, 2)) return KDC_ERR_QPARAM; /* (M, e) of a, b, out */
        break;
    case KDC_OP_RESHAPE:
        if (s8(r[KDC__OP_ACT_MIN]) != -128 || s8(r[KDC__OP_ACT_MAX]) != 127)
            return KDC_ERR_OP_PARAM;
        if (a->size != o->size) return KDC_ERR_SHAPE;
        break;
    case KDC_OP_CLAMP:
        if (memcmp(a->d, o->d, sizeof a->d) != 0) return KDC_ERR_SHAPE; /* the same dims */
        break;
    case KDC_OP_LEAKY_RELU:
        if (KDC__TFL(m->flags & KDC_FLAG_TFLITE)) return KDC_ERR_OPCODE; /* no TFLite form */
        if (memcmp(a->d, o->d, sizeof a->d) != 0) return KDC_ERR_SHAPE;
        if (!kdc__pairs_ok(r, 2, 0)) return KDC_ERR_QPARAM; /* (M, e) of identity, alpha */
        break;
    default: { /* KDC_OP_SOFTMAX */
        const kdc_softmax_params *s = &d->u.softmax;
        if (!KDC__TFL(m->flags & KDC_FLAG_TFLITE)) return KDC_ERR_OPCODE; /* TFLite mode only */
        if (s8(r[KDC__OP_ACT_MIN]) != -128 || s8(r[KDC__OP_ACT_MAX]) != 127)
            return KDC_ERR_OP_PARAM;
        if (memcmp(a->d, o->d, sizeof a->d) != 0 || a->rank != o->rank ||
            s->depth > KDC__SOFTMAX_MAX_DEPTH)
            return KDC_ERR_SHAPE; /* same dims, the last axis <= 4095 */
        if (o->scale_bits != KDC__SOFTMAX_SCALE_BITS || o->zp != -128)
            return KDC_ERR_QPARAM; /* output scale 1/256, zero point -128 */
        if (s->m < 0x40000000 || s->left < 0 || s->left > 31 ||
            s->diff_min != -(int32_t)(0x7c000000u >> s->left))
            return KDC_ERR_QPARAM; /* the input multiplier and CalculateInputRadius */
        break;
    }
    }
    if (pr->consts) {
        kdc_status st = kdc__check_consts(m, r, wbytes, n_out, v);
        if (st != KDC_OK) return st;
    }
    if (pr->same_q && !kdc__same_q(a, o)) return KDC_ERR_SHAPE;
    return KDC_OK;
}

/* The op walk of kdc_query (v NULL) and of kdc_init (v). Both check each record's own fields (op
 * code known, reserved and unused words 0, act_min <= act_max, tensor ids in range, canonical
 * order) and the reduction limit the MAC count relies on; kdc_init also every rule of
 * docs/FORMAT.md 3.3 that needs the tensors and the constants, in that order. Adds each op's
 * MACs to *macs and raises *scratch to its kernel's scratch. Returns the first failing rule's
 * status. */
static kdc_status kdc__walk(const kdc_model *m, kdc__check *v, uint64_t *macs, size_t *scratch)
{
    uint32_t i, nt = m->n_tensors;
    for (i = 0; i < m->n_ops; i++) {
        const uint8_t *r = kdc__orec(m, i);
        unsigned op = r[KDC__OP_CODE];
        const kdc__op_props *pr = kdc__op(op);
        uint32_t in0 = rd16(r + KDC__OP_INPUT0), in1 = rd16(r + KDC__OP_INPUT1),
                 out = rd16(r + KDC__OP_OUTPUT);
        kdc__dec d;
        size_t s = 0;
        int w;
        if (!pr) return KDC_ERR_OPCODE; /* unknown op code */
        if (r[KDC__OP_RESERVED] != 0 || rd16(r + KDC__OP_RESERVED2) != 0) return KDC_ERR_OP_PARAM;
        for (w = 0; w < 4 * KDC__OP_PARAM_WORDS; w++)
            if (r[KDC__OP_PARAMS + w] != 0 && !(pr->params >> (w / 4) & 1))
                return KDC_ERR_OP_PARAM; /* unused parameter words 0 */
        if ((r[KDC__OP_ACT_MIN] ^ 0x80) > (r[KDC__OP_ACT_MAX] ^ 0x80))
            return KDC_ERR_OP_PARAM; /* act_min > act_max (int8 order as uint8 with bit 7 flipped)
                                      */
        if (in0 >= nt || out >= nt) return KDC_ERR_TENSOR_ID;
        if (pr->inputs == 2 ? in1 >= nt : in1 != KDC__NO_TENSOR) return KDC_ERR_TENSOR_ID;
        /* canonical order: op i writes tensor i + 1 and reads tensors written before (or the
         * input) */
        if (out != i + 1 || in0 > i || (pr->inputs == 2 && in1 > i)) return KDC_ERR_GRAPH;
        kdc__decode(m, r, &d);
        if (v) {
            kdc_status st = kdc__check_op(m, r, op, pr, &d, v);
            if (st != KDC_OK) return st;
        }
        switch (op) {
#define KDC__WORK(code, name, inputs, params, consts, same_q, kind, macs, kernel)                  \
    case code: s = KDC__SCRATCH_##kind(kernel); break;
            KDC_OP_TABLE(KDC__WORK)
#undef KDC__WORK
        default: break;
        }
        /* MACs (docs/FORMAT.md 3.5) = output bytes x f, f = FC: input bytes, conv: k_h*k_w*C_in,
         * depthwise: k_h*k_w. f <= 2^16 in a valid op (kdc_init's checks above reject any other;
         * kdc_query's walk stops at it), so an op has < 2^48 MACs and a model (< 2^16 ops)
         * < 2^64. */
        if (pr->macs != KDC__MACS_NONE) {
            uint32_t f = d.a.size;
            if (pr->macs != KDC__MACS_FC) {
                f = (uint32_t)(d.u.conv.k_h * d.u.conv.k_w); /* < 2^32 */
                if (pr->macs == KDC__MACS_CONV && f <= KDC__MAX_REDUCE)
                    f *= (uint32_t)d.u.conv.in_c; /* < 2^32 */
            }
            if (f > KDC__MAX_REDUCE) return KDC_ERR_SHAPE;
            *macs += (uint64_t)f * d.o.size;
        }
        if (s > *scratch) *scratch = s;
    }
    return KDC_OK;
}

kdc_status kdc_query(const uint8_t *buf, size_t len, kdc_info *out)
{
    kdc_model m;
    uint64_t macs = 0;
    size_t scratch = 0;
    kdc_status st = kdc__header(buf, len, out);
    if (st != KDC_OK || (out->flags & KDC_FLAG_COMPRESSED) || len < out->total_bytes) return st;
    /* The whole stored body is there: walk the op table, bounds-checked. */
    m.flags = out->flags;
    if (kdc__body(&m, buf + KDC__HDR_BYTES, (uint32_t)out->raw_body_bytes) != KDC_OK ||
        kdc__walk(&m, NULL, &macs, &scratch) != KDC_OK)
        return st; /* not an op table the walk can read: unknown */
    out->ops_known = 1;
    out->n_ops = m.n_ops;
    out->macs = macs;
    out->scratch_bytes = scratch;
    out->arena_needed = KDC_ARENA_TOTAL(out->arena_bytes, scratch);
    return st;
}

/* ---- validation ----------------------------------------------------- */

kdc_status kdc_init(kdc_model *m, const uint8_t *artifact, size_t len, uint8_t *arena,
                    size_t arena_len, unsigned flags)
{
    kdc_info info;
    const uint8_t *b;
    uint32_t raw, i, co;
    uint64_t macs = 0;
    size_t scratch = 0, needed;
    const uint32_t one = 1;
    kdc__check v;
    kdc_status st;
    if (!m || !artifact) return KDC_ERR_NULL;
    memset(m, 0, sizeof *m);
    if (*(const uint8_t *)&one != 1) return KDC_ERR_BIG_ENDIAN; /* int32 read in place */
    if ((uintptr_t)artifact % 4 != 0) return KDC_ERR_ALIGN;     /* int32 arrays in place */
    st = kdc__header(artifact, len, &info);
    if (st != KDC_OK) return st;
    if (!KDC_TFLITE && (info.flags & KDC_FLAG_TFLITE)) return KDC_ERR_UNSUPPORTED; /* built out */
    if (!KDC_STAGE && (info.flags & KDC_FLAG_INPUT_STAGE)) return KDC_ERR_UNSUPPORTED;
    if (info.flags & KDC_FLAG_COMPRESSED) return KDC_ERR_COMPRESSED; /* kdc_unpack first */
    if (len < info.total_bytes) return KDC_ERR_TRUNCATED;            /* body must be there */
    raw = (uint32_t)info.raw_body_bytes;
    b = artifact + KDC__HDR_BYTES;
    if (!(flags & KDC_INIT_SKIP_CRC) && kdc_crc32(0, b, raw) != rd32(artifact + KDC__HDR_BODY_CRC))
        return KDC_ERR_BODY_CRC;
    st = kdc__body(m, b, raw);
    if (st != KDC_OK) return st;
    m->flags = info.flags;
    co = rd32(b + KDC__BODY_CONST_OFFSET);
    v.const_bytes = rd32(b + KDC__BODY_CONST_BYTES);
    v.const_end = 0;
    if (co % 4) return KDC_ERR_BODY_LAYOUT;
    if (co > raw || v.const_bytes > raw - co) return KDC_ERR_BODY_LAYOUT;
    if (m->n_tensors == 0 || m->n_ops == 0) return KDC_ERR_BODY_LAYOUT;
    m->consts = b + co;
    if (m->input_id >= m->n_tensors || m->output_id >= m->n_tensors) return KDC_ERR_TENSOR_ID;
    /* canonical graph: the input is tensor 0 and op i writes tensor i + 1, so every tensor but
     * the input is written exactly once; the output is one of them */
    if (m->input_id != 0 || m->output_id == 0 || m->n_tensors != m->n_ops + 1) return KDC_ERR_GRAPH;
    for (i = 0; i < m->n_tensors; i++) {
        st = kdc__check_tensor(m, i, (uint32_t)info.arena_bytes);
        if (st != KDC_OK) return st;
    }
    st = kdc__walk(m, &v, &macs, &scratch);
    if (st != KDC_OK) return st;
#if KDC_STAGE
    if (info.flags & KDC_FLAG_INPUT_STAGE) { /* the block after the tables and the constants */
        uint32_t end = co + v.const_bytes,
                 t_end = m->tensors_off + KDC__TENSOR_RECORD_BYTES * m->n_tensors;
        uint32_t o_end = m->ops_off + KDC__OP_RECORD_BYTES * m->n_ops;
        if (end < t_end) end = t_end;
        if (end < o_end) end = o_end;
        st = kdc__stage_check(m, b, raw, (end + 3u) & ~3u);
        if (st != KDC_OK) return st;
    }
#endif
    needed = KDC_ARENA_TOTAL(info.arena_bytes, scratch);
    m->arena_needed = needed;
    m->scratch_bytes = scratch;
    m->macs = macs;
    if (!arena || arena_len < needed) return KDC_ERR_ARENA_TOO_SMALL;
    m->arena = arena;
    m->scratch = scratch > 0 ? arena + (needed - scratch) : NULL;
    return KDC_OK;
}

/* ---- execution ----------------------------------------------------- */

/* Constant arrays of op r (validated in range and aligned). */
static void kdc__consts(const kdc_model *m, const uint8_t *r, kdc_consts *c)
{
    c->weights = (const int8_t *)(m->consts + rd32(r + KDC__OP_WEIGHTS_OFFSET));
    c->bias = (const int32_t *)(const void *)(m->consts + rd32(r + KDC__OP_BIAS_OFFSET));
    c->mult = (const int32_t *)(const void *)(m->consts + rd32(r + KDC__OP_MULT_OFFSET));
    c->shift = (const int32_t *)(const void *)(m->consts + rd32(r + KDC__OP_SHIFT_OFFSET));
}

kdc_status kdc_invoke(kdc_model *m)
{
    uint32_t i;
    if (!m || !m->arena) return KDC_ERR_NULL;
    for (i = 0; i < m->n_ops; i++) {
        const uint8_t *r = kdc__orec(m, i);
        kdc__dec d;
        kdc_consts c;
        int8_t *x, *y;
        kdc__decode(m, r, &d);
        x = (int8_t *)(m->arena + d.a.off);
        y = (int8_t *)(m->arena + d.o.off);
        if (kdc__props[r[KDC__OP_CODE]].consts) kdc__consts(m, r, &c);
        switch (r[KDC__OP_CODE]) {
#define KDC__INVOKE(code, name, inputs, params, consts, same_q, kind, macs, kernel)                \
    case code: KDC__RUN_##kind(kernel); break;
            KDC_OP_TABLE(KDC__INVOKE)
#undef KDC__INVOKE
        default: break; /* not reached: kdc_init checked every op code */
        }
        if (m->callback) m->callback(m->callback_user, i, r[KDC__OP_CODE], y, d.o.size);
    }
    return KDC_OK;
}

static kdc_tensor kdc__public(const kdc_model *m, uint32_t id)
{
    kdc_tensor t;
    kdc__t v;
    size_t i;
    if (!m || !m->arena) { /* not loaded: empty */
        memset(&t, 0, sizeof t);
        return t;
    }
    kdc__tensor(m, id, &v);
    t.data = (int8_t *)(m->arena + v.off);
    t.size = v.size;
    t.rank = v.rank;
    for (i = 0; i < 4; i++) t.dims[i] = v.d[i];
    memcpy(&t.scale, &v.scale_bits, sizeof t.scale);
    t.zero_point = v.zp;
    return t;
}

kdc_tensor kdc_input(const kdc_model *m) { return kdc__public(m, m ? m->input_id : 0); }
kdc_tensor kdc_output(const kdc_model *m) { return kdc__public(m, m ? m->output_id : 0); }

void kdc_set_callback(kdc_model *m, kdc_op_callback cb, void *user)
{
    m->callback = cb;
    m->callback_user = user;
}

const char *kdc_status_str(kdc_status s)
{
    /* One string per status, in order, each ending in '\0': no table of pointers. */
    static const char text[] = "ok\0"
                               "NULL argument or model not loaded\0"
                               "buffer not 4-byte aligned\0"
                               "big-endian CPU\0"
                               "truncated\0"
                               "bad magic\0"
                               "unsupported version\0"
                               "header CRC mismatch\0"
                               "bad header field\0"
                               "compressed: kdc_unpack first\0"
                               "not compressed\0"
                               "dst too small\0"
                               "bad zlib stream\0"
                               "Adler-32 mismatch\0"
                               "raw size mismatch\0"
                               "body CRC mismatch\0"
                               "bad body layout\0"
                               "bad tensor\0"
                               "shape overflow\0"
                               "bad tensor id\0"
                               "unknown op code\0"
                               "bad op parameter\0"
                               "shape mismatch\0"
                               "constant out of range or order\0"
                               "bad multiplier/shift\0"
                               "tensor outside arena\0"
                               "output overlaps input\0"
                               "bad graph order\0"
                               "arena too small: see arena_needed\0"
                               "not built in (KDC_TFLITE=0 or KDC_STAGE=0)\0"
                               "bad input-stage block\0";
    const char *p = text;
    unsigned i;
    if ((unsigned)s >= KDC_STATUS_COUNT) return "unknown status";
    for (i = 0; i < (unsigned)s; i++)
        while (*p++ != '\0') continue;
    return p;
}
