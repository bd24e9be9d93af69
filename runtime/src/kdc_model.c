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

#include <string.h>

/* The per-kind parameter decoders are inlined into their callers (kdc_invoke, kdc__work): the
 * firmware's static stack analysis then sees dispatchers whose depth does not depend on which
 * ops a model has, so its prediction equals the measured stack for every model. */
#if defined(__GNUC__)
#define KDC__DECODER static inline __attribute__((always_inline))
#else
#define KDC__DECODER static
#endif

static uint32_t rd16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static int32_t rds32(const uint8_t *p)
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
        return KDC_ERR_HEADER;                               /* size, reserved */
    if (flags & ~KDC_FLAG_COMPRESSED) return KDC_ERR_HEADER; /* unknown flags */
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
    uint64_t prod = 1;
    uint32_t i;
    kdc__tensor(m, id, &t);
    if (t.rank < 1 || t.rank > 4) return KDC_ERR_TENSOR; /* rank 1..4 */
    if (p[KDC__TENSOR_DTYPE] != KDC__DTYPE_INT8 || rd16(p + KDC__TENSOR_RESERVED) != 0 ||
        rd32(p + KDC__TENSOR_RESERVED2) != 0)
        return KDC_ERR_TENSOR; /* int8, reserved */
    for (i = 0; i < 4; i++) {
        if (i < t.rank ? t.d[i] == 0 : t.d[i] != 1) return KDC_ERR_TENSOR; /* dims >= 1, unused 1 */
        prod *= t.d[i];
        if (prod > 0xffffffffu) return KDC_ERR_SHAPE_OVERFLOW;
    }
    if (prod != t.size) return KDC_ERR_TENSOR; /* size = product */
    if (t.scale_bits == 0 || t.scale_bits >= 0x7f800000u)
        return KDC_ERR_TENSOR; /* 0 < scale < inf */
    if (t.zp < -128 || t.zp > 127) return KDC_ERR_TENSOR;
    if (t.off > arena || t.size > arena - t.off) return KDC_ERR_ARENA_RANGE;
    return KDC_OK;
}

/* [1][h][w][c] -> h, w, c */
static int kdc__hwc(const kdc__t *t, size_t *h, size_t *w, size_t *c)
{
    *h = t->d[1];
    *w = t->d[2];
    *c = t->d[3];
    return t->rank == 4 && t->d[0] == 1;
}

static int kdc__same_q(const kdc__t *a, const kdc__t *b)
{
    return a->scale_bits == b->scale_bits && a->zp == b->zp;
}

static int kdc__overlap(const kdc__t *a, const kdc__t *b)
{
    return a->off < b->off + b->size && b->off < a->off + a->size;
}

/* ---- op records: table lookup and kernel parameters ------------------ */

