/* kdc_model.c - artifact header, validation (kdc_init), execution (kdc_invoke).
 *
 * Layout constants follow docs/FORMAT.md. All multi-byte fields are read
 * byte by byte (little-endian); every offset is checked against its length
 * before use so kdc_invoke can run without checks. */
#include "kdc.h"

#include <string.h>

#define HDR KDC_HEADER_BYTES
#define BODY_HDR 24u
#define TENSOR_REC 32u
#define OP_REC 48u
#define NO_TENSOR 0xffffu
#define MAX_REDUCE 65536u

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

kdc_status kdc_query(const uint8_t *buf, size_t len, kdc_info *out)
{
    uint32_t flags, stored, raw, arena;
    if (!buf || !out) return KDC_ERR_NULL;
    if (len < HDR) return KDC_ERR_TRUNCATED;                         /* header must be there */
    if (memcmp(buf, "KDCM", 4) != 0) return KDC_ERR_MAGIC;           /* magic */
    if (rd16(buf + 4) != KDC_FORMAT_VERSION) return KDC_ERR_VERSION; /* version */
    if (kdc_crc32(0, buf, 28) != rd32(buf + 28)) return KDC_ERR_HEADER_CRC;
    flags = rd16(buf + 6);
    stored = rd32(buf + 12);
    raw = rd32(buf + 16);
    arena = rd32(buf + 20);
    if (rd16(buf + 8) != HDR || rd16(buf + 10) != 0) return KDC_ERR_HEADER; /* size, reserved */
    if (flags & ~KDC_FLAG_COMPRESSED) return KDC_ERR_HEADER;                /* unknown flags */
    if (!(flags & KDC_FLAG_COMPRESSED) && stored != raw) return KDC_ERR_HEADER;
    if ((flags & KDC_FLAG_COMPRESSED) && stored < 6) return KDC_ERR_HEADER; /* zlib minimum */
    if (raw < BODY_HDR || arena == 0) return KDC_ERR_HEADER;
    if (stored > 0x7fffffffu - HDR || raw > 0x7fffffffu - HDR) return KDC_ERR_HEADER; /* < 2 GiB */
    out->version = KDC_FORMAT_VERSION;
    out->flags = flags;
    out->total_bytes = (size_t)HDR + stored;
    out->raw_body_bytes = raw;
    out->arena_bytes = arena;
    out->unpack_bytes = (flags & KDC_FLAG_COMPRESSED) ? (size_t)HDR + raw : 0;
    return KDC_OK;
}

kdc_status kdc_unpack(const uint8_t *src, size_t src_len, uint8_t *dst, size_t dst_len,
                      size_t *written)
{
    kdc_info info;
    size_t n;
    kdc_status st;
    if (!dst) return KDC_ERR_NULL;
    st = kdc_query(src, src_len, &info);
    if (st != KDC_OK) return st;
    if (!(info.flags & KDC_FLAG_COMPRESSED)) return KDC_ERR_NOT_COMPRESSED;
    if (src_len < info.total_bytes) return KDC_ERR_TRUNCATED;
    if (dst_len < info.unpack_bytes) return KDC_ERR_DST_TOO_SMALL;
    n = info.raw_body_bytes;
    st = kdc_zlib_uncompress(dst + HDR, &n, src + HDR, info.total_bytes - HDR);
    if (st == KDC_ERR_DST_TOO_SMALL) return KDC_ERR_RAW_SIZE; /* inflates to more than declared */
    if (st != KDC_OK) return st;
    if (n != info.raw_body_bytes) return KDC_ERR_RAW_SIZE; /* inflates to less */
    if (kdc_crc32(0, dst + HDR, n) != rd32(src + 24)) return KDC_ERR_BODY_CRC;
    memcpy(dst, src, HDR);
    dst[6] = (uint8_t)(info.flags & ~KDC_FLAG_COMPRESSED);
    dst[7] = 0;
    wr32(dst + 12, (uint32_t)n);
    wr32(dst + 28, kdc_crc32(0, dst, 28));
    if (written) *written = HDR + n;
    return KDC_OK;
}

/* ---- tensors ------------------------------------------------------- */

typedef struct {
    uint32_t rank, d[4], off, size, scale_bits;
    int32_t zp;
} kdc__t;

static void kdc__tensor(const kdc_model *m, uint32_t id, kdc__t *t)
{
    const uint8_t *p = m->body + m->tensors_off + (size_t)id * TENSOR_REC;
    uint32_t i;
    t->rank = p[0];
    for (i = 0; i < 4; i++) t->d[i] = rd16(p + 4 + 2 * i);
    t->scale_bits = rd32(p + 12);
    t->zp = rds32(p + 16);
    t->off = rd32(p + 20);
    t->size = rd32(p + 24);
}