/* The op table's properties by op code; inputs == 0: no such op. */
static const kdc__op_props kdc__props[] = {
#define KDC__PROPS(code, name, inputs, params, consts, same_q, kind, macs, kernel)                 \
    [code] = {inputs, consts, same_q, KDC__MACS_##macs, params},
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

/* The parameters of every kernel kind (kdc_kernels.h). */
typedef union {
    kdc_fc_params fc;
    kdc_conv_params conv;
    kdc_gap_params gap;
    kdc_add_params add;
    kdc_clamp_params clamp;
} kdc__params;

KDC__DECODER void kdc__fc(const uint8_t *r, const kdc__t *a, const kdc__t *o, kdc_fc_params *p)
{
    p->k = a->size;
    p->n = o->size;
    p->zx = a->zp;
    p->zy = o->zp;
    p->act_min = s8(r[KDC__OP_ACT_MIN]);
    p->act_max = s8(r[KDC__OP_ACT_MAX]);
}

KDC__DECODER void kdc__spatial(const uint8_t *r, const kdc__t *a, const kdc__t *o,
                               kdc_conv_params *p)
{
    kdc__hwc(a, &p->in_h, &p->in_w, &p->in_c);
    kdc__hwc(o, &p->out_h, &p->out_w, &p->out_c);
    p->k_h = rd16(r + KDC__OP_K_H);
    p->k_w = rd16(r + KDC__OP_K_W);
    p->stride_h = rd16(r + KDC__OP_STRIDE_H);
    p->stride_w = rd16(r + KDC__OP_STRIDE_W);
    p->pad_top = rd16(r + KDC__OP_PAD_TOP);
    p->pad_left = rd16(r + KDC__OP_PAD_LEFT);
    p->depth_mult = rd16(r + KDC__OP_DEPTH_MULT);
    p->zx = a->zp;
    p->zy = o->zp;
    p->act_min = s8(r[KDC__OP_ACT_MIN]);
    p->act_max = s8(r[KDC__OP_ACT_MAX]);
}

KDC__DECODER void kdc__gap(const uint8_t *r, const kdc__t *a, kdc_gap_params *p)
{
    p->hw = (size_t)a->d[1] * a->d[2];
    p->c = a->d[3];
    p->act_min = s8(r[KDC__OP_ACT_MIN]);
    p->act_max = s8(r[KDC__OP_ACT_MAX]);
}

KDC__DECODER void kdc__add(const uint8_t *r, const kdc__t *a, const kdc__t *b, const kdc__t *o,
                           kdc_add_params *p)
{
    p->n = o->size;
    p->za = a->zp;
    p->zb = b->zp;
    p->zy = o->zp;
    p->ma = rds32(r + KDC__OP_ADD_MA);
    p->ea = rds32(r + KDC__OP_ADD_EA);
    p->mb = rds32(r + KDC__OP_ADD_MB);
    p->eb = rds32(r + KDC__OP_ADD_EB);
    p->mo = rds32(r + KDC__OP_ADD_MO);
    p->eo = rds32(r + KDC__OP_ADD_EO);
    p->act_min = s8(r[KDC__OP_ACT_MIN]);
    p->act_max = s8(r[KDC__OP_ACT_MAX]);
}

KDC__DECODER void kdc__clamp(const uint8_t *r, const kdc__t *o, kdc_clamp_params *p)
{
    p->n = o->size;
    p->act_min = s8(r[KDC__OP_ACT_MIN]);
    p->act_max = s8(r[KDC__OP_ACT_MAX]);
}

/* a * b, saturating at 2^64 - 1 (kdc_query's MACs of records not validated). */
static uint64_t kdc__mul(uint64_t a, uint32_t b)
{
    uint64_t hi = (a >> 32) * b, lo = (a & 0xffffffffu) * b;
    if (hi >> 32) return UINT64_MAX;
    hi <<= 32;
    return lo > UINT64_MAX - hi ? UINT64_MAX : hi + lo;
}

/* Kernel parameters of op r (inputs a, b, output o), by the table's kind. */
#define KDC__DECODE_FC kdc__fc(r, &a, &o, &u.fc)
#define KDC__DECODE_CONV kdc__spatial(r, &a, &o, &u.conv)
#define KDC__DECODE_POOL kdc__spatial(r, &a, &o, &u.conv)
#define KDC__DECODE_GAP kdc__gap(r, &a, &u.gap)
#define KDC__DECODE_ADD                                                                            \
    kdc__tensor(m, rd16(r + KDC__OP_INPUT1), &b), kdc__add(r, &a, &b, &o, &u.add)
#define KDC__DECODE_COPY (void)0
#define KDC__DECODE_CLAMP kdc__clamp(r, &o, &u.clamp)
/* The scratch query of the kernel, by kind (kdc_kernels.h). */
#define KDC__SCRATCH_FC(fn) fn##_scratch_bytes(&u.fc)
#define KDC__SCRATCH_CONV(fn) fn##_scratch_bytes(&u.conv)
#define KDC__SCRATCH_POOL(fn) fn##_scratch_bytes(&u.conv)
#define KDC__SCRATCH_GAP(fn) fn##_scratch_bytes(&u.gap)
#define KDC__SCRATCH_ADD(fn) fn##_scratch_bytes(&u.add)
#define KDC__SCRATCH_COPY(fn) 0
#define KDC__SCRATCH_CLAMP(fn) fn##_scratch_bytes(&u.clamp)

/* The work of op i, whose opcode is known and tensor ids in range: adds its MACs (docs/FORMAT.md
 * 3.5, saturating) to *macs and raises *scratch to its kernel's scratch. */
static void kdc__work(const kdc_model *m, uint32_t i, uint64_t *macs, size_t *scratch)
{
    const uint8_t *r = kdc__orec(m, i);
    const kdc__op_props *pr = kdc__op(r[KDC__OP_CODE]);
    kdc__t a, b, o;
    kdc__params u;
    size_t s = 0;
    uint64_t n = 0;
    kdc__tensor(m, rd16(r + KDC__OP_INPUT0), &a);
    kdc__tensor(m, rd16(r + KDC__OP_OUTPUT), &o);
    switch (r[KDC__OP_CODE]) {
#define KDC__WORK(code, name, inputs, params, consts, same_q, kind, rule, kernel)                  \
    case code:                                                                                     \
        KDC__DECODE_##kind;                                                                        \
        s = KDC__SCRATCH_##kind(kernel);                                                           \
        break;
        KDC_OP_TABLE(KDC__WORK)
#undef KDC__WORK
    default: return;
    }
    if (pr->macs == KDC__MACS_FC) n = kdc__mul(u.fc.k, (uint32_t)u.fc.n);
    if (pr->macs == KDC__MACS_CONV || pr->macs == KDC__MACS_DW)
        n = kdc__mul(kdc__mul(o.size, (uint32_t)u.conv.k_h), (uint32_t)u.conv.k_w);
    if (pr->macs == KDC__MACS_CONV) n = kdc__mul(n, (uint32_t)u.conv.in_c);
    *macs = n > UINT64_MAX - *macs ? UINT64_MAX : *macs + n;
    if (s > *scratch) *scratch = s;
}

kdc_status kdc_query(const uint8_t *buf, size_t len, kdc_info *out)
{
    kdc_model m;
    uint32_t i;
    uint64_t macs = 0;
    size_t scratch = 0;
    kdc_status st = kdc__header(buf, len, out);
    if (st != KDC_OK || (out->flags & KDC_FLAG_COMPRESSED) || len < out->total_bytes) return st;
    /* The whole stored body is there: walk the op table, bounds-checked. */
    memset(&m, 0, sizeof m);
    m.body = buf + KDC__HDR_BYTES;
    m.n_tensors = rd16(m.body + KDC__BODY_N_TENSORS);
    m.n_ops = rd16(m.body + KDC__BODY_N_OPS);
    m.tensors_off = rd32(m.body + KDC__BODY_TENSORS_OFFSET);
    m.ops_off = rd32(m.body + KDC__BODY_OPS_OFFSET);
    if ((uint64_t)m.tensors_off + (uint64_t)m.n_tensors * KDC__TENSOR_RECORD_BYTES >
            out->raw_body_bytes ||
        (uint64_t)m.ops_off + (uint64_t)m.n_ops * KDC__OP_RECORD_BYTES > out->raw_body_bytes)
        return st;
    for (i = 0; i < m.n_ops; i++) {
        const uint8_t *r = kdc__orec(&m, i);
        const kdc__op_props *pr = kdc__op(r[KDC__OP_CODE]);
        if (!pr || rd16(r + KDC__OP_INPUT0) >= m.n_tensors ||
            rd16(r + KDC__OP_OUTPUT) >= m.n_tensors ||
            (pr->inputs == 2 && rd16(r + KDC__OP_INPUT1) >= m.n_tensors))
            return st; /* not an op kdc__work can read: unknown */
        kdc__work(&m, i, &macs, &scratch);
    }
    out->ops_known = 1;
    out->n_ops = m.n_ops;
    out->macs = macs;
    out->scratch_bytes = scratch;
    out->arena_needed = KDC_ARENA_TOTAL(out->arena_bytes, scratch);
    return st;
}

/* ---- validation ----------------------------------------------------- */

/* Validation state across the ops. */
typedef struct {
    uint32_t const_bytes; /* size of the constant section */
    uint64_t const_end;   /* end of the last constant array checked (arrays come in order) */
} kdc__check;

static int kdc__qok(int32_t M, int32_t e)
{
    return (M == 0 || M >= 0x40000000) && e >= -31 && e <= 30;
}

/* The weights (wbytes), bias, multiplier and shift arrays (n entries each) of FC, conv and
 * depthwise: inside the constant section, aligned, each starting at or after the end of the
 * previous array (of this op or an earlier one), so each byte is checked once; then every
 * (M, e) pair. */
static kdc_status kdc__check_consts(const kdc_model *m, const uint8_t *r, uint64_t wbytes,
                                    uint32_t n, kdc__check *v)
{
    uint32_t k, i, cb = v->const_bytes, mo = rd32(r + KDC__OP_MULT_OFFSET),
                   so = rd32(r + KDC__OP_SHIFT_OFFSET);
    for (k = 0; k < 4; k++) { /* weights, bias, multipliers, shifts */
        uint32_t off = rd32(r + KDC__OP_WEIGHTS_OFFSET + 4 * k), elem = k == 0 ? 1 : 4;
        uint64_t bytes = k == 0 ? wbytes : (uint64_t)n * 4;
        if (off % elem != 0 || off < v->const_end || off > cb || bytes > cb - off)
            return KDC_ERR_CONST_RANGE;
        v->const_end = off + bytes;
    }
    for (i = 0; i < n; i++)
        if (!kdc__qok(rds32(m->consts + mo + 4 * i), rds32(m->consts + so + 4 * i)))
            return KDC_ERR_QPARAM;
    return KDC_OK;
}

/* The rules of docs/FORMAT.md 3.3 for op i, in that order. */
static kdc_status kdc__check_op(const kdc_model *m, uint32_t i, kdc__check *v)
{
    const uint8_t *r = kdc__orec(m, i);
    unsigned op = r[KDC__OP_CODE];
    const kdc__op_props *pr = kdc__op(op);
    uint32_t in0 = rd16(r + KDC__OP_INPUT0), in1 = rd16(r + KDC__OP_INPUT1),
             out = rd16(r + KDC__OP_OUTPUT), n_out = 0;
    uint64_t wbytes = 0;
    int w;
    kdc__t a, b, o;
    kdc_conv_params p;
    if (!pr) return KDC_ERR_OPCODE; /* unknown op code */
    if (r[KDC__OP_RESERVED] != 0 || rd16(r + KDC__OP_RESERVED2) != 0) return KDC_ERR_OP_PARAM;
    for (w = 0; w < KDC__OP_PARAM_WORDS; w++)
        if (!(pr->params >> w & 1) && rd32(r + KDC__OP_PARAMS + 4 * w) != 0)
            return KDC_ERR_OP_PARAM; /* unused params 0 */
    if (s8(r[KDC__OP_ACT_MIN]) > s8(r[KDC__OP_ACT_MAX])) return KDC_ERR_OP_PARAM;
    if (in0 >= m->n_tensors || out >= m->n_tensors) return KDC_ERR_TENSOR_ID;
    if (pr->inputs == 2 ? in1 >= m->n_tensors : in1 != KDC__NO_TENSOR) return KDC_ERR_TENSOR_ID;
    /* canonical order: op i writes tensor i + 1 and reads tensors written before (or the input) */
    if (out != i + 1 || in0 > i || (pr->inputs == 2 && in1 > i)) return KDC_ERR_GRAPH;
    kdc__tensor(m, in0, &a);
    kdc__tensor(m, out, &o);
    if (pr->inputs == 2) kdc__tensor(m, in1, &b);
    /* output must not overlap an input (reshape may alias its input exactly) */
    if (kdc__overlap(&o, &a) && !(op == KDC_OP_RESHAPE && o.off == a.off)) return KDC_ERR_ALIAS;
    if (pr->inputs == 2 && kdc__overlap(&o, &b)) return KDC_ERR_ALIAS;

    switch (op) {
    case KDC_OP_FULLY_CONNECTED:
        if (a.size > KDC__MAX_REDUCE) return KDC_ERR_SHAPE;
        wbytes = (uint64_t)a.size * o.size;
        n_out = o.size;
        break;
    case KDC_OP_CONV_2D:
    case KDC_OP_DEPTHWISE_CONV_2D:
    case KDC_OP_MAX_POOL_2D:
    case KDC_OP_AVERAGE_POOL_2D: {
        uint64_t taps;
        if (!kdc__hwc(&a, &p.in_h, &p.in_w, &p.in_c) || !kdc__hwc(&o, &p.out_h, &p.out_w, &p.out_c))
            return KDC_ERR_SHAPE; /* [1][H][W][C] */
        kdc__spatial(r, &a, &o, &p);
        if (p.k_h == 0 || p.k_w == 0 || p.stride_h == 0 || p.stride_w == 0) return KDC_ERR_OP_PARAM;
        if (p.pad_top >= p.k_h || p.pad_left >= p.k_w) return KDC_ERR_OP_PARAM;
        taps = (uint64_t)p.k_h * p.k_w;
        if (taps > KDC__MAX_REDUCE) return KDC_ERR_OP_PARAM;
        /* the last window must start inside the input (so no window is empty) */
        if ((uint64_t)(p.out_h - 1) * p.stride_h >= p.in_h + p.pad_top ||
            (uint64_t)(p.out_w - 1) * p.stride_w >= p.in_w + p.pad_left)
            return KDC_ERR_SHAPE;
        if (op == KDC_OP_CONV_2D) {
            if (taps * p.in_c > KDC__MAX_REDUCE) return KDC_ERR_SHAPE;
            wbytes = taps * p.in_c * p.out_c;
        } else if (op == KDC_OP_DEPTHWISE_CONV_2D) {
            if (rd16(r + KDC__OP_WINDOW_RESERVED) != 0 || p.depth_mult == 0)
                return KDC_ERR_OP_PARAM;
            if (p.out_c != p.in_c * p.depth_mult) return KDC_ERR_SHAPE;
            wbytes = taps * p.out_c;
        } else if (p.out_c != p.in_c) {
            return KDC_ERR_SHAPE;
        }
        n_out = (uint32_t)p.out_c;
        break;
    }
    case KDC_OP_GLOBAL_AVERAGE_POOL:
        if (!kdc__hwc(&a, &p.in_h, &p.in_w, &p.in_c) || o.size != p.in_c) return KDC_ERR_SHAPE;
        if ((uint64_t)p.in_h * p.in_w > KDC__MAX_GAP_TAPS) return KDC_ERR_SHAPE;
        break;
    case KDC_OP_ADD:
        if (a.size != o.size || b.size != o.size || a.rank != o.rank || b.rank != o.rank ||
            memcmp(a.d, o.d, sizeof a.d) != 0 || memcmp(b.d, o.d, sizeof b.d) != 0)
            return KDC_ERR_SHAPE;
        for (w = 0; w < 3; w++) /* (M, e) of a, b, out; e_a, e_b <= 0 */
            if (!kdc__qok(rds32(r + KDC__OP_ADD_MA + 8 * w), rds32(r + KDC__OP_ADD_EA + 8 * w)) ||
                (w < 2 && rds32(r + KDC__OP_ADD_EA + 8 * w) > 0))
                return KDC_ERR_QPARAM;
        break;
    case KDC_OP_RESHAPE:
        if (s8(r[KDC__OP_ACT_MIN]) != -128 || s8(r[KDC__OP_ACT_MAX]) != 127)
            return KDC_ERR_OP_PARAM;
        if (a.size != o.size) return KDC_ERR_SHAPE;
        break;
    default: /* KDC_OP_CLAMP */
        if (a.size != o.size || memcmp(a.d, o.d, sizeof a.d) != 0) return KDC_ERR_SHAPE;
        break;
    }
    if (pr->consts) {
        kdc_status st = kdc__check_consts(m, r, wbytes, n_out, v);
        if (st != KDC_OK) return st;
    }
    if (pr->same_q && !kdc__same_q(&a, &o)) return KDC_ERR_SHAPE;
    return KDC_OK;
}

kdc_status kdc_init(kdc_model *m, const uint8_t *artifact, size_t len, uint8_t *arena,
                    size_t arena_len, unsigned flags)
{
    kdc_info info;
    const uint8_t *b;
    uint32_t raw, i, co;
    uint64_t end, macs = 0;
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
    if (info.flags & KDC_FLAG_COMPRESSED) return KDC_ERR_COMPRESSED; /* kdc_unpack first */
    if (len < info.total_bytes) return KDC_ERR_TRUNCATED;            /* body must be there */
    raw = (uint32_t)info.raw_body_bytes;
    b = artifact + KDC__HDR_BYTES;
    if (!(flags & KDC_INIT_SKIP_CRC) && kdc_crc32(0, b, raw) != rd32(artifact + KDC__HDR_BODY_CRC))
        return KDC_ERR_BODY_CRC;
    m->body = b;
    m->n_tensors = rd16(b + KDC__BODY_N_TENSORS);
    m->n_ops = rd16(b + KDC__BODY_N_OPS);
    m->input_id = rd16(b + KDC__BODY_INPUT_ID);
    m->output_id = rd16(b + KDC__BODY_OUTPUT_ID);
    m->tensors_off = rd32(b + KDC__BODY_TENSORS_OFFSET);
    m->ops_off = rd32(b + KDC__BODY_OPS_OFFSET);
    co = rd32(b + KDC__BODY_CONST_OFFSET);
    v.const_bytes = rd32(b + KDC__BODY_CONST_BYTES);
    v.const_end = 0;
    /* tables and constant section inside the body, 4-byte aligned */
    if (m->tensors_off % 4 || m->ops_off % 4 || co % 4) return KDC_ERR_BODY_LAYOUT;
    end = (uint64_t)m->tensors_off + (uint64_t)m->n_tensors * KDC__TENSOR_RECORD_BYTES;
    if (m->tensors_off < KDC__BODY_HEADER_BYTES || end > raw) return KDC_ERR_BODY_LAYOUT;
    end = (uint64_t)m->ops_off + (uint64_t)m->n_ops * KDC__OP_RECORD_BYTES;
    if (m->ops_off < KDC__BODY_HEADER_BYTES || end > raw) return KDC_ERR_BODY_LAYOUT;
    if ((uint64_t)co + v.const_bytes > raw) return KDC_ERR_BODY_LAYOUT;
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
    for (i = 0; i < m->n_ops; i++) {
        st = kdc__check_op(m, i, &v);
        if (st != KDC_OK) return st;
        kdc__work(m, i, &macs, &scratch);
    }
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

/* The call of each kind: parameters decoded, then the kernel called directly. */
#define KDC__RUN_FC(fn) (kdc__consts(m, r, &c), KDC__DECODE_FC, fn(y, x, &c, &u.fc, m->scratch))
#define KDC__RUN_CONV(fn)                                                                          \
    (kdc__consts(m, r, &c), KDC__DECODE_CONV, fn(y, x, &c, &u.conv, m->scratch))
#define KDC__RUN_POOL(fn) (KDC__DECODE_POOL, fn(y, x, &u.conv, m->scratch))
#define KDC__RUN_GAP(fn) (KDC__DECODE_GAP, fn(y, x, &u.gap, m->scratch))
#define KDC__RUN_ADD(fn)                                                                           \
    (KDC__DECODE_ADD, fn(y, x, (const int8_t *)(m->arena + b.off), &u.add, m->scratch))
#define KDC__RUN_COPY(fn)                                                                          \
    if (y != x) fn(y, x, o.size)
#define KDC__RUN_CLAMP(fn) (KDC__DECODE_CLAMP, fn(y, x, &u.clamp, m->scratch))

kdc_status kdc_invoke(kdc_model *m)
{
    uint32_t i;
    if (!m || !m->arena) return KDC_ERR_NULL;
    for (i = 0; i < m->n_ops; i++) {
        const uint8_t *r = kdc__orec(m, i);
        kdc__t a, b, o;
        kdc__params u;
        kdc_consts c;
        int8_t *x, *y;
        kdc__tensor(m, rd16(r + KDC__OP_INPUT0), &a);
        kdc__tensor(m, rd16(r + KDC__OP_OUTPUT), &o);
        x = (int8_t *)(m->arena + a.off);
        y = (int8_t *)(m->arena + o.off);
        switch (r[KDC__OP_CODE]) {
#define KDC__INVOKE(code, name, inputs, params, consts, same_q, kind, macs, kernel)                \
    case code: KDC__RUN_##kind(kernel); break;
            KDC_OP_TABLE(KDC__INVOKE)
#undef KDC__INVOKE
        default: break; /* not reached: kdc_init checked every op code */
        }
        if (m->callback) m->callback(m->callback_user, i, r[KDC__OP_CODE], y, o.size);
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
    static const char *const text[KDC_STATUS_COUNT] = {
        "ok",
        "NULL argument or model not loaded",
        "buffer not 4-byte aligned",
        "big-endian CPU",
        "truncated",
        "bad magic",
        "unsupported version",
        "header CRC mismatch",
        "bad header field",
        "compressed: kdc_unpack first",
        "not compressed",
        "dst too small",
        "bad zlib stream",
        "Adler-32 mismatch",
        "raw size mismatch",
        "body CRC mismatch",
        "bad body layout",
        "bad tensor",
        "shape overflow",
        "bad tensor id",
        "unknown op code",
        "bad op parameter",
        "shape mismatch",
        "constant out of range or order",
        "bad multiplier/shift",
        "tensor outside arena",
        "output overlaps input",
        "bad graph order",
        "arena too small: see arena_needed",
    };
    return (unsigned)s < KDC_STATUS_COUNT ? text[s] : "unknown status";
}