/* Validate one tensor record. */
static kdc_status kdc__check_tensor(const kdc_model *m, uint32_t id, uint32_t arena)
{
    const uint8_t *p = m->body + m->tensors_off + (size_t)id * TENSOR_REC;
    kdc__t t;
    uint64_t prod = 1;
    uint32_t i;
    kdc__tensor(m, id, &t);
    if (t.rank < 1 || t.rank > 4) return KDC_ERR_TENSOR; /* rank 1..4 */
    if (p[1] != 0 || rd16(p + 2) != 0 || rd32(p + 28) != 0)
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

/* ---- ops ----------------------------------------------------------- */

/* Which 4-byte parameter words (bytes 12 + 4*i) an op uses; the rest must be 0. */
static int kdc__param_mask(unsigned op)
{
    switch (op) {
    case KDC_OP_FULLY_CONNECTED: return 0x0f0;
    case KDC_OP_CONV_2D: return 0x0f7;
    case KDC_OP_DEPTHWISE_CONV_2D: return 0x0ff;
    case KDC_OP_MAX_POOL_2D:
    case KDC_OP_AVERAGE_POOL_2D: return 0x007;
    case KDC_OP_ADD: return 0x03f;
    case KDC_OP_GLOBAL_AVERAGE_POOL:
    case KDC_OP_RESHAPE:
    case KDC_OP_CLAMP: return 0;
    default: return -1;
    }
}

static void kdc__spatial(const uint8_t *r, const kdc__t *in, const kdc__t *out, kdc_conv_params *p)
{
    kdc__hwc(in, &p->in_h, &p->in_w, &p->in_c);
    kdc__hwc(out, &p->out_h, &p->out_w, &p->out_c);
    p->k_h = rd16(r + 12);
    p->k_w = rd16(r + 14);
    p->stride_h = rd16(r + 16);
    p->stride_w = rd16(r + 18);
    p->pad_top = rd16(r + 20);
    p->pad_left = rd16(r + 22);
    p->depth_mult = rd16(r + 24);
    p->zx = in->zp;
    p->zy = out->zp;
    p->act_min = s8(r[1]);
    p->act_max = s8(r[2]);
}

/* constant array [off, off + n*elem) inside the constant section, aligned to elem */
static int kdc__const_ok(const kdc_model *m, uint32_t off, uint64_t n, uint32_t elem,
                         uint32_t const_bytes)
{
    (void)m;
    return off % elem == 0 && off <= const_bytes && n * elem <= const_bytes - off;
}

static int kdc__qok(int32_t M, int32_t e)
{
    return (M == 0 || M >= 0x40000000) && e >= -31 && e <= 30;
}

/* Validate the weights, bias and requant arrays of FC/conv/depthwise. */
static kdc_status kdc__check_weights(const kdc_model *m, const uint8_t *r, uint64_t wbytes,
                                     uint32_t n, uint32_t cb)
{
    uint32_t wo = rd32(r + 28), bo = rd32(r + 32), mo = rd32(r + 36), so = rd32(r + 40), i;
    if (!kdc__const_ok(m, wo, wbytes, 1, cb) || !kdc__const_ok(m, bo, n, 4, cb) ||
        !kdc__const_ok(m, mo, n, 4, cb) || !kdc__const_ok(m, so, n, 4, cb))
        return KDC_ERR_CONST_RANGE;
    for (i = 0; i < n; i++)
        if (!kdc__qok(rds32(m->consts + mo + 4 * i), rds32(m->consts + so + 4 * i)))
            return KDC_ERR_QPARAM;
    return KDC_OK;
}

static kdc_status kdc__check_op(const kdc_model *m, uint32_t i, uint32_t cb)
{
    const uint8_t *r = m->body + m->ops_off + (size_t)i * OP_REC;
    unsigned op = r[0];
    int mask = kdc__param_mask(op), w;
    uint32_t in0 = rd16(r + 4), in1 = rd16(r + 6), out = rd16(r + 8), j;
    kdc__t a, b, o;
    kdc_conv_params p;
    if (mask < 0) return KDC_ERR_OPCODE; /* unknown op code */
    if (r[3] != 0 || rd16(r + 10) != 0) return KDC_ERR_OP_PARAM;
    for (w = 0; w < 9; w++)
        if (!(mask >> w & 1) && rd32(r + 12 + 4 * w) != 0)
            return KDC_ERR_OP_PARAM;                  /* unused params 0 */
    if (s8(r[1]) > s8(r[2])) return KDC_ERR_OP_PARAM; /* act_min <= act_max */
    if (in0 >= m->n_tensors || out >= m->n_tensors) return KDC_ERR_TENSOR_ID;
    if (op == KDC_OP_ADD ? in1 >= m->n_tensors : in1 != NO_TENSOR) return KDC_ERR_TENSOR_ID;
    /* graph order: inputs already produced, output produced once, never the graph input */
    if (out == m->input_id) return KDC_ERR_GRAPH;
    {
        int have0 = in0 == m->input_id, have1 = op != KDC_OP_ADD || in1 == m->input_id;
        for (j = 0; j < i; j++) {
            uint32_t o2 = rd16(m->body + m->ops_off + (size_t)j * OP_REC + 8);
            if (o2 == out) return KDC_ERR_GRAPH;
            have0 |= o2 == in0;
            have1 |= o2 == in1;
        }
        if (!have0 || !have1) return KDC_ERR_GRAPH;
    }
    kdc__tensor(m, in0, &a);
    kdc__tensor(m, out, &o);
    if (op == KDC_OP_ADD) kdc__tensor(m, in1, &b);
    /* output must not overlap an input (reshape may alias its input exactly) */
    if (kdc__overlap(&o, &a) && !(op == KDC_OP_RESHAPE && o.off == a.off)) return KDC_ERR_ALIAS;
    if (op == KDC_OP_ADD && kdc__overlap(&o, &b)) return KDC_ERR_ALIAS;

    switch (op) {
    case KDC_OP_FULLY_CONNECTED:
        if (a.size > MAX_REDUCE) return KDC_ERR_SHAPE;
        return kdc__check_weights(m, r, (uint64_t)a.size * o.size, o.size, cb);
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
        if (taps > MAX_REDUCE) return KDC_ERR_OP_PARAM;
        /* the last window must start inside the input (so no window is empty) */
        if ((uint64_t)(p.out_h - 1) * p.stride_h >= p.in_h + p.pad_top ||
            (uint64_t)(p.out_w - 1) * p.stride_w >= p.in_w + p.pad_left)
            return KDC_ERR_SHAPE;
        if (op == KDC_OP_CONV_2D) {
            if (taps * p.in_c > MAX_REDUCE) return KDC_ERR_SHAPE;
            return kdc__check_weights(m, r, taps * p.in_c * p.out_c, (uint32_t)p.out_c, cb);
        }
        if (op == KDC_OP_DEPTHWISE_CONV_2D) {
            if (rd16(r + 26) != 0 || p.depth_mult == 0) return KDC_ERR_OP_PARAM;
            if (p.out_c != p.in_c * p.depth_mult) return KDC_ERR_SHAPE;
            return kdc__check_weights(m, r, taps * p.out_c, (uint32_t)p.out_c, cb);
        }
        if (p.out_c != p.in_c) return KDC_ERR_SHAPE;
        return kdc__same_q(&a, &o) ? KDC_OK : KDC_ERR_SHAPE;
    }
    case KDC_OP_GLOBAL_AVERAGE_POOL:
        if (!kdc__hwc(&a, &p.in_h, &p.in_w, &p.in_c) || o.size != p.in_c) return KDC_ERR_SHAPE;
        if ((uint64_t)p.in_h * p.in_w > (1u << 24)) return KDC_ERR_SHAPE;
        return kdc__same_q(&a, &o) ? KDC_OK : KDC_ERR_SHAPE;
    case KDC_OP_ADD: {
        int32_t q[6];
        for (w = 0; w < 6; w++) q[w] = rds32(r + 12 + 4 * w);
        if (a.size != o.size || b.size != o.size || a.rank != o.rank || b.rank != o.rank ||
            memcmp(a.d, o.d, sizeof a.d) != 0 || memcmp(b.d, o.d, sizeof b.d) != 0)
            return KDC_ERR_SHAPE;
        if (!kdc__qok(q[0], q[1]) || !kdc__qok(q[2], q[3]) || !kdc__qok(q[4], q[5]) || q[1] > 0 ||
            q[3] > 0)
            return KDC_ERR_QPARAM;
        return KDC_OK;
    }
    case KDC_OP_RESHAPE:
        if (s8(r[1]) != -128 || s8(r[2]) != 127) return KDC_ERR_OP_PARAM;
        /* fall through */
    default: /* KDC_OP_CLAMP */
        if (a.size != o.size || !kdc__same_q(&a, &o)) return KDC_ERR_SHAPE;
        if (op == KDC_OP_CLAMP && memcmp(a.d, o.d, sizeof a.d) != 0) return KDC_ERR_SHAPE;
        return KDC_OK;
    }
}

kdc_status kdc_init(kdc_model *m, const uint8_t *artifact, size_t len, uint8_t *arena,
                    size_t arena_len, unsigned flags)
{
    kdc_info info;
    const uint8_t *b;
    uint32_t raw, i, cb, co;
    uint64_t end;
    const uint32_t one = 1;
    kdc_status st;
    if (!m || !artifact) return KDC_ERR_NULL;
    memset(m, 0, sizeof *m);
    if (*(const uint8_t *)&one != 1) return KDC_ERR_BIG_ENDIAN; /* int32 read in place */
    if ((uintptr_t)artifact % 4 != 0) return KDC_ERR_ALIGN;     /* int32 arrays in place */
    st = kdc_query(artifact, len, &info);
    if (st != KDC_OK) return st;
    m->arena_needed = info.arena_bytes;
    if (info.flags & KDC_FLAG_COMPRESSED) return KDC_ERR_COMPRESSED; /* kdc_unpack first */
    if (len < info.total_bytes) return KDC_ERR_TRUNCATED;            /* body must be there */
    raw = (uint32_t)info.raw_body_bytes;
    b = artifact + HDR;
    if (!(flags & KDC_INIT_SKIP_CRC) && kdc_crc32(0, b, raw) != rd32(artifact + 24))
        return KDC_ERR_BODY_CRC;
    m->body = b;
    m->n_tensors = rd16(b);
    m->n_ops = rd16(b + 2);
    m->input_id = rd16(b + 4);
    m->output_id = rd16(b + 6);
    m->tensors_off = rd32(b + 8);
    m->ops_off = rd32(b + 12);
    co = rd32(b + 16);
    cb = rd32(b + 20);
    /* tables and constant section inside the body, 4-byte aligned */
    if (m->tensors_off % 4 || m->ops_off % 4 || co % 4) return KDC_ERR_BODY_LAYOUT;
    end = (uint64_t)m->tensors_off + (uint64_t)m->n_tensors * TENSOR_REC;
    if (m->tensors_off < BODY_HDR || end > raw) return KDC_ERR_BODY_LAYOUT;
    end = (uint64_t)m->ops_off + (uint64_t)m->n_ops * OP_REC;
    if (m->ops_off < BODY_HDR || end > raw) return KDC_ERR_BODY_LAYOUT;
    if ((uint64_t)co + cb > raw) return KDC_ERR_BODY_LAYOUT;
    if (m->n_tensors == 0 || m->n_ops == 0) return KDC_ERR_BODY_LAYOUT;
    m->consts = b + co;
    if (m->input_id >= m->n_tensors || m->output_id >= m->n_tensors) return KDC_ERR_TENSOR_ID;
    for (i = 0; i < m->n_tensors; i++) {
        st = kdc__check_tensor(m, i, (uint32_t)info.arena_bytes);
        if (st != KDC_OK) return st;
    }
    {
        int produced = 0;
        for (i = 0; i < m->n_ops; i++) {
            st = kdc__check_op(m, i, cb);
            if (st != KDC_OK) return st;
            produced |= rd16(b + m->ops_off + (size_t)i * OP_REC + 8) == m->output_id;
        }
        if (!produced) return KDC_ERR_GRAPH; /* graph output never written */
    }
    if (!arena || arena_len < info.arena_bytes) return KDC_ERR_ARENA_TOO_SMALL;
    m->arena = arena;
    return KDC_OK;
}

/* ---- execution ----------------------------------------------------- */

kdc_status kdc_invoke(kdc_model *m)
{
    uint32_t i;
    if (!m || !m->arena) return KDC_ERR_NULL;
    for (i = 0; i < m->n_ops; i++) {
        const uint8_t *r = m->body + m->ops_off + (size_t)i * OP_REC;
        kdc__t a, b, o;
        kdc_conv_params p;
        int8_t *y, *x;
        const int8_t *wt = 0;
        const int32_t *bias = 0, *mult = 0, *shift = 0;
        int32_t lo = s8(r[1]), hi = s8(r[2]);
        kdc__tensor(m, rd16(r + 4), &a);
        kdc__tensor(m, rd16(r + 8), &o);
        x = (int8_t *)(m->arena + a.off);
        y = (int8_t *)(m->arena + o.off);
        if (r[0] <= KDC_OP_DEPTHWISE_CONV_2D) { /* ops with constants (validated in range) */
            wt = (const int8_t *)(m->consts + rd32(r + 28));
            bias = (const int32_t *)(const void *)(m->consts + rd32(r + 32));
            mult = (const int32_t *)(const void *)(m->consts + rd32(r + 36));
            shift = (const int32_t *)(const void *)(m->consts + rd32(r + 40));
        }
        switch (r[0]) {
        case KDC_OP_FULLY_CONNECTED:
            kdc_fc_s8(y, x, wt, bias, mult, shift, a.zp, o.zp, lo, hi, a.size, o.size);
            break;
        case KDC_OP_CONV_2D:
        case KDC_OP_DEPTHWISE_CONV_2D:
        case KDC_OP_MAX_POOL_2D:
        case KDC_OP_AVERAGE_POOL_2D:
            kdc__spatial(r, &a, &o, &p);
            if (r[0] == KDC_OP_CONV_2D)
                kdc_conv2d_s8(y, x, wt, bias, mult, shift, &p);
            else if (r[0] == KDC_OP_DEPTHWISE_CONV_2D)
                kdc_dwconv2d_s8(y, x, wt, bias, mult, shift, &p);
            else if (r[0] == KDC_OP_MAX_POOL_2D)
                kdc_maxpool_s8(y, x, &p);
            else
                kdc_avgpool_s8(y, x, &p);
            break;
        case KDC_OP_GLOBAL_AVERAGE_POOL:
            kdc_global_avgpool_s8(y, x, (size_t)a.d[1] * a.d[2], a.d[3], lo, hi);
            break;
        case KDC_OP_ADD: {
            int32_t q[6], z[3];
            int k;
            for (k = 0; k < 6; k++) q[k] = rds32(r + 12 + 4 * k);
            kdc__tensor(m, rd16(r + 6), &b);
            z[0] = a.zp;
            z[1] = b.zp;
            z[2] = o.zp;
            kdc_add_s8(y, x, (const int8_t *)(m->arena + b.off), q, z, lo, hi, o.size);
            break;
        }
        case KDC_OP_RESHAPE:
            if (y != x) memcpy(y, x, o.size);
            break;
        default: /* KDC_OP_CLAMP */ kdc_clamp_s8(y, x, lo, hi, o.size); break;
        }
        if (m->callback) m->callback(m->callback_user, i, r[0], y, o.size);
    }
    return KDC_OK;
}

static kdc_tensor kdc__public(const kdc_model *m, uint32_t id)
{
    kdc_tensor t;
    kdc__t v;
    size_t i;
    kdc__tensor(m, id, &v);
    t.data = (int8_t *)(m->arena + v.off);
    t.size = v.size;
    t.rank = v.rank;
    for (i = 0; i < 4; i++) t.dims[i] = v.d[i];
    memcpy(&t.scale, &v.scale_bits, sizeof t.scale);
    t.zero_point = v.zp;
    return t;
}

kdc_tensor kdc_input(const kdc_model *m) { return kdc__public(m, m->input_id); }
kdc_tensor kdc_output(const kdc_model *m) { return kdc__public(m, m->output_id); }

void kdc_set_callback(kdc_model *m, kdc_op_callback cb, void *user)
{
    m->callback = cb;
    m->callback_user = user;
}

/* ---- helpers ------------------------------------------------------- */

const char *kdc_status_str(kdc_status s)
{
    static const char *const text[KDC_STATUS_COUNT] = {
        "ok",
        "NULL argument",
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
        "constant out of range",
        "bad multiplier/shift",
        "tensor outside arena",
        "output overlaps input",
        "bad graph order",
        "arena too small: see arena_needed",
    };
    return (unsigned)s < KDC_STATUS_COUNT ? text[s] : "unknown status";
}

size_t kdc_argmax(const int8_t *x, size_t n)
{
    size_t i, best = 0;
    for (i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

float kdc_dequantize(int8_t q, float scale, int32_t zero_point)
{
    return scale * (float)((int32_t)q - zero_point);
}

int8_t kdc_quantize(float x, float scale, int32_t zero_point)
{
    float v = x / scale, f;
    int32_t r;
    if (v != v) v = 0.0f;         /* NaN */
    if (v > 1000.0f) v = 1000.0f; /* far outside int8 anyway; keeps the cast defined */
    if (v < -1000.0f) v = -1000.0f;
    r = (int32_t)v;                  /* toward zero */
    f = v - (float)r;                /* exact for |v| < 2^23; no double, no libm */
    r += (f >= 0.5f) - (f <= -0.5f); /* round half away from zero */
    r += zero_point;
    return (int8_t)(r < -128 ? -128 : r > 127 ? 127 : r);
}

void kdc_quantize_array(int8_t *y, const float *x, size_t n, float scale, int32_t zero_point)
{
    size_t i;
    for (i = 0; i < n; i++) y[i] = kdc_quantize(x[i], scale, zero_point);
}
